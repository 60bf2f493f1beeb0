/**
 * The lease side of leader election as pure functions: what a Lease record says, and one round of
 * client-go's acquire-or-renew decided from the record read now and what this candidate observed
 * before, on its own clock (so clock skew between machines never decides expiry). The elector
 * (`leader-election.ts`) does the IO and the timing around it.
 */

import type { LeaseRecord } from '../sharding/membership.ts';

// One shape for a Lease's `spec`, for leader election and shard membership alike; it lives in the
// lower layer. Times are RFC 3339 with microseconds.
export type { LeaseRecord };

/** A Lease as read: its record and the resourceVersion a write must carry. */
export interface StoredLease {
  record: LeaseRecord;
  resourceVersion: string;
}

/** A lease record as this candidate last saw it change, and when (local clock). */
export interface ObservedLease {
  readonly record: LeaseRecord;
  /** The record serialised, to tell a change from a re-read (client-go compares raw bytes). */
  readonly raw: string;
  /** Local time at which this candidate first saw this record. */
  readonly at: number;
}

/** What one round of acquire-or-renew should do. */
export type LeaseDecision =
  | { kind: 'create'; record: LeaseRecord }
  | { kind: 'update'; record: LeaseRecord; resourceVersion: string }
  | { kind: 'held'; holder: string; validUntil: number };

/**
 * One round of client-go's `tryAcquireOrRenew`, as a pure function: given the lease as read now
 * (`current`) and what was observed before, decide whether to create it, take or renew it, or
 * leave it to its valid holder; and return the new observation.
 *
 * @example
 * ```ts
 * const { decision, observed } = decideLease({ identity: 'a', now: clock.now(), leaseDurationMs: 15_000, current, observed: before });
 * if (decision.kind === 'held') console.log(`${decision.holder} leads`);
 * ```
 */
export function decideLease(input: {
  identity: string;
  now: number;
  leaseDurationMs: number;
  current: StoredLease | undefined;
  observed: ObservedLease | undefined;
}): { decision: LeaseDecision; observed: ObservedLease | undefined } {
  const { identity, now, leaseDurationMs, current } = input;
  const time = microTime(now);
  const seconds = Math.ceil(leaseDurationMs / 1000);
  if (current === undefined) {
    return {
      decision: { kind: 'create', record: { holderIdentity: identity, leaseDurationSeconds: seconds, acquireTime: time, renewTime: time, leaseTransitions: 0 } },
      observed: input.observed,
    };
  }
  const raw = canonical(current.record);
  const observed = input.observed?.raw === raw ? input.observed : { record: current.record, raw, at: now };
  const holder = observed.record.holderIdentity ?? '';
  const ours = holder === identity;
  const durationMs = (observed.record.leaseDurationSeconds ?? seconds) * 1000;
  const validUntil = observed.at + durationMs;
  if (holder !== '' && !ours && validUntil > now) return { decision: { kind: 'held', holder, validUntil }, observed };
  const transitions = current.record.leaseTransitions ?? 0;
  const record: LeaseRecord = {
    holderIdentity: identity,
    leaseDurationSeconds: seconds,
    acquireTime: ours ? (current.record.acquireTime ?? time) : time,
    renewTime: time,
    leaseTransitions: ours ? transitions : transitions + 1,
  };
  return { decision: { kind: 'update', record, resourceVersion: current.resourceVersion }, observed };
}

/**
 * A Kubernetes MicroTime (`2006-01-02T15:04:05.000000Z`): the API server parses exactly six
 * fractional digits, so a JavaScript ISO string (three) would be refused.
 *
 * @example
 * ```ts
 * microTime(Date.UTC(2024, 0, 1)); // '2024-01-01T00:00:00.000000Z'
 * ```
 */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * A lease record serialised the same way whoever wrote it, to tell a change from a re-read.
 *
 * @example
 * ```ts
 * canonical(a) === canonical(b); // the same holder, duration, times and transitions
 * ```
 */
export function canonical(record: LeaseRecord): string {
  const { holderIdentity, leaseDurationSeconds, acquireTime, renewTime, leaseTransitions } = record;
  return JSON.stringify([holderIdentity ?? '', leaseDurationSeconds ?? null, acquireTime ?? null, renewTime ?? null, leaseTransitions ?? 0]);
}
