/**
 * Gives memory back after a burst of handling cycles (the initial list's catch-up, a burst of
 * creations): once at least `afterCycles` cycles have run since the last reduction and none has
 * run for `quietMs`, one memory-reducing garbage collection ({@link reduceHeap}).
 *
 * Why: a burst allocates several times its objects' size (about 43 KB per cycle of the CVC
 * operator: LIST pages, responses, contexts, patches); V8 grows the heap to hold it, and after the
 * burst keeps the pages, half of them garbage, because nothing allocates any more to start a
 * collection and its own memory reducer thinks the burst still goes on. Measured at 10,000 CVCs:
 * about 50 MiB of RSS (docs/performance.md, "Per cached object at N = 10,000").
 *
 * Guarantees: nothing happens below `afterCycles` (an operator handling a change now and then
 * never pays for a full collection); at most one collection per burst; never while cycles run
 * (each cycle pushes the collection back to `quietMs` after it); none after {@link stop}. One
 * clock timer at most, re-armed only when it fires early, so a cycle costs a counter and a clock
 * read.
 */
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import { defaults } from '../defaults.ts';

/** Options of a {@link MemoryReducer}. */
export interface MemoryReducerOptions {
  clock: Clock;
  /** The collection. Production: {@link reduceHeap}. */
  collect: () => void;
  /** Cycles that make a burst. Default: {@link defaults}.memory.reduceAfterCycles. */
  afterCycles?: number;
  /** Quiet time after the last cycle before the collection. Default: {@link defaults}.memory.reduceQuietMs. */
  quietMs?: number;
  logger?: Logger;
}

/**
 * Collects garbage once a burst of cycles is over.
 *
 * @example
 * ```ts
 * const reducer = new MemoryReducer({ clock: systemClock, collect: reduceHeap });
 * // after every handling cycle:
 * reducer.cycled();
 * // on shutdown:
 * reducer.stop();
 * ```
 */
export class MemoryReducer {
  readonly #clock: Clock;
  readonly #collect: () => void;
  readonly #afterCycles: number;
  readonly #quietMs: number;
  readonly #logger: Logger | undefined;
  #cycles = 0;
  #lastCycleAt = 0;
  #cancel: (() => void) | undefined;
  #stopped = false;

  constructor(options: MemoryReducerOptions) {
    this.#clock = options.clock;
    this.#collect = options.collect;
    this.#afterCycles = Math.max(1, options.afterCycles ?? defaults.memory.reduceAfterCycles);
    this.#quietMs = Math.max(0, options.quietMs ?? defaults.memory.reduceQuietMs);
    this.#logger = options.logger;
  }

  /** Cycles counted since the last collection. */
  get cycles(): number {
    return this.#cycles;
  }

  /** Notes that a handling cycle ended. */
  cycled(): void {
    if (this.#stopped) return;
    this.#cycles++;
    this.#lastCycleAt = this.#clock.now();
    if (this.#cycles >= this.#afterCycles && this.#cancel === undefined) this.#arm(this.#quietMs);
  }

  /** Cancels a pending collection; later cycles schedule none. */
  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #arm(ms: number): void {
    this.#cancel = this.#clock.setTimer(ms, () => this.#due());
  }

  #due(): void {
    this.#cancel = undefined;
    if (this.#stopped) return;
    const quiet = this.#clock.now() - this.#lastCycleAt;
    if (quiet < this.#quietMs) {
      this.#arm(this.#quietMs - quiet);
      return;
    }
    const cycles = this.#cycles;
    this.#cycles = 0;
    const started = performance.now();
    try {
      this.#collect();
      this.#logger?.debug({ cycles, ms: Math.round(performance.now() - started) }, 'burst over: garbage collected to give memory back');
    } catch (error) {
      this.#logger?.warn({ err: error }, 'the garbage collection after a burst failed; memory is given back by V8 later');
    }
  }
}
