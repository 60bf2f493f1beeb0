/**
 * Operator-level schedules under leader election on a real API server: only the replica holding
 * the Lease runs them; when it stops (and releases the Lease), the standby takes over and its
 * schedule starts, and the stopped replica's schedule runs no more.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { builtin, Registry, resource, schedule } from '../../src/index.ts';
import { LEASES_RESOURCE } from '../../src/runtime/leader-election.ts';
import { startOperator, type OperatorRun } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('schedules');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const runs: Array<{ who: string; at: number }> = [];
function replica(who: string, lease = 'schedules-test'): OperatorRun {
  const registry = new Registry();
  // A resource to watch, as a real operator has; the schedule is what this test looks at.
  resource(builtin('v1', 'ConfigMap'), { registry }).onCreate(() => {}, { labels: { never: 'matches' } });
  schedule(() => void runs.push({ who, at: Date.now() }), { interval: '200ms', initialDelay: '50ms', id: 'sweep', registry });
  return startOperator(registry, {
    client,
    namespaces: [ns],
    leaderElection: { lease, namespace: ns, identity: who, leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 },
  });
}

describe('schedules', () => {
  it('run on the leader only, and move with the Lease', async () => {
    const first = replica('first');
    after(() => first.stop());
    await first.operator.whenLeading();
    const second = replica('second');
    after(() => second.stop());
    await second.ready;
    await eventually(() => runs.filter((r) => r.who === 'first').length >= 3, { timeoutMs: 30_000, what: 'three runs on the leader' });
    assert.deepEqual([...new Set(runs.map((r) => r.who))], ['first'], 'the standby runs no schedule');

    await first.stop();
    const stoppedAt = Date.now();
    await second.operator.whenLeading();
    await eventually(() => runs.filter((r) => r.who === 'second').length >= 2, { timeoutMs: 30_000, what: 'runs on the new leader' });
    assert.equal(runs.filter((r) => r.who === 'first' && r.at > stoppedAt).length, 0, 'a stopped replica runs its schedule no more');
  });

  it('stop on the replica that loses its Lease to another holder', async () => {
    const leaderRun = replica('losing', 'schedules-lost');
    after(() => leaderRun.stop());
    await leaderRun.operator.whenLeading();
    await eventually(() => runs.filter((r) => r.who === 'losing').length >= 2, { timeoutMs: 30_000, what: 'runs on the leader' });
    // Another holder takes the Lease over (as after a missed renewal): the leader must notice and stop.
    await client.patch(LEASES_RESOURCE, 'schedules-lost', { type: 'merge', body: { spec: { holderIdentity: 'intruder', leaseDurationSeconds: 4, renewTime: new Date().toISOString().replace('Z', '000Z') } } }, { namespace: ns });
    await assert.rejects(leaderRun.done, /lost|leader/i);
    const lostAt = Date.now();
    const next = replica('next', 'schedules-lost');
    after(() => next.stop());
    await next.operator.whenLeading();
    await eventually(() => runs.filter((r) => r.who === 'next').length >= 2, { timeoutMs: 30_000, what: 'runs on the next leader' });
    assert.equal(runs.filter((r) => r.who === 'losing' && r.at > lostAt).length, 0, 'the replica that lost its Lease runs its schedule no more');
  });
});
