/**
 * A failing reconcile handler is retried on its backoff, on a real API server: every attempt
 * comes no sooner than the delay the previous one announced, and `retries: 3` means four
 * attempts before it fails for good. Regression for issue #13, where the watch event of the
 * operator's own failure-record write ran the handler again at once (seven attempts in 40 ms).
 * Each retry's Warning Event says the same thing, so the Events aggregate instead of piling up.
 * Asserted on the recorded order and minimum gaps, never on a tolerance.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { conditionList, Registry, resource, TransportError, Type } from '../../src/index.ts';
import { Metrics } from '../../src/server/metrics.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('reconcile-retries');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
const flakies = resource(
  { group: 'retries.test.operon.dev', version: 'v1', kind: 'Flaky', spec: Type.Object({ n: Type.Integer() }), status: Type.Object({ conditions: Type.Optional(conditionList('HandlerFailing, set by Operon.')) }, { additionalProperties: true }) },
  { registry },
);
await installCrd(client, flakies);

const attempts: number[] = [];
const seen = new Set<string>();
flakies.reconcile(
  ({ name }) => {
    seen.add(name);
    if (name !== 'f1') return;
    attempts.push(performance.now());
    throw new Error('the backend is broken');
  },
  { id: 'always-fails', retries: 3, backoff: { initial: '300ms', max: '2s' } },
);

// Fails once, then succeeds: its HandlerFailing condition turns False.
let healsFailed = false;
flakies.reconcile(
  ({ name }) => {
    if (name !== 'heals' || healsFailed) return;
    healsFailed = true;
    throw new Error('not yet');
  },
  { id: 'heals', backoff: '100ms' },
);

// A failure that heals by itself (the API server unreachable) logs at warn while it is young.
flakies.reconcile(
  ({ name }) => {
    if (name === 'transient') throw new TransportError('connect ECONNREFUSED 127.0.0.1:6443');
  },
  { id: 'transient', retries: 1, backoff: '100ms' },
);

const metrics = await Metrics.load({ defaultMetrics: false });
const run = startOperator(registry, { client, namespaces: [ns], metrics });
after(() => run.stop());
await run.ready;

describe('a reconcile handler that always fails', () => {
  it('regression #13: is retried no sooner than each announced delay, four attempts for retries: 3, then fails for good', async () => {
    await client.create(flakies, { apiVersion: flakies.apiVersion, kind: flakies.kind, metadata: { name: 'f1', namespace: ns }, spec: { n: 1 } });
    await eventually(() => run.logs.some((r) => /always-fails failed permanently/.test(r.msg)), { what: 'the handler to fail for good' });
    // Failed for good means not again for this spec, even when its own failure record's write
    // wakes the object (it used to start the retries over): a status change by someone else
    // wakes it too, and must not run it either.
    await client.patch(flakies, 'f1', { type: 'merge', body: { status: { poke: 1 } } }, { namespace: ns, subresource: 'status' });
    await client.create(flakies, { apiVersion: flakies.apiVersion, kind: flakies.kind, metadata: { name: 'marker', namespace: ns }, spec: { n: 0 } });
    await eventually(() => seen.has('marker'), { what: 'an object created after the poke to be handled' });

    // The handler's own log lines (the recorder also logs each Event it posts).
    const delays = run.logs.filter((r) => /always-fails failed, retrying in/.test(r.msg)).flatMap((r) => {
      const ms = (r as { retryInMs?: unknown }).retryInMs;
      return typeof ms === 'number' ? [ms] : [];
    });
    assert.deepEqual(delays, [300, 600, 1200], 'three retries on the declared backoff');
    assert.equal(attempts.length, 4, 'the first attempt and three retries');
    for (let i = 1; i < attempts.length; i++) {
      const gap = (attempts[i] ?? 0) - (attempts[i - 1] ?? 0);
      // Node's timers count whole milliseconds while performance.now() does not: a timer may fire
      // a fraction of a millisecond "early" on this clock, never a whole one.
      assert.ok(gap > (delays[i - 1] ?? Infinity) - 1, `attempt ${i + 1} came ${Math.round(gap)} ms after attempt ${i}, before its announced ${delays[i - 1]} ms`);
    }

    const retryEvents = run.eventsFor('f1').filter((e) => e.reason === 'HandlerRetrying');
    assert.ok(retryEvents.length >= 1);
    assert.equal(new Set(retryEvents.map((e) => e.message)).size, 1, `one message for every retry, so they aggregate: ${retryEvents.map((e) => e.message).join(' | ')}`);
    assert.doesNotMatch(retryEvents[0]?.message ?? '', /retrying in/);

    // Visible to kubectl get: the framework's HandlerFailing condition, naming the handler.
    const stored = await client.get(flakies, 'f1', { namespace: ns });
    const failing = stored.status?.conditions?.find((c) => c.type === 'HandlerFailing');
    assert.equal(failing?.status, 'True');
    assert.equal(failing?.reason, 'AlwaysFails');
    assert.match(failing?.message ?? '', /^handler always-fails: HandlerRetriesError: .*exhausting its retries/);
    const marker = await client.get(flakies, 'marker', { namespace: ns });
    assert.equal(marker.status?.conditions?.some((c) => c.type === 'HandlerFailing'), undefined, 'no condition where no handler failed');

    // Per-handler counts, for an alert that says which handler keeps failing.
    const runs = await metrics.registry.getSingleMetricAsString('operon_handler_runs_total');
    const count = (result: string): number => Number(new RegExp(`handler="always-fails",result="${result}"} (\\d+)`).exec(runs)?.[1] ?? NaN);
    assert.equal(count('retry'), 3, runs);
    assert.equal(count('failure'), 1, runs);
  });

  it('logs a retried transient failure (the API server unreachable) at warn, not error', async () => {
    await client.create(flakies, { apiVersion: flakies.apiVersion, kind: flakies.kind, metadata: { name: 'transient', namespace: ns }, spec: { n: 1 } });
    await eventually(() => run.logs.some((r) => /transient failed permanently/.test(r.msg)), { what: 'the transient handler to run out of retries' });
    const retry = run.logs.find((r) => /handler transient failed, retrying in/.test(r.msg) && typeof (r as { retryInMs?: unknown }).retryInMs === 'number');
    assert.equal(retry?.level, 'warn');
  });

  it('sets HandlerFailing False once the failing handler succeeds', async () => {
    await client.create(flakies, { apiVersion: flakies.apiVersion, kind: flakies.kind, metadata: { name: 'heals', namespace: ns }, spec: { n: 1 } });
    const healed = await waitFor(client, flakies, 'heals', ns, (f) => f?.status?.conditions?.some((c) => c.type === 'HandlerFailing' && c.status === 'False') === true);
    assert.equal(healed?.status?.conditions?.find((c) => c.type === 'HandlerFailing')?.reason, 'Heals');
  });
});
