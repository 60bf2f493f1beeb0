/**
 * The engine's promises on a real API server: a burst of changes to one object coalesces into a
 * few runs on its final state, never two runs of one object at once; and a write that meets a 409
 * Conflict (someone else changed the object meanwhile) is retried without losing either change.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { Registry, resource, Type } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('engine');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
const counters = resource(
  {
    group: 'engine.test.operon.dev',
    version: 'v1',
    kind: 'Counter',
    spec: Type.Object({ n: Type.Integer() }),
    status: Type.Object({ seen: Type.Optional(Type.Integer()) }, { additionalProperties: true }),
  },
  { registry },
);
await installCrd(client, counters);

/** Every run of the reconcile handler: the object, the value it saw, and how many ran at once. */
const runs: Array<{ name: string; n: number; concurrent: number }> = [];
const running = new Map<string, number>();
/** Objects whose first run waits until the test has changed them behind the handler's back. */
const holdFirstRun = new Map<string, Promise<void>>();

counters.reconcile(async ({ name, spec, status, patch }) => {
  running.set(name, (running.get(name) ?? 0) + 1);
  try {
    runs.push({ name, n: spec.n, concurrent: running.get(name) ?? 0 });
    const hold = holdFirstRun.get(name);
    if (hold) {
      holdFirstRun.delete(name);
      await hold;
    }
    // A slow handler, so that changes pile up while it runs.
    await new Promise((r) => setTimeout(r, 150));
    if (status.seen !== spec.n) patch.status.seen = spec.n;
  } finally {
    running.set(name, (running.get(name) ?? 1) - 1);
  }
});

const run = startOperator(registry, { client, namespaces: [ns] });
after(() => run.stop());
await run.ready;

const counter = (name: string, n: number) => ({ apiVersion: counters.apiVersion, kind: counters.kind, metadata: { name, namespace: ns }, spec: { n } });

describe('the engine on a real API server', () => {
  it('coalesces a burst of 100 updates to one object into a few runs on the final state, one at a time', async () => {
    await client.create(counters, counter('burst', 0));
    await waitFor(client, counters, 'burst', ns, (c) => c?.status?.seen === 0);
    const before = runs.filter((r) => r.name === 'burst').length;
    for (let n = 1; n <= 100; n++) {
      await client.patch(counters, 'burst', { type: 'merge', body: { spec: { n } } }, { namespace: ns });
    }
    await waitFor(client, counters, 'burst', ns, (c) => c?.status?.seen === 100, { timeoutMs: 60_000 });
    const burstRuns = runs.filter((r) => r.name === 'burst').slice(before);
    assert.ok(burstRuns.length < 50, `100 updates took ${burstRuns.length} runs; coalescing should need far fewer`);
    assert.equal(burstRuns.at(-1)?.n, 100, 'the last run saw the final state');
    assert.ok(runs.every((r) => r.concurrent === 1), 'never two runs of one object at once');
  });

  it('retries a write that meets a 409 Conflict, keeping both its own change and the other writer\'s', async () => {
    let release!: () => void;
    holdFirstRun.set('conflicted', new Promise<void>((r) => (release = r)));
    await client.create(counters, counter('conflicted', 7));
    // While the handler holds the object it read, another writer changes it: the handler's write
    // was made against an older resourceVersion.
    await waitFor(client, counters, 'conflicted', ns, () => runs.some((r) => r.name === 'conflicted'));
    await client.patch(counters, 'conflicted', { type: 'merge', body: { metadata: { labels: { touched: 'by-someone-else' } } } }, { namespace: ns });
    release();
    const done = await waitFor(client, counters, 'conflicted', ns, (c) => c?.status?.seen === 7, { timeoutMs: 60_000 });
    assert.equal(done?.metadata.labels?.['touched'], 'by-someone-else', 'the other writer\'s change survives');
  });
});
