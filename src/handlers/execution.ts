/**
 * One attempt of one handler, and what it means for the handler's progress: kopf's
 * `execute_handler_once` as a function from (handler, record, now) to (outcome, next record).
 *
 * Outcomes:
 * - success: the function returned; its value goes to `status[id]`;
 * - retry: a {@link TemporaryError} (after its delay) or an ordinary error in `errors: 'temporary'`
 *   mode (after the handler's backoff);
 * - failure: a {@link PermanentError}, an ordinary error in `'permanent'` mode, exhausted
 *   `retries`, or an exhausted `timeout` (checked before an attempt, while it runs, and ahead of a
 *   retry that would start past it);
 * - aborted: the operator is stopping; the record is left as it was, so the attempt does not count.
 *
 * Guarantees: nothing here throws; a handler that ignores its signal after its timeout (or after
 * the operator's stop signal) is reported as timed out (or aborted) at once; JavaScript cannot
 * stop it, so it keeps running detached.
 * `errors: 'ignored'` turns an ordinary error into a success without a result.
 */
import { backoffDelay } from '../base/backoff.ts';
import type { Clock } from '../base/clock.ts';
import { defaults } from '../defaults.ts';
import type { ProgressRecord } from '../state/progress.ts';
import { HandlerRetriesError, HandlerTimeoutError, PermanentError, TemporaryError } from './errors.ts';
import type { HandlerSpec } from './types.ts';

/** How an attempt ended. */
export type Outcome =
  | { kind: 'success'; result: unknown; ignoredError?: unknown }
  | { kind: 'retry'; delayMs: number; error: unknown }
  | { kind: 'failure'; error: unknown }
  | { kind: 'aborted'; error: unknown; abandoned?: boolean };

/** An attempt's outcome and the handler's progress after it. */
export interface Attempt {
  outcome: Outcome;
  record: ProgressRecord;
}

/**
 * A fresh record for a handler about to run for the first time in cause `purpose`.
 *
 * @example
 * ```ts
 * const record = storage.fetch(body, id, 'create') ?? startRecord('create', clock.now());
 * ```
 */
export function startRecord(purpose: string, now: number): ProgressRecord {
  return { purpose, started: new Date(now).toISOString(), retries: 0 };
}

/**
 * Milliseconds until the handler may run again; 0 when it may run now.
 *
 * @example
 * ```ts
 * if (waitFor(record, clock.now()) > 0) return { requeueAfter: waitFor(record, clock.now()) };
 * ```
 */
export function waitFor(record: ProgressRecord | undefined, now: number): number {
  if (record?.delayed === undefined) return 0;
  return Math.max(0, Date.parse(record.delayed) - now);
}

/** Options of {@link attempt}. */
export interface AttemptOptions {
  record: ProgressRecord;
  clock: Clock;
  /** Aborts on shutdown; an attempt cut short by it is `aborted`. */
  signal?: AbortSignal;
  /**
   * After `signal` aborts, wait this long for the handler to return before giving up on it (an
   * outcome `aborted` with `abandoned: true`). Default 0: at once.
   */
  abortGraceMs?: number;
}

/**
 * Runs `call` once as handler `spec` and works out the outcome and the next record.
 *
 * @example
 * ```ts
 * const { outcome, record: next } = await attempt(spec, (signal) => fn({ ...context, signal }), { record, clock });
 * storage.store(patch, spec.id, next);
 * ```
 */
export async function attempt(spec: HandlerSpec, call: (signal: AbortSignal) => unknown, options: AttemptOptions): Promise<Attempt> {
  const { record, clock } = options;
  const now = clock.now();
  const started = Date.parse(record.started);
  const deadline = spec.timeoutMs === undefined ? undefined : started + spec.timeoutMs;
  if (deadline !== undefined && now >= deadline) {
    return finish(record, { kind: 'failure', error: new HandlerTimeoutError(spec.id, spec.timeoutMs as number) }, now, false);
  }
  const controller = new AbortController();
  const outer = options.signal;
  if (outer?.aborted) return { outcome: { kind: 'aborted', error: outer.reason }, record };
  // What the handler's run races against: the operator's stop (a handler that ignores its
  // signal is not waited for once the operator stops) and the handler's timeout. Each is built
  // only when it can happen; most handlers have no timeout.
  const racers: Array<Promise<unknown>> = [];
  let onAbort: (() => void) | undefined;
  let abandoned = false;
  let cancelGrace: (() => void) | undefined;
  if (outer !== undefined) {
    const graceMs = options.abortGraceMs ?? 0;
    const stopped = new Promise<never>((_resolve, reject) => {
      onAbort = (): void => {
        controller.abort(outer.reason);
        if (graceMs <= 0) {
          reject(outer.reason);
          return;
        }
        cancelGrace = clock.setTimer(graceMs, () => {
          abandoned = true;
          reject(outer.reason);
        });
      };
    });
    stopped.catch(() => {});
    outer.addEventListener('abort', onAbort as () => void, { once: true });
    racers.push(stopped);
  }
  let cancelTimer: (() => void) | undefined;
  if (deadline !== undefined) {
    const timedOut = new Promise<never>((_resolve, reject) => {
      cancelTimer = clock.setTimer(deadline - now, () => {
        const error = new HandlerTimeoutError(spec.id, spec.timeoutMs as number);
        controller.abort(error);
        reject(error);
      });
    });
    timedOut.catch(() => {});
    racers.push(timedOut);
  }
  try {
    const run = Promise.resolve().then(() => {
      controller.signal.throwIfAborted();
      return call(controller.signal);
    });
    const result = await (racers.length === 0 ? run : Promise.race([run, ...racers]));
    return finish(record, { kind: 'success', result }, clock.now(), true);
  } catch (error) {
    if (outer?.aborted) return { outcome: { kind: 'aborted', error, ...(abandoned ? { abandoned } : {}) }, record };
    const at = clock.now();
    return finish(record, classify(spec, error, record, at), at, true);
  } finally {
    cancelTimer?.();
    cancelGrace?.();
    if (onAbort !== undefined) outer?.removeEventListener('abort', onAbort);
  }
}

/**
 * What an error thrown by handler `spec` means, given its progress so far.
 *
 * @example
 * ```ts
 * classify(spec, new TemporaryError('later', { delay: '5s' }), record, now); // { kind: 'retry', delayMs: 5000, … }
 * ```
 */
export function classify(spec: HandlerSpec, error: unknown, record: ProgressRecord, now: number): Outcome {
  if (error instanceof PermanentError) return { kind: 'failure', error };
  let delayMs: number;
  if (error instanceof TemporaryError) {
    delayMs = error.delayMs ?? defaults.handlers.temporaryDelayMs;
  } else if (spec.errors === 'permanent') {
    return { kind: 'failure', error };
  } else if (spec.errors === 'ignored') {
    return { kind: 'success', result: undefined, ignoredError: error };
  } else {
    delayMs = backoffDelay(record.retries, { ...spec.backoff, jitter: 'none' });
  }
  const attempts = record.retries + 1;
  if (spec.retries !== undefined && attempts > spec.retries) {
    return { kind: 'failure', error: new HandlerRetriesError(spec.id, attempts, { cause: error }) };
  }
  if (spec.timeoutMs !== undefined && now + delayMs >= Date.parse(record.started) + spec.timeoutMs) {
    return { kind: 'failure', error: new HandlerTimeoutError(spec.id, spec.timeoutMs, { cause: error }) };
  }
  return { kind: 'retry', delayMs, error };
}

function finish(record: ProgressRecord, outcome: Outcome, now: number, counted: boolean): Attempt {
  const next: ProgressRecord = { purpose: record.purpose, started: record.started, retries: record.retries + (counted ? 1 : 0) };
  const stamp = new Date(now).toISOString();
  switch (outcome.kind) {
    case 'success':
      next.success = true;
      next.stopped = stamp;
      if (outcome.ignoredError !== undefined) next.message = messageOf(outcome.ignoredError);
      break;
    case 'failure':
      next.failure = true;
      next.stopped = stamp;
      next.message = messageOf(outcome.error);
      break;
    case 'retry':
      next.delayed = new Date(now + outcome.delayMs).toISOString();
      next.message = messageOf(outcome.error);
      break;
    case 'aborted':
      return { outcome, record };
  }
  return { outcome, record: next };
}

/**
 * A one-line message for an error, for progress records, Events and logs.
 *
 * @example
 * ```ts
 * messageOf(new Error('boom')); // 'Error: boom'
 * ```
 */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
