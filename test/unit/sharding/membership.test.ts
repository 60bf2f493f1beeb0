import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMember, leaseAction, shardState, type ShardLeaseView } from '../../../src/sharding/membership.ts';

const view = (holder: string | undefined, changedAt = 0): ShardLeaseView => ({
  name: 'shard-a',
  record: { ...(holder !== undefined ? { holderIdentity: holder } : {}), leaseDurationSeconds: 10, leaseTransitions: 2 },
  changedAt,
});

describe('shardState', () => {
  const rows: Array<[string, ShardLeaseView, number, string]> = [
    ['held and seen within the duration', view('shard-a', 1_000), 10_999, 'ready'],
    ['not renewed for one duration', view('shard-a', 1_000), 11_000, 'expired'],
    ['not renewed for almost two durations', view('shard-a', 1_000), 20_999, 'expired'],
    ['not renewed for two durations', view('shard-a', 1_000), 21_000, 'uncertain'],
    ['released (empty holder)', view('', 1_000), 1_000, 'dead'],
    ['acquired by the sharder', view('operon-sharder', 1_000), 1_000, 'dead'],
    ['dead past the orphan delay', view('', 1_000), 1_000 + 10_000 + 60_000, 'orphaned'],
    ['dead just before the orphan delay', view('', 1_000), 1_000 + 10_000 + 59_999, 'dead'],
    ['without a holder', view(undefined), 0, 'unknown'],
    ['without a duration', { name: 'shard-a', record: { holderIdentity: 'shard-a' }, changedAt: 0 }, 0, 'unknown'],
  ];
  for (const [what, lease, now, state] of rows) {
    it(`${what}: ${state}`, () => assert.equal(shardState(lease, now, 60_000), state));
  }

  it('counts ready, expired and uncertain shards as members, and no other', () => {
    assert.deepEqual(
      (['ready', 'expired', 'uncertain', 'dead', 'orphaned', 'unknown'] as const).filter(isMember),
      ['ready', 'expired', 'uncertain'],
    );
  });
});

describe('leaseAction', () => {
  it('acquires an uncertain Lease for the sharder with twice the duration and one more transition', () => {
    assert.deepEqual(leaseAction(view('shard-a'), 'uncertain', 'operon-sharder', 'T'), {
      kind: 'acquire',
      record: { holderIdentity: 'operon-sharder', leaseDurationSeconds: 20, acquireTime: 'T', renewTime: 'T', leaseTransitions: 3 },
    });
  });
  it('deletes an orphaned Lease', () => assert.deepEqual(leaseAction(view(''), 'orphaned', 's', 'T'), { kind: 'delete' }));
  for (const state of ['ready', 'expired', 'dead', 'unknown'] as const) {
    it(`leaves a ${state} Lease alone`, () => assert.deepEqual(leaseAction(view('shard-a'), state, 's', 'T'), { kind: 'none' }));
  }
});
