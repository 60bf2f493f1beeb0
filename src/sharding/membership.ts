/**
 * Ring membership from shard Leases, as pure functions: each replica holds a Lease named after
 * itself, labelled with its ring, and renews it; the sharder reads them and decides which shards
 * may own objects and which are gone (the reference sharder's states, `pkg/sharding/leases`).
 *
 * Expiry is measured on the reader's clock from the moment *it saw* the record change, never from
 * `renewTime` written by another machine (as leader election here does, lease.ts), so clock skew
 * between machines does not decide membership. A reader that just started sees every Lease as
 * fresh, which is the safe side: a dead shard's objects move one lease duration later.
 *
 * States:
 * - **ready**: held by the shard itself, renewed within one lease duration.
 * - **expired**: not renewed for one to two lease durations. It may be paused or partitioned and
 *   may still act (its renew deadline is shorter than the duration, so it should have stopped).
 * - **uncertain**: not renewed for two lease durations: the sharder acquires the Lease, which
 *   fences the shard (a shard that wakes sees another holder and stops) and makes it dead.
 * - **dead**: released (empty holder) or held by someone other than the shard (the sharder).
 * - **orphaned**: dead for longer than the orphan delay: the Lease is deleted.
 * - **unknown**: the record lacks a holder or a duration.
 *
 * ready, expired and uncertain shards are in the ring; only a dead one loses its objects at once.
 */

/**
 * The fields of a Lease's `spec` that shard membership and leader election read and write
 * (declared here, below the runtime, so both use this one).
 */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** What a shard Lease says about its shard. */
export type ShardState = 'ready' | 'expired' | 'uncertain' | 'dead' | 'orphaned' | 'unknown';

/** A shard Lease as the sharder saw it. */
export interface ShardLeaseView {
  /** The Lease's name, which is the shard's name. */
  name: string;
  record: LeaseRecord;
  /** Local time at which the reader first saw this record (a renewal changes it). */
  changedAt: number;
}

/**
 * The state of a shard from its Lease.
 *
 * @example
 * ```ts
 * shardState({ name: 'a', record: { holderIdentity: 'a', leaseDurationSeconds: 15 }, changedAt: 0 }, 20_000, 60_000); // 'expired'
 * ```
 */
export function shardState(lease: ShardLeaseView, now: number, orphanAfterMs: number): ShardState {
  const { holderIdentity, leaseDurationSeconds } = lease.record;
  if (holderIdentity === undefined || leaseDurationSeconds === undefined) return 'unknown';
  const durationMs = leaseDurationSeconds * 1000;
  const age = now - lease.changedAt;
  if (holderIdentity === '' || holderIdentity !== lease.name) return age >= durationMs + orphanAfterMs ? 'orphaned' : 'dead';
  if (age < durationMs) return 'ready';
  if (age < 2 * durationMs) return 'expired';
  return 'uncertain';
}

/**
 * True when a shard in this state is a ring member (may own objects).
 *
 * @example
 * ```ts
 * isMember('expired'); // true: it may be alive; its objects are drained, not taken
 * ```
 */
export function isMember(state: ShardState): boolean {
  return state === 'ready' || state === 'expired' || state === 'uncertain';
}

/** What the sharder does to a shard Lease. */
export type LeaseAction = { kind: 'none' } | { kind: 'acquire'; record: LeaseRecord } | { kind: 'delete' };

/**
 * The sharder's action on a shard Lease: acquire an uncertain one (holder `sharder`, twice the
 * duration, one more transition), delete an orphaned one.
 *
 * @example
 * ```ts
 * leaseAction(view, 'uncertain', 'operon-sharder', microTime(now)); // { kind: 'acquire', record: { holderIdentity: 'operon-sharder', … } }
 * ```
 */
export function leaseAction(lease: ShardLeaseView, state: ShardState, sharder: string, time: string): LeaseAction {
  if (state === 'orphaned') return { kind: 'delete' };
  if (state !== 'uncertain') return { kind: 'none' };
  const { leaseDurationSeconds = 1, leaseTransitions = 0 } = lease.record;
  return {
    kind: 'acquire',
    record: { holderIdentity: sharder, leaseDurationSeconds: 2 * leaseDurationSeconds, acquireTime: time, renewTime: time, leaseTransitions: leaseTransitions + 1 },
  };
}
