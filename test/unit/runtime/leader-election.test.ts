import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/base/clock.ts';
import { ApiError } from '../../../src/client/errors.ts';
import {
  decideLease,
  LeaderElector,
  LeadershipLostError,
  microTime,
  validateTimings,
  type LeaseLock,
  type LeaseRecord,
  type StoredLease,
} from '../../../src/runtime/leader-election.ts';

/** An in-memory Lease with the API server's rules: create fails if present, update needs the current resourceVersion. */
class FakeLease {
  stored: StoredLease | undefined;
  #version = 0;
  /** When set, every request rejects with it (RBAC revoked, API server down). */
  failure: Error | undefined;
  /** When true, requests never answer until their signal aborts. */
  hang = false;
  writes: Array<{ by: string | undefined; record: LeaseRecord }> = [];

  lock(): LeaseLock {
    const answer = async <T>(signal: AbortSignal, fn: () => T): Promise<T> => {
      if (this.hang) {
        return new Promise<T>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }
      await Promise.resolve();
      if (this.failure) throw this.failure;
      return fn();
    };
    return {
      description: 'ops/test-lease',
      get: (signal) => answer(signal, () => (this.stored ? structuredClone(this.stored) : undefined)),
      create: (record, signal) =>
        answer(signal, () => {
          if (this.stored) throw new ApiError({ kind: 'AlreadyExists', code: 409, message: 'leases "test-lease" already exists' });
          return this.#write(record);
        }),
      update: (record, resourceVersion, signal) =>
        answer(signal, () => {
          if (!this.stored || this.stored.resourceVersion !== resourceVersion) {
            throw new ApiError({ kind: 'Conflict', code: 409, message: 'the object has been modified' });
          }
          return this.#write(record);
        }),
    };
  }

  #write(record: LeaseRecord): string {
    const resourceVersion = String(++this.#version);
    this.stored = { record: structuredClone(record), resourceVersion };
    this.writes.push({ by: record.holderIdentity, record });
    return resourceVersion;
  }

  get holder(): string | undefined {
    return this.stored?.record.holderIdentity || undefined;
  }
}

interface Candidate {
  elector: LeaderElector;
  started: number[];
  lost: LeadershipLostError[];
}

function candidate(identity: string, lease: FakeLease, clock: ManualClock, random = () => 0): Candidate {
  const elector = new LeaderElector({ lock: lease.lock(), identity, clock, random });
  const result: Candidate = { elector, started: [], lost: [] };
  elector.start({ onStartedLeading: () => result.started.push(clock.now()), onLost: (error) => result.lost.push(error) });
  return result;
}

describe('decideLease (one acquire-or-renew round)', () => {
  const t0 = Date.UTC(2025, 0, 1);

  it('creates the lease when there is none', () => {
    const { decision } = decideLease({ identity: 'a', now: t0, leaseDurationMs: 15_000, current: undefined, observed: undefined });
    assert.equal(decision.kind, 'create');
    assert.deepEqual(decision.kind === 'create' && decision.record, {
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: microTime(t0),
      renewTime: microTime(t0),
      leaseTransitions: 0,
    });
  });

  it('judges expiry by when this candidate observed the last change, not by renewTime (clock skew)', () => {
    // The holder's clock is an hour behind: its renewTime looks long expired, but it just changed.
    const current: StoredLease = { record: { holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: microTime(t0 - 3_600_000) }, resourceVersion: '7' };
    const first = decideLease({ identity: 'a', now: t0, leaseDurationMs: 15_000, current, observed: undefined });
    assert.deepEqual(first.decision, { kind: 'held', holder: 'b', validUntil: t0 + 15_000 });
    // Re-read unchanged 14.9 s later: still valid, the observation time is kept.
    const later = decideLease({ identity: 'a', now: t0 + 14_900, leaseDurationMs: 15_000, current, observed: first.observed });
    assert.equal(later.decision.kind, 'held');
    assert.equal(later.observed?.at, t0);
    // Unchanged for the whole lease duration: expired, taken over with one more transition.
    const expired = decideLease({ identity: 'a', now: t0 + 15_000, leaseDurationMs: 15_000, current, observed: first.observed });
    assert.equal(expired.decision.kind, 'update');
    if (expired.decision.kind === 'update') {
      assert.equal(expired.decision.resourceVersion, '7');
      assert.equal(expired.decision.record.holderIdentity, 'a');
      assert.equal(expired.decision.record.leaseTransitions, 1);
      assert.equal(expired.decision.record.acquireTime, microTime(t0 + 15_000));
    }
  });

  it('a renewTime far in the future does not extend a lease that stopped changing', () => {
    const current: StoredLease = { record: { holderIdentity: 'b', leaseDurationSeconds: 15, renewTime: microTime(t0 + 3_600_000) }, resourceVersion: '3' };
    const first = decideLease({ identity: 'a', now: t0, leaseDurationMs: 15_000, current, observed: undefined });
    const after = decideLease({ identity: 'a', now: t0 + 15_001, leaseDurationMs: 15_000, current, observed: first.observed });
    assert.equal(after.decision.kind, 'update');
  });

  it("uses the holder's leaseDurationSeconds, and any change restarts the observation", () => {
    const v1: StoredLease = { record: { holderIdentity: 'b', leaseDurationSeconds: 60, renewTime: 'x' }, resourceVersion: '1' };
    const first = decideLease({ identity: 'a', now: t0, leaseDurationMs: 15_000, current: v1, observed: undefined });
    assert.equal(decideLease({ identity: 'a', now: t0 + 59_000, leaseDurationMs: 15_000, current: v1, observed: first.observed }).decision.kind, 'held');
    const v2: StoredLease = { record: { ...v1.record, renewTime: 'y' }, resourceVersion: '2' };
    const second = decideLease({ identity: 'a', now: t0 + 59_000, leaseDurationMs: 15_000, current: v2, observed: first.observed });
    assert.equal(second.observed?.at, t0 + 59_000);
    assert.equal(second.decision.kind, 'held');
  });

  it('takes a released lease (empty holder) at once, and renews its own keeping acquireTime and transitions', () => {
    const released: StoredLease = { record: { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 4 }, resourceVersion: '9' };
    const take = decideLease({ identity: 'a', now: t0, leaseDurationMs: 15_000, current: released, observed: undefined });
    assert.ok(take.decision.kind === 'update' && take.decision.record.leaseTransitions === 5);
    const own: StoredLease = { record: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: 'then', renewTime: 'then', leaseTransitions: 5 }, resourceVersion: '10' };
    const renew = decideLease({ identity: 'a', now: t0 + 2_000, leaseDurationMs: 15_000, current: own, observed: undefined });
    assert.ok(renew.decision.kind === 'update');
    if (renew.decision.kind === 'update') {
      assert.equal(renew.decision.record.acquireTime, 'then');
      assert.equal(renew.decision.record.renewTime, microTime(t0 + 2_000));
      assert.equal(renew.decision.record.leaseTransitions, 5);
    }
  });

  it('writes MicroTime with six fractional digits, as the API server parses it', () => {
    assert.equal(microTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), '2024-01-02T03:04:05.678000Z');
  });
});

describe('validateTimings (client-go rules)', () => {
  it('accepts the defaults and refuses inverted or too tight timings', () => {
    validateTimings(15_000, 10_000, 2_000);
    assert.throws(() => validateTimings(10_000, 10_000, 2_000), /leaseDuration .* greater than renewDeadline/);
    assert.throws(() => validateTimings(15_000, 2_000, 2_000), /renewDeadline .* greater than 1.2 × retryPeriod/);
    assert.throws(() => validateTimings(15_000, 10_000, 0), /retryPeriod must be positive/);
  });
});

describe('LeaderElector', () => {
  it('one of two candidates leads; the other stands by and keeps seeing the leader renew', async () => {
    const clock = new ManualClock();
    const lease = new FakeLease();
    const a = candidate('a', lease, clock);
    await clock.advance(0);
    const b = candidate('b', lease, clock);
    await clock.advance(60_000);
    assert.deepEqual(a.started.length, 1);
    assert.deepEqual(b.started, []);
    assert.equal(a.elector.leading, true);
    assert.equal(b.elector.leading, false);
    assert.equal(b.elector.holder, 'a');
    assert.equal(lease.holder, 'a');
    // Renewed every retry period: about 30 writes in 60 s, all by a.
    assert.ok(lease.writes.length >= 29, `${lease.writes.length} writes`);
    assert.ok(lease.writes.every((w) => w.by === 'a'));
    await a.elector.stop();
    await b.elector.stop();
  });

  it('a standby takes over only after the lease duration without change, counted from its own observation', async () => {
    const clock = new ManualClock();
    const lease = new FakeLease();
    const a = candidate('a', lease, clock);
    await clock.advance(0);
    const b = candidate('b', lease, clock);
    await clock.advance(5_000);
    // The leader dies without releasing (SIGKILL): its last renewal was at most a retry period ago.
    const lastRenew = clock.now() - ((clock.now() - 1_700_000_000_000) % 2_000);
    await a.elector.stop({ release: false });
    const killedAt = clock.now();
    for (let waited = 0; waited < 30_000 && b.started.length === 0; waited += 100) await clock.advance(100);
    assert.equal(b.started.length, 1);
    const takeover = (b.started[0] ?? 0) - killedAt;
    assert.ok((b.started[0] ?? 0) >= lastRenew + 15_000, `took over ${(b.started[0] ?? 0) - lastRenew} ms after the last renewal, before the lease duration`);
    assert.ok(takeover <= 15_000 + 2 * 2_000, `took over ${takeover} ms after the kill`);
    assert.equal(lease.holder, 'b');
    assert.equal(lease.stored?.record.leaseTransitions, 1);
    await b.elector.stop();
  });

  it('releases on stop when asked, so a standby takes over within its retry period', async () => {
    const clock = new ManualClock();
    const lease = new FakeLease();
    const a = candidate('a', lease, clock);
    await clock.advance(0);
    const b = candidate('b', lease, clock);
    await clock.advance(3_000);
    await a.elector.stop({ release: true });
    assert.equal(lease.holder, undefined);
    assert.equal(lease.stored?.record.leaseDurationSeconds, 1);
    const releasedAt = clock.now();
    for (let waited = 0; waited < 10_000 && b.started.length === 0; waited += 100) await clock.advance(100);
    assert.ok((b.started[0] ?? Infinity) - releasedAt <= 2_000 * 2.2 + 100, `took over ${(b.started[0] ?? Infinity) - releasedAt} ms after the release`);
    await b.elector.stop();
  });

  it('a leader that cannot renew (RBAC revoked) loses within the renew deadline, naming the last error, and stops writing', async () => {
    const clock = new ManualClock();
    const lease = new FakeLease();
    const a = candidate('a', lease, clock);
    await clock.advance(4_100);
    const lastGood = lease.writes.length;
    const lastRenewAt = clock.now() - 100;
    lease.failure = new ApiError({ kind: 'Forbidden', code: 403, message: 'leases.coordination.k8s.io "test-lease" is forbidden: User "x" cannot update resource "leases"' });
    await clock.advance(9_800);
    assert.equal(a.lost.length, 0, 'still within the deadline');
    await clock.advance(300);
    assert.equal(a.lost.length, 1);
    assert.equal(a.elector.leading, false);
    const error = a.lost[0];
    assert.ok(error instanceof LeadershipLostError);
    assert.match(error.message, /ops\/test-lease/);
    assert.match(error.message, /Forbidden: leases.coordination.k8s.io "test-lease" is forbidden/);
    assert.ok(clock.now() - lastRenewAt <= 10_000 + 300);
    lease.failure = undefined;
    await clock.advance(60_000);
    assert.equal(lease.writes.length, lastGood, 'a lost leader never campaigns again');
    await a.elector.stop({ release: true });
    assert.equal(lease.writes.length, lastGood, 'and never releases a lease it may no longer hold');
  });

  it('a renewal request that hangs cannot postpone the loss', async () => {
    const clock = new ManualClock();
    const lease = new FakeLease();
    const a = candidate('a', lease, clock);
    await clock.advance(0);
    const acquiredAt = clock.now();
    lease.hang = true;
    await clock.advance(9_999);
    assert.equal(a.lost.length, 0);
    await clock.advance(1);
    assert.equal(a.lost.length, 1);
    assert.ok(clock.now() - acquiredAt === 10_000);
    await a.elector.stop();
  });

  it('a leader that sees another holder loses at once', async () => {
    const clock = new ManualClock();
    const lease = new FakeLease();
    const a = candidate('a', lease, clock);
    await clock.advance(0);
    // Someone overwrote the lease (an operator with the same lease name elsewhere, a manual edit).
    lease.stored = { record: { holderIdentity: 'intruder', leaseDurationSeconds: 15, renewTime: 'now' }, resourceVersion: 'other' };
    await clock.advance(2_000);
    assert.equal(a.lost.length, 1);
    assert.match(a.lost[0]?.message ?? '', /held by intruder/);
    await a.elector.stop();
  });

  it('never lets two candidates win one round (optimistic concurrency on the resourceVersion)', async () => {
    const clock = new ManualClock();
    const lease = new FakeLease();
    const candidates = ['a', 'b', 'c'].map((id) => candidate(id, lease, clock, () => 0.5));
    for (let i = 0; i < 600; i++) {
      await clock.advance(100);
      assert.ok(candidates.filter((c) => c.elector.leading).length <= 1);
    }
    assert.equal(candidates.filter((c) => c.started.length > 0).length, 1);
    for (const c of candidates) await c.elector.stop();
  });
});
