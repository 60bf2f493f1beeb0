/**
 * How many reconciles a controller runs at once: a fixed number, or a limit that adapts between
 * two bounds to the backlog and to the API server's answers.
 *
 * Why adaptive by default: the right number depends on the API server, which the operator
 * cannot know in advance. With a fixed 8, a burst of 10,000 new objects on this project's
 * benchmark queued behind the objects' creator and waited 12.5 s (p99); with this limit, 0.46 s
 * (docs/performance.md). Keeping 64 in flight all the time against a slow or shared API server
 * would add load exactly when it has none to spare. So the limit grows only while keys wait, and
 * shrinks when the server says it is overloaded, as TCP's congestion control does with a network
 * it cannot see either.
 *
 * Guarantees of {@link AdaptiveLimit}:
 * - **Bounded.** The limit stays within `[min, max]`; it starts at `min`.
 * - **Grows only with a backlog.** It rises only after a run that ended while keys were waiting:
 *   an operator that keeps up never raises it.
 * - **Slow start, then one per round.** It rises by one per such run (doubling per round of
 *   runs) until the first overload, then by one per `limit` such runs (TCP Reno's slow start and
 *   congestion avoidance).
 * - **Backs off on overload.** A run that failed with an error that means an overloaded or
 *   unreachable server (a 429, a 5xx, a timeout, a lost connection: the retryable errors)
 *   multiplies the limit by `backoff`, at most once per round, so the failures of one round,
 *   which all saw the same overload, cut it once.
 *
 * Why overload errors and not latency: the API server's Priority and Fairness arbitrates between
 * its clients and answers 429 when this operator's share is used up. Latency alone rises with
 * every other client's load too; a limit that backed off on it (tried: twice the run time at the
 * start of the backlog) gave way to the objects' creator on the benchmark and fell further
 * behind than a fixed 8 (p99 18.8 s against 12.5 s at N = 10,000).
 */
import { defaults } from '../defaults.ts';

/** Bounds of an adaptive concurrency limit. */
export interface AdaptiveConcurrency {
  /** The limit to start at and never go below. */
  min: number;
  /** The limit never exceeded. */
  max: number;
}

/**
 * Reconciles run at once: a fixed number (controller-runtime's `MaxConcurrentReconciles`), or
 * bounds for an adaptive limit.
 *
 * @example
 * ```ts
 * const fixed: Concurrency = 16;
 * const adaptive: Concurrency = { min: 4, max: 32 };
 * ```
 */
export type Concurrency = number | AdaptiveConcurrency;

/** What a limit learns from one finished run. */
export interface RunSample {
  /** Keys ready and waiting for a worker when the run ended. */
  waiting: number;
  /** The run failed with an error that means an overloaded or unreachable server. */
  overloaded: boolean;
}

/** A concurrency limit: the number of workers a controller keeps, updated after every run. */
export interface ConcurrencyLimit {
  /** Workers wanted now; a whole number ≥ 1. */
  readonly current: number;
  /** The most it can ever be (for the `max_concurrent_reconciles` metric). */
  readonly max: number;
  /** Learns from a finished run. */
  completed(sample: RunSample): void;
}

/**
 * A limit that never changes.
 *
 * @example
 * ```ts
 * new FixedLimit(8).current; // 8
 * ```
 */
export class FixedLimit implements ConcurrencyLimit {
  readonly current: number;
  readonly max: number;
  constructor(limit: number) {
    this.current = this.max = wholeAtLeastOne(limit);
  }
  completed(): void {}
}

/**
 * The adaptive limit described at the top of this module.
 *
 * @example
 * ```ts
 * const limit = new AdaptiveLimit({ min: 8, max: 64 });
 * limit.completed({ waiting: 100, overloaded: false });
 * limit.current; // 9
 * limit.completed({ waiting: 100, overloaded: true });
 * limit.current; // 8 (9 × 0.75, never below min)
 * ```
 */
export class AdaptiveLimit implements ConcurrencyLimit {
  readonly min: number;
  readonly max: number;
  readonly #backoff: number;
  #limit: number;
  #slowStart = true;
  /** Runs to wait before the next decrease may happen. */
  #cooldown = 0;
  /** Runs that asked for growth since the last step up, in congestion avoidance. */
  #credit = 0;

  /** `backoff` defaults to {@link defaults}.queue.adaptiveBackoff. */
  constructor(bounds: AdaptiveConcurrency, backoff: number = defaults.queue.adaptiveBackoff) {
    this.min = wholeAtLeastOne(bounds.min);
    this.max = Math.max(this.min, wholeAtLeastOne(bounds.max));
    this.#backoff = backoff;
    this.#limit = this.min;
  }

  get current(): number {
    return this.#limit;
  }

  completed(sample: RunSample): void {
    if (this.#cooldown > 0) this.#cooldown--;
    if (sample.overloaded) {
      if (this.#cooldown === 0) {
        this.#limit = Math.max(this.min, Math.floor(this.#limit * this.#backoff));
        this.#slowStart = false;
        this.#cooldown = this.#limit;
        this.#credit = 0;
      }
      return;
    }
    if (sample.waiting === 0 || this.#limit >= this.max) return;
    if (!this.#slowStart && ++this.#credit < this.#limit) return;
    this.#credit = 0;
    this.#limit++;
  }
}

/**
 * The limit for a {@link Concurrency} setting.
 *
 * @example
 * ```ts
 * concurrencyLimit(8).current;                   // 8, fixed
 * concurrencyLimit({ min: 8, max: 64 }).current; // 8, then adapts
 * ```
 */
export function concurrencyLimit(setting: Concurrency): ConcurrencyLimit {
  return typeof setting === 'number' ? new FixedLimit(setting) : new AdaptiveLimit(setting);
}

/** The most runs a setting allows at once. */
export function maxConcurrency(setting: Concurrency): number {
  return typeof setting === 'number' ? wholeAtLeastOne(setting) : Math.max(wholeAtLeastOne(setting.min), wholeAtLeastOne(setting.max));
}

function wholeAtLeastOne(n: number): number {
  return Number.isFinite(n) ? Math.max(1, Math.floor(n)) : 1;
}
