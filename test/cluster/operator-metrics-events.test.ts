/**
 * Under `operon run`: a metric of the operator's own appears on `--metrics-address` beside
 * Operon's (its registry reaches startup handlers as `ctx.metrics`), and a startup handler posts
 * an Event about an object outside any resource handler (`ctx.info`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { builtin } from '../../src/index.ts';
import { waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { FROM_SOURCE } from '../support/source.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('operator-metrics');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());
const configmaps = builtin('v1', 'ConfigMap');
const events = builtin('v1', 'Event');

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('operon run: custom metrics and Events outside handlers', () => {
  it('serves the operator’s own counter on /metrics and posts its startup Event', async () => {
    const port = await freePort();
    const fixture = fileURLToPath(new URL('./fixtures/metrics-operator.ts', import.meta.url));
    const child = spawn(process.execPath, [...FROM_SOURCE, 'src/cli/main.ts', 'run', fixture, '--no-check', '-n', ns, '--kubeconfig', cluster.kubeconfig, '--metrics-address', `127.0.0.1:${port}`, '--quiet'], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env: { ...process.env, FIXTURE_NAMESPACE: ns },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    after(() => child.kill('SIGKILL'));

    const started = await waitFor(client, configmaps, 'operator-marker', ns, (o) => o !== undefined, { timeoutMs: 30_000, what: `the startup handler's ConfigMap (stderr: ${stderr})` });
    for (const name of ['a', 'b']) {
      await client.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels: { counted: 'yes' } } });
    }
    let exposition = '';
    await eventually(
      async () => {
        exposition = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
        return /fixture_configmaps_handled_total\{kind="created"\} 2/.test(exposition);
      },
      { timeoutMs: 30_000, what: 'the custom counter at 2' },
    );
    assert.match(exposition, /controller_runtime_reconcile_total/, "Operon's own metrics beside it");

    assert.ok(started);
    await eventually(
      async () => {
        const list = await client.list(events, { namespace: ns, fieldSelector: 'involvedObject.name=operator-marker' });
        return list.items.some((e) => e.reason === 'OperatorStarted' && e.message === 'the fixture operator started');
      },
      { timeoutMs: 30_000, what: 'the OperatorStarted Event' },
    );
    child.kill('SIGTERM');
  });
});
