/**
 * `operon run --liveness URL` as kopf's flag: the URL's host and port are where probes are served,
 * and its path answers as `/healthz` does (kopf probes whatever path the URL names).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, useCluster } from '../support/cluster.ts';
import { freePort, operonRun } from '../support/processes.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('run-liveness');

describe('operon run --liveness', () => {
  it("serves the URL's path as the liveness probe, beside /healthz and /readyz", async () => {
    const port = await freePort();
    const fixture = fileURLToPath(new URL('./fixtures/metrics-operator.ts', import.meta.url));
    const operon = operonRun([fixture, '--no-check', '-n', ns, '--kubeconfig', cluster.kubeconfig, '--liveness', `http://127.0.0.1:${port}/alive`, '--quiet'], { ...process.env, FIXTURE_NAMESPACE: ns });

    const status = (path: string) => fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.status, () => 0);
    await eventually(async () => (await status('/readyz')) === 200, { timeoutMs: 30_000, what: `the operator ready on :${port} (stderr: ${operon.stderr()})` });
    assert.equal(await status('/alive'), 200);
    assert.equal(await status('/healthz'), 200);
    assert.equal(await status('/elsewhere'), 404);
    operon.child.kill('SIGTERM');
  });
});
