/**
 * `operon run --liveness URL` as kopf's flag: the URL's host and port are where probes are served,
 * and its path answers as `/healthz` does (kopf probes whatever path the URL names).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, useCluster } from '../support/cluster.ts';
import { FROM_SOURCE } from '../support/source.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('run-liveness');

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('operon run --liveness', () => {
  it("serves the URL's path as the liveness probe, beside /healthz and /readyz", async () => {
    const port = await freePort();
    const fixture = fileURLToPath(new URL('./fixtures/metrics-operator.ts', import.meta.url));
    const child = spawn(process.execPath, [...FROM_SOURCE, 'src/cli/main.ts', 'run', fixture, '--no-check', '-n', ns, '--kubeconfig', cluster.kubeconfig, '--liveness', `http://127.0.0.1:${port}/alive`, '--quiet'], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env: { ...process.env, FIXTURE_NAMESPACE: ns },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    after(() => child.kill('SIGKILL'));

    const status = (path: string) => fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.status, () => 0);
    await eventually(async () => (await status('/readyz')) === 200, { timeoutMs: 30_000, what: `the operator ready on :${port} (stderr: ${stderr})` });
    assert.equal(await status('/alive'), 200);
    assert.equal(await status('/healthz'), 200);
    assert.equal(await status('/elsewhere'), 404);
    child.kill('SIGTERM');
  });
});
