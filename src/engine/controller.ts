/**
 * The controller runs a reconcile function for the keys of a {@link WorkQueue}, controller-runtime
 * style: level-based, one key per call, the function's outcome deciding what happens next.
 *
 * Guarantees:
 * - **Bounded concurrency.** At most as many reconciles run at once as the concurrency limit
 *   allows (workers pulling from the queue; a fixed number, or adaptive between bounds, see
 *   `concurrency.ts`), and never two for the same key (the queue's guarantee). When an adaptive
 *   limit falls, workers above it leave after their current run: no run is interrupted.
 * - **Outcome → next step** (controller-runtime's `reconcileHandler` contract):
 *   success → `forget` (backoff reset); `{ requeueAfter }` → `forget` + `addAfter`; a thrown
 *   error → `addRateLimited` (per-key exponential backoff), and a returned result is not looked
 *   at; a terminal error ({@link TerminalError}, or any error with `retryable === false`) → logged
 *   and not retried until the next event for the key.
 * - **Nothing escapes.** A reconcile that throws synchronously, rejects, or returns garbage is an
 *   error of that key; no promise of the controller ever rejects unhandled.
 * - **Timeouts.** With `timeoutMs`, a run's signal aborts with a {@link ReconcileTimeoutError}
 *   when the time is up; if the run then fails, the failure is reported as that timeout and
 *   retried with backoff (a run that still completes is accepted: its work is done).
 *   JavaScript cannot kill a function: a run that ignores its signal keeps its key and its worker
 *   until it settles, so "one run per key" still holds.
 * - **Graceful stop.** `stop` takes no new work at once, lets running reconciles finish within
 *   the grace period, then aborts their signals with a {@link ShutdownError} and resolves once
 *   every run has settled. Keys still queued are dropped: the next start relists everything.
 * - **The event loop stays free.** A worker yields to the event loop after every run, so even
 *   reconciles that never wait on I/O cannot starve watches, signals or `stop`.
 * - **Logs name the object.** Each run's logger is a child with `controller`, `namespace` (when
 *   namespaced) and `name`.
 */
import { systemClock, type Clock } from '../base/clock.ts';
import { lazyChild, silentLogger, type Logger } from '../base/logger.ts';
import { isRetryable } from '../client/errors.ts';
import { defaults } from '../defaults.ts';
import { parseKey } from '../client/keys.ts';
import { concurrencyLimit, type Concurrency, type ConcurrencyLimit } from './concurrency.ts';
import { WorkQueue, type WorkQueueMetrics } from './queue.ts';

/** What a reconcile gets besides its key. */
export interface ReconcileContext {
  /** The key being reconciled: `namespace/name`, or `name` when cluster-scoped. */
  key: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  name: string;
  /** Aborts on the run's timeout and when the controller's stop grace period ends. Pass it on to every request. */
  signal: AbortSignal;
  /** A child logger bound to this object. */
  logger: Logger;
  /** 0 on a first try; n after n consecutive failures of this key. */
  attempt: number;
}

/**
 * What a reconcile may return. `requeueAfter` (ms, finite, ≥ 0) asks for another run after that
 * long; nothing means "done until the next event".
 */
export type ReconcileResult = { requeueAfter?: number } | undefined | void;

/**
 * The function a controller runs per key. It reads the object's current state itself (from a
 * cache or the API) and makes the world match: it is told *which* object, never *what* changed.
 */
export type Reconciler = (key: string, context: ReconcileContext) => Promise<ReconcileResult> | ReconcileResult;

/** How one run ended, for metrics (controller-runtime's `result` label, plus terminal errors). */
export type ReconcileOutcome = 'success' | 'requeue_after' | 'error' | 'terminal_error';

/** Hooks for controller metrics; each optional and synchronous. */
export interface ControllerMetrics {
  /** After every run. `timedOut` is true when the run's timeout fired. */
  reconciled?(info: { key: string; outcome: ReconcileOutcome; durationMs: number; timedOut: boolean }): void;
  /** The number of reconciles running, after every change. */
  activeWorkers?(count: number): void;
  /** The concurrency limit, at start and after every change. */
  limit?(limit: number): void;
}

/** Options of a {@link Controller}. */
export interface ControllerOptions {
  reconcile: Reconciler;
  /** Names the controller in logs. Default `'controller'`. */
  name?: string;
  /**
   * Reconciles running at once: a number, or `{ min, max }` for a limit that adapts (see
   * {@link Concurrency}). Default: {@link defaults}.queue.concurrency, adaptive from 8 to 64.
   */
  concurrency?: Concurrency;
  /** Per-run time limit in ms; none by default (controller-runtime has none either). */
  timeoutMs?: number;
  /** Grace period of {@link Controller.stop} when the call gives none. Default: {@link defaults}.operator.shutdownGraceMs. */
  shutdownGraceMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** A queue to use; by default the controller makes one with `clock` and `queueMetrics`. */
  queue?: WorkQueue;
  queueMetrics?: WorkQueueMetrics;
  metrics?: ControllerMetrics;
}

/**
 * An error that retrying will not fix (an invalid spec, a missing permission the operator will
 * never get). The key is not requeued; the next change of the object runs it again.
 *
 * @example
 * ```ts
 * if (!spec.image) throw new TerminalError('spec.image is required; set it and the object is reconciled again');
 * ```
 */
export class TerminalError extends Error {
  override readonly name: string = 'TerminalError';
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The abort reason of a run that exceeded its `timeoutMs`, and the error it is reported as.
 * Retryable: the next attempt may be faster.
 *
 * @example
 * ```ts
 * if (context.signal.reason instanceof ReconcileTimeoutError) logger.warn('gave up waiting');
 * ```
 */
export class ReconcileTimeoutError extends Error {
  override readonly name: string = 'ReconcileTimeoutError';
  readonly timeoutMs: number;
  constructor(timeoutMs: number, options?: { cause?: unknown }) {
    super(`reconcile did not finish within ${timeoutMs} ms; raise timeoutMs or make the handler honour its signal`, options);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The abort reason of runs still going when the stop grace period ended.
 *
 * @example
 * ```ts
 * if (context.signal.reason instanceof ShutdownError) return; // the next leader picks it up
 * ```
 */
export class ShutdownError extends Error {
  override readonly name: string = 'ShutdownError';
  constructor(graceMs: number) {
    super(`the operator is stopping and the ${graceMs} ms grace period is over`);
  }
}

/**
 * True when `error` says retrying is pointless: a {@link TerminalError} or any error carrying
 * `retryable: false` (so client errors can opt in without importing this module).
 *
 * @example
 * ```ts
 * isTerminal(new TerminalError('bad spec'));                      // true
 * isTerminal(Object.assign(new Error('x'), { retryable: false })); // true
 * isTerminal(new Error('timeout'));                                // false
 * ```
 */
export function isTerminal(error: unknown): boolean {
  if (error instanceof TerminalError) return true;
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Run {
  readonly key: string;
  readonly abort: AbortController;
}

/**
 * Runs `reconcile` for queued keys with bounded concurrency, retries and graceful shutdown.
 *
 * @example
 * ```ts
 * const controller = new Controller({
 *   name: 'printer',
 *   reconcile: async (key, { signal, logger }) => {
 *     logger.info('reconciling');
 *     return { requeueAfter: 300_000 };
 *   },
 * });
 * controller.start();
 * controller.queue.add('default/my-printer');
 * process.once('SIGTERM', () => void controller.stop());
 * ```
 */
export class Controller {
  /** Names the controller in logs (`controller` binding). */
  readonly name: string;
  /** Where event sources put keys: `queue.add(key)`, `queue.add(key, { priority: 'low' })`. */
  readonly queue: WorkQueue;
  readonly #reconcile: Reconciler;
  readonly #limit: ConcurrencyLimit;
  readonly #timeoutMs: number | undefined;
  readonly #graceMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #workers = new Set<Promise<void>>();
  /** Workers that have not decided to leave; a leaving worker is still in `#workers` until it returns. */
  #staying = 0;
  readonly #running = new Set<Run>();
  #started = false;
  #stopping: Promise<void> | undefined;

  constructor(options: ControllerOptions) {
    this.name = options.name ?? 'controller';
    this.#reconcile = options.reconcile;
    this.#limit = concurrencyLimit(options.concurrency ?? defaults.queue.concurrency);
    this.#timeoutMs = options.timeoutMs;
    this.#graceMs = options.shutdownGraceMs ?? defaults.operator.shutdownGraceMs;
    this.#clock = options.clock ?? systemClock;
    this.#logger = (options.logger ?? silentLogger).child({ controller: this.name });
    this.#metrics = options.metrics ?? {};
    this.queue = options.queue ?? new WorkQueue({ clock: this.#clock, metrics: options.queueMetrics });
  }

  /**
   * Starts the workers. Keys added before this wait in the queue. Calling it twice does nothing;
   * a stopped controller cannot start again (make a new one).
   *
   * @example
   * ```ts
   * controller.start();
   * ```
   */
  start(): void {
    if (this.#stopping) throw new Error(`controller ${this.name} was stopped; create a new one to start again`);
    if (this.#started) return;
    this.#started = true;
    this.#metrics.limit?.(this.#limit.current);
    this.#fillWorkers();
  }

  /** Reconciles running now. */
  get inFlight(): number {
    return this.#running.size;
  }

  /** The concurrency limit now: fixed, or where the adaptive limit stands. */
  get concurrency(): number {
    return this.#limit.current;
  }

  #fillWorkers(): void {
    while (this.#staying < this.#limit.current && !this.#stopping) {
      this.#staying++;
      const worker: Promise<void> = this.#work().finally(() => this.#workers.delete(worker));
      this.#workers.add(worker);
    }
  }

  /**
   * Stops taking work, waits up to `graceMs` for running reconciles, then aborts their signals
   * and resolves when all have settled. A reconcile that ignores its signal delays this until it
   * returns. Safe to call more than once; every call gets the same promise.
   *
   * @example
   * ```ts
   * await controller.stop({ graceMs: 10_000 });
   * ```
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.graceMs ?? this.#graceMs);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<void> {
    this.queue.shutDown();
    // Workers never reject (see #work), so `all` settles exactly when the last run has.
    const all = Promise.all([...this.#workers]).then(() => 'finished' as const);
    if (this.#running.size > 0) {
      this.#logger.info({ running: this.#running.size, graceMs }, 'stopping: waiting for running reconciles');
      let cancel = (): void => {};
      const graceOver = new Promise<'grace'>((resolve) => {
        if (graceMs <= 0) resolve('grace');
        else cancel = this.#clock.setTimer(graceMs, () => resolve('grace'));
      });
      const first = await Promise.race([all, graceOver]);
      cancel();
      if (first === 'grace' && this.#running.size > 0) {
        this.#logger.warn({ running: [...this.#running].map((r) => r.key), graceMs }, 'stopping: grace period over, aborting running reconciles');
        const reason = new ShutdownError(graceMs);
        for (const run of this.#running) run.abort.abort(reason);
      }
    }
    await all;
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) {
        this.#staying--;
        return;
      }
      try {
        await this.#process(key);
      } catch (error) {
        // Only a throwing logger or metrics hook gets here; the worker must survive it.
        try {
          this.#logger.error({ err: error, key }, 'internal error while handling a reconcile outcome');
        } catch {
          // Nothing left to report to.
        }
      } finally {
        this.queue.done(key);
      }
      // Above an adaptive limit that fell, this worker leaves; below one that rose, more join.
      if (this.#staying > this.#limit.current) {
        this.#staying--;
        return;
      }
      this.#fillWorkers();
      // A reconcile that finishes without real I/O (a hot key re-adding itself, a flood of
      // no-op runs) would otherwise chain runs in microtasks forever and starve the event loop:
      // no watch events, no signals, no stop. One turn of the loop per run costs microseconds.
      await yieldToEventLoop();
    }
  }

  async #process(key: string): Promise<void> {
    const { namespace, name } = parseKey(key);
    const logger = lazyChild(this.#logger, namespace === undefined ? { name } : { namespace, name });
    const attempt = this.queue.numRequeues(key);
    const run: Run = { key, abort: new AbortController() };
    const { signal } = run.abort;
    let timedOut = false;
    const cancelTimeout =
      this.#timeoutMs === undefined
        ? undefined
        : this.#clock.setTimer(this.#timeoutMs, () => {
            timedOut = true;
            run.abort.abort(new ReconcileTimeoutError(this.#timeoutMs ?? 0));
          });
    const started = this.#clock.now();
    this.#running.add(run);
    this.#metrics.activeWorkers?.(this.#running.size);

    let result: ReconcileResult;
    let failed = false;
    let error: unknown;
    try {
      result = await this.#reconcile(key, { key, namespace, name, signal, logger, attempt });
    } catch (thrown) {
      failed = true;
      error = thrown;
    } finally {
      cancelTimeout?.();
      this.#running.delete(run);
    }
    this.#metrics.activeWorkers?.(this.#running.size);
    const durationMs = this.#clock.now() - started;
    const limitBefore = this.#limit.current;
    const overloaded = failed && !(signal.reason instanceof ShutdownError) && (timedOut || isRetryable(error));
    this.#limit.completed({ waiting: this.queue.depth, overloaded });
    if (this.#limit.current !== limitBefore) this.#metrics.limit?.(this.#limit.current);
    const report = (outcome: ReconcileOutcome): void => this.#metrics.reconciled?.({ key, outcome, durationMs, timedOut });

    if (failed) {
      if (signal.reason instanceof ShutdownError) {
        logger.warn({ err: error }, 'reconcile aborted by shutdown');
        report('error');
      } else if (timedOut) {
        // Whatever the run threw after its signal fired (usually an AbortError) is a consequence;
        // the timeout is the cause worth reporting, and it is worth a retry.
        const retryInMs = this.queue.addRateLimited(key);
        logger.error({ err: signal.reason, thrown: error, attempt, retryInMs }, 'reconcile timed out; will retry');
        report('error');
      } else if (isTerminal(error)) {
        // Forgotten, so the failure count does not linger for a key that is not retried.
        this.queue.forget(key);
        logger.error({ err: error, attempt }, 'reconcile failed with a terminal error; not retrying until the object changes');
        report('terminal_error');
      } else {
        const retryInMs = this.queue.addRateLimited(key);
        // A failure that heals by itself (an API server restart) is no reason to page anyone yet.
        if (isRetryable(error) && attempt <= defaults.logging.transientRetriesAtWarn) logger.warn({ err: error, attempt, retryInMs }, 'reconcile failed; will retry');
        else logger.error({ err: error, attempt, retryInMs }, 'reconcile failed; will retry');
        report('error');
      }
      return;
    }

    const requeueAfter = typeof result === 'object' && result !== null ? result.requeueAfter : undefined;
    this.queue.forget(key);
    if (typeof requeueAfter === 'number' && Number.isFinite(requeueAfter) && requeueAfter >= 0) {
      this.queue.addAfter(key, requeueAfter);
      logger.debug({ requeueAfter }, 'reconciled; requeued');
      report('requeue_after');
    } else {
      logger.debug('reconciled');
      report('success');
    }
  }
}
