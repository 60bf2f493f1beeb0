/**
 * How many reconciles a controller runs at once: a fixed number, or a limit that adapts between
 * two bounds to how fast runs complete.
 *
 * Why adaptive by default: the right number depends on the API server, which the operator
 * cannot know in advance. With a fixed 8, a burst of 10,000 new objects on this project's
 * benchmark queued behind the objects' creator and the last one waited 12.5 s (p99); with 64 in
 * flight it waited 1.4 s. A fixed 64 against a slow or shared API server would add load exactly
 * when it has none to spare. So the limit grows only while keys wait and runs stay fast, and
 * shrinks when runs slow down or fail on an overloaded server, as TCP's congestion control does
 * with a network it cannot see either.
 *
 * Guarantees of {@link AdaptiveLimit}:
 * - **Bounded.** The limit stays within `[min, max]`; it starts at `min`.
 * - **Grows only with a backlog.** It rises only after a run that ended while keys were waiting:
 *   an operator that keeps up never raises it, so an idle one stays at `min`.
 * - **Slow start, then one per round.** It rises by one per completed run (doubling per round of
 *   runs) until the first sign of overload, then by one per `limit` runs (TCP Reno's slow start
 *   and congestion avoidance).
 * - **Backs off on slowness and overload.** When the smoothed run time exceeds `tolerance` times
 *   the baseline, or a run failed with an error that usually means overload (a 429, a 5xx, a
 *   timeout, a lost connection: retryable errors), the limit is multiplied by `backoff`, at most
 *   once per round so one slow round is not punished over and over.
 * - **Baseline per backlog.** The baseline is the lowest smoothed run time since keys began to
 *   wait; when the queue drains, the next backlog measures a new one. A baseline kept forever
 *   would pin the limit to `min` after the API server once had a very fast moment; one that
 *   followed recent runs would drift up with the load it is meant to detect.
 *
 * Runs that mix very fast no-op reconciles with slow ones make the smoothed time swing, and the
 * limit then tends to `min`: the fixed default of earlier versions, never worse.
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
  /** Wall time of the run. */
  durationMs: number;
  /** Keys ready and waiting for a worker when the run ended. */
  waiting: number;
  /** The run failed with an error that usually means an overloaded or unreachable server. */
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

/** Tuning of an {@link AdaptiveLimit}; every field defaults to {@link defaults}.queue.adaptive. */
export interface AdaptiveTuning {
  tolerance?: number;
  backoff?: number;
  smoothing?: number;
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
 * limit.completed({ durationMs: 20, waiting: 100, overloaded: false });
 * limit.current; // 9
 * ```
 */
export class AdaptiveLimit implements ConcurrencyLimit {
  readonly min: number;
  readonly max: number;
  readonly #tolerance: number;
  readonly #backoff: number;
  readonly #smoothing: number;
  #limit: number;
  #slowStart = true;
  #smoothed: number | undefined;
  #baseline: number | undefined;
  /** Runs to wait before the next decrease may happen. */
  #cooldown = 0;
  /** Runs that asked for growth since the last step up, in congestion avoidance. */
  #credit = 0;

  constructor(bounds: AdaptiveConcurrency, tuning: AdaptiveTuning = {}) {
    this.min = wholeAtLeastOne(bounds.min);
    this.max = Math.max(this.min, wholeAtLeastOne(bounds.max));
    this.#tolerance = tuning.tolerance ?? defaults.queue.adaptive.tolerance;
    this.#backoff = tuning.backoff ?? defaults.queue.adaptive.backoff;
    this.#smoothing = tuning.smoothing ?? defaults.queue.adaptive.smoothing;
    this.#limit = this.min;
  }

  get current(): number {
    return this.#limit;
  }

  completed(sample: RunSample): void {
    const d = Math.max(0, sample.durationMs);
    this.#smoothed = this.#smoothed === undefined ? d : this.#smoothed + this.#smoothing * (d - this.#smoothed);
    if (this.#cooldown > 0) this.#cooldown--;
    if (sample.waiting === 0) {
      // The backlog is gone: the next one measures its own baseline.
      this.#baseline = undefined;
      if (!sample.overloaded) return;
    } else {
      this.#baseline = Math.min(this.#baseline ?? this.#smoothed, this.#smoothed);
    }
    const slow = this.#baseline !== undefined && this.#smoothed > this.#tolerance * Math.max(this.#baseline, MIN_BASELINE_MS);
    if (sample.overloaded || slow) {
      if (this.#cooldown === 0) {
        this.#limit = Math.max(this.min, Math.floor(this.#limit * this.#backoff));
        this.#slowStart = false;
        this.#cooldown = this.#limit;
        this.#credit = 0;
      }
      return;
    }
    if (this.#limit >= this.max) return;
    if (!this.#slowStart && ++this.#credit < this.#limit) return;
    this.#credit = 0;
    this.#limit++;
  }
}

/**
 * Below this a run's time is scheduling noise, not the API server's answer: without the floor, a
 * backlog of sub-millisecond no-op runs would make 0.3 ms "twice as slow" as 0.15 ms.
 */
const MIN_BASELINE_MS = 1;

/**
 * The limit for a {@link Concurrency} setting.
 *
 * @example
 * ```ts
 * concurrencyLimit(8).current;                   // 8, fixed
 * concurrencyLimit({ min: 8, max: 64 }).current; // 8, then adapts
 * ```
 */
export function concurrencyLimit(setting: Concurrency, tuning?: AdaptiveTuning): ConcurrencyLimit {
  return typeof setting === 'number' ? new FixedLimit(setting) : new AdaptiveLimit(setting, tuning);
}

/** The most runs a setting allows at once. */
export function maxConcurrency(setting: Concurrency): number {
  return typeof setting === 'number' ? wholeAtLeastOne(setting) : Math.max(wholeAtLeastOne(setting.min), wholeAtLeastOne(setting.max));
}

function wholeAtLeastOne(n: number): number {
  return Number.isFinite(n) ? Math.max(1, Math.floor(n)) : 1;
}
