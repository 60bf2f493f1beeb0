/**
 * Under `operon run`: a metric of the operator's own appears on `--metrics-address` beside
 * Operon's (its registry reaches startup handlers as `ctx.metrics`), and a startup handler posts
 * an Event about an object outside any resource handler (`ctx.info`).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { builtin } from '../../src/index.ts';
import { waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { freePort, operonRun } from '../support/processes.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('operator-metrics');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());
const configmaps = builtin('v1', 'ConfigMap');
const events = builtin('v1', 'Event');

describe('operon run: custom metrics and Events outside handlers', () => {
  it('serves the operator’s own counter on /metrics and posts its startup Event', async () => {
    const port = await freePort();
    const fixture = fileURLToPath(new URL('./fixtures/metrics-operator.ts', import.meta.url));
    const operon = operonRun([fixture, '--no-check', '-n', ns, '--kubeconfig', cluster.kubeconfig, '--metrics-address', `127.0.0.1:${port}`, '--quiet'], { ...process.env, FIXTURE_NAMESPACE: ns });

    const started = await waitFor(client, configmaps, 'operator-marker', ns, (o) => o !== undefined, { timeoutMs: 30_000, what: `the startup handler's ConfigMap (stderr: ${operon.stderr()})` });
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
    operon.child.kill('SIGTERM');
  });
});
