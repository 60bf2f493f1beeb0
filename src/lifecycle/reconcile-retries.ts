/**
 * When a level-based reconcile handler may run again: its retry state, kept in memory per object
 * and handler (reconcile handlers keep no progress on the object between successes). Pure: the
 * caller passes the time and the object's generation.
 *
 * Rules, as controller-runtime's: a handler that failed is not run again before its backoff is
 * over, unless the spec changed (a new generation runs at once, with its retries anew); one that
 * failed for good runs again only when the spec changes. Without the due time, the watch event of
 * the operator's own failure-record write (often delivered before that write's reply, so the
 * own-write filter cannot know it) ran the handler again at once: seven attempts in 40 ms, and
 * `retries` spent in a blink.
 */
import type { Outcome } from '../handlers/execution.ts';

/** The retry state of one handler of one object. */
export interface RetryState {
  /** Attempts so far in this run of failures. */
  readonly retries: number;
  /** When the first attempt of this run of failures began. */
  readonly startedAt: number;
  /** Not before this time (`Infinity`: failed for good). */
  readonly dueAt?: number;
  /** The generation that failed. */
  readonly generation?: number;
}

/** Whether a handler may run now; if not, after how long (`undefined`: not until the spec changes). */
export type Due = { readonly run: true; readonly state: RetryState } | { readonly run: false; readonly afterMs: number | undefined };

/**
 * Retry states by `uid/handler`.
 *
 * @example
 * ```ts
 * const due = retries.due(uid, spec.id, body.metadata.generation, now);
 * if (due.run) retries.settle(uid, spec.id, outcome, due.state, body.metadata.generation, clock.now());
 * ```
 */
export class ReconcileRetries {
  readonly #states = new Map<string, RetryState>();

  /** Whether handler `id` of object `uid` may run at `now`, and with what retry state. */
  due(uid: string, id: string, generation: number | undefined, now: number): Due {
    let state = this.#states.get(`${uid}/${id}`);
    if (state?.dueAt === Infinity && state.generation !== generation) state = undefined;
    state ??= { retries: 0, startedAt: now };
    if (state.dueAt !== undefined && state.dueAt > now && state.generation === generation) {
      return { run: false, afterMs: Number.isFinite(state.dueAt) ? state.dueAt - now : undefined };
    }
    return { run: true, state };
  }

  /** Records an attempt's outcome (`retries` as counted after it); returns the delay of a retry. */
  settle(uid: string, id: string, outcome: Exclude<Outcome, { kind: 'aborted' }>, state: RetryState, retries: number, generation: number | undefined, now: number): number | undefined {
    const key = `${uid}/${id}`;
    const gen = generation !== undefined ? { generation } : {};
    switch (outcome.kind) {
      case 'success':
        this.#states.delete(key);
        return undefined;
      case 'retry':
        this.#states.set(key, { retries, startedAt: state.startedAt, dueAt: now + outcome.delayMs, ...gen });
        return outcome.delayMs;
      case 'failure':
        this.#states.set(key, { retries, startedAt: state.startedAt, dueAt: Infinity, ...gen });
        return undefined;
    }
  }

  /** Forgets an object (it was deleted). */
  forget(uid: string): void {
    for (const key of this.#states.keys()) if (key.startsWith(`${uid}/`)) this.#states.delete(key);
  }
}
