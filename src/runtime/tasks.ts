/**
 * Timers and daemons: per-object background tasks (kopf's `@kopf.timer` and `@kopf.daemon`).
 *
 * Guarantees:
 * - At most one task per (object uid × handler); a task belongs to one uid, so an object deleted
 *   and created again under the same name gets fresh tasks.
 * - A timer runs first after `initialDelay` (default: one interval), then every `interval` counted
 *   from the end of its previous run, or on a fixed grid from its first run with `sharp`; with
 *   `idle` it runs only once the object has not changed for that long. A failed tick is retried
 *   after the error's delay (TemporaryError) or the handler's backoff; a permanent failure waits
 *   for the next interval. Runs of one timer never overlap.
 * - A daemon runs once per object for the life of the object in this process: when it returns or
 *   fails permanently it is not started again; a TemporaryError or ordinary error restarts it
 *   after the delay or backoff.
 * - Stopping aborts the task's signal at once (`stopObject` on deletion, `stopAll` on shutdown);
 *   `stopAll` waits for tasks to end within the grace period and then leaves the stragglers
 *   detached (JavaScript cannot kill a function that ignores its signal).
 *
 * Cost: a timer between runs is a small record and one clock timer (about 0.4 KB); its abort
 * controller and promises exist only from its first run. It used to be a suspended async loop
 * (an abort controller with a listener, a sleep promise, two suspended functions and their
 * closures): about 3 KB a timer, more than the object it serves (docs/performance.md).
 */
import { sleep, type Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { Outcome } from '../handlers/execution.ts';
import type { TaskHandlerSpec, TimerHandlerSpec } from '../handlers/types.ts';

/** What the tasks need from the resource they serve. */
export interface TaskRunner {
  /** Runs one timer tick or one daemon life, with the retry state given. */
  run(spec: TaskHandlerSpec, key: string, uid: string, signal: AbortSignal, state: { retries: number; startedAt: number }): Promise<Outcome>;
  /** When the object last changed (for `idle`). */
  lastChangeAt(uid: string): number | undefined;
  /** A daemon of `key` ended; the object may be waiting for it to be deleted. */
  exited(key: string): void;
}

interface Task {
  readonly spec: TaskHandlerSpec;
  readonly key: string;
  readonly uid: string;
  /** The signal of its runs; a timer gets it at its first run, a daemon at its start. */
  abort: AbortController | undefined;
  /** Settles when the run in progress (a timer's) or the life (a daemon's) ends; undefined while a timer waits. */
  busy: Promise<void> | undefined;
  stopped: boolean;
  ended: boolean;
  /** Timers: cancels the pending wait. */
  cancel: (() => void) | undefined;
  /** Timers: the first run's start, the origin of the `sharp` grid. */
  gridStart: number | undefined;
  /** Timers: failed runs in a row, and when the first of them started. */
  retries: number;
  startedAt: number;
}

/**
 * The timers and daemons of one resource's objects.
 *
 * @example
 * ```ts
 * const tasks = new ObjectTasks(runner, { clock, logger });
 * tasks.ensure(key, uid, registration.of('timer', 'daemon'));
 * tasks.stopObject(uid); // on deletion
 * await tasks.stopAll(25_000); // on shutdown
 * ```
 */
export class ObjectTasks {
  readonly #runner: TaskRunner;
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** The tasks of each object, at most one per handler id (an array: usually one or two). */
  readonly #byUid = new Map<string, Task[]>();
  /** `uid/id` of daemons that ended for good. */
  readonly #finished = new Set<string>();
  #stopped = false;

  constructor(runner: TaskRunner, options: { clock: Clock; logger: Logger }) {
    this.#runner = runner;
    this.#clock = options.clock;
    this.#logger = options.logger;
  }

  /**
   * Makes the running tasks of `uid` exactly `specs` (minus daemons that ended for good): starts
   * the missing ones, stops the ones whose filters no longer match.
   *
   * @example
   * ```ts
   * tasks.ensure('shop/p1', uid, matchingTimersAndDaemons);
   * ```
   */
  ensure(key: string, uid: string, specs: readonly TaskHandlerSpec[]): void {
    if (this.#stopped) return;
    const existing = this.#byUid.get(uid);
    if (existing?.some((task) => !specs.some((s) => s.id === task.spec.id))) {
      for (const task of [...existing]) {
        if (specs.some((s) => s.id === task.spec.id)) continue;
        this.#stop(task, new Error(`handler ${task.spec.id} no longer matches the object`));
        this.#remove(task);
      }
    }
    for (const spec of specs) {
      const tasks = this.#byUid.get(uid);
      if (tasks?.some((t) => t.spec.id === spec.id) || (spec.kind === 'daemon' && this.#finished.has(`${uid}/${spec.id}`))) continue;
      const task: Task = { spec, key, uid, abort: undefined, busy: undefined, stopped: false, ended: false, cancel: undefined, gridStart: undefined, retries: 0, startedAt: 0 };
      if (spec.kind === 'timer') this.#schedule(task, this.#clock.now() + (spec.initialDelayMs ?? spec.intervalMs));
      else this.#startDaemon(task);
      if (tasks) tasks.push(task);
      else this.#byUid.set(uid, [task]);
    }
  }

  /**
   * Aborts every task of `uid`; returns how many daemons have not yet ended.
   *
   * @example
   * ```ts
   * if (tasks.stopObject(uid) > 0) return { requeueAfter: 1_000 };
   * ```
   */
  stopObject(uid: string): number {
    const tasks = this.#byUid.get(uid);
    if (tasks === undefined) return 0;
    let running = 0;
    for (const task of [...tasks]) {
      this.#stop(task, new Error('the object is being deleted'));
      if (!task.ended && task.spec.kind === 'daemon') running++;
    }
    return running;
  }

  /**
   * Daemons of `uid` that have not yet ended (stopped or not).
   *
   * @example
   * ```ts
   * plan(planner, body, { resumed, optionalDeleteRan, daemonsRunning: tasks.daemonsRunning(uid) }, now);
   * ```
   */
  daemonsRunning(uid: string): number {
    let running = 0;
    for (const task of this.#byUid.get(uid) ?? []) if (!task.ended && task.spec.kind === 'daemon') running++;
    return running;
  }

  /**
   * Tasks of `uid` not yet over: after {@link stopObject}, the runs still in progress (a timer in
   * its handler, a daemon that has not returned).
   *
   * @example
   * ```ts
   * tasks.stopObject(uid);
   * if (tasks.unfinished(uid) > 0) return { requeueAfter: 1_000 };
   * ```
   */
  unfinished(uid: string): number {
    return this.#byUid.get(uid)?.length ?? 0;
  }

  /**
   * Forgets an object that is gone for good, including its ended daemons.
   *
   * @example
   * ```ts
   * tasks.forget(uid);
   * ```
   */
  forget(uid: string): void {
    this.stopObject(uid);
    for (const key of this.#finished) if (key.startsWith(`${uid}/`)) this.#finished.delete(key);
  }

  /** Tasks running now, over all objects. */
  get size(): number {
    let n = 0;
    for (const tasks of this.#byUid.values()) n += tasks.length;
    return n;
  }

  /**
   * Aborts every task and waits up to `graceMs` for them to end.
   *
   * @example
   * ```ts
   * await tasks.stopAll(defaults.operator.shutdownGraceMs);
   * ```
   */
  async stopAll(graceMs: number, reason: unknown = new Error('the operator is stopping')): Promise<void> {
    this.#stopped = true;
    const all: Promise<void>[] = [];
    for (const tasks of [...this.#byUid.values()]) {
      for (const task of [...tasks]) {
        this.#stop(task, reason);
        if (task.busy) all.push(task.busy);
      }
    }
    let cancel = (): void => {};
    const grace = new Promise<void>((resolve) => (cancel = this.#clock.setTimer(graceMs, resolve)));
    await Promise.race([Promise.all(all), grace]);
    cancel();
  }

  /** Aborts a task: a waiting timer ends at once, a running one when its run returns. */
  #stop(task: Task, reason: unknown): void {
    task.stopped = true;
    task.cancel?.();
    task.cancel = undefined;
    task.abort?.abort(reason);
    if (task.busy === undefined) this.#end(task);
  }

  /** A task is over: it leaves its object's list (unless a newer task took its place). */
  #end(task: Task): void {
    task.ended = true;
    this.#remove(task);
  }

  #remove(task: Task): void {
    const tasks = this.#byUid.get(task.uid);
    const at = tasks?.indexOf(task) ?? -1;
    if (tasks === undefined || at < 0) return;
    tasks.splice(at, 1);
    if (tasks.length === 0) this.#byUid.delete(task.uid);
  }

  /** A timer waits until `at` (its next run, or the end of a required idle time). */
  #schedule(task: Task, at: number): void {
    task.cancel = this.#clock.setTimer(Math.max(0, at - this.#clock.now()), () => {
      task.cancel = undefined;
      this.#due(task);
    });
  }

  #due(task: Task): void {
    const { spec } = task;
    // Only timers wait for a due time; daemons start at once.
    if (task.stopped || spec.kind !== 'timer') return;
    if (spec.idleMs !== undefined) {
      const changed = this.#runner.lastChangeAt(task.uid) ?? 0;
      const quietAt = changed + spec.idleMs;
      if (quietAt > this.#clock.now()) {
        this.#schedule(task, quietAt);
        return;
      }
    }
    task.busy = this.#tick(task, spec).catch((error: unknown) => {
      this.#logger.error({ err: error, handler: spec.id, key: task.key }, 'background task failed unexpectedly');
      this.#end(task);
    });
  }

  /** One run of a timer, then its next wait: after the interval (from the end of this run, or on the `sharp` grid), or the retry delay. */
  async #tick(task: Task, spec: TimerHandlerSpec): Promise<void> {
    const interval = spec.intervalMs;
    const began = this.#clock.now();
    task.gridStart ??= began;
    if (task.retries === 0) task.startedAt = began;
    const signal = (task.abort ??= new AbortController()).signal;
    const outcome = await this.#runner.run(spec, task.key, task.uid, signal, { retries: task.retries, startedAt: task.startedAt });
    task.busy = undefined;
    if (signal.aborted) {
      this.#end(task);
      return;
    }
    const now = this.#clock.now();
    let nextAt: number;
    if (outcome.kind === 'retry') {
      task.retries++;
      nextAt = now + outcome.delayMs;
    } else {
      task.retries = 0;
      const gridStart = task.gridStart;
      nextAt = spec.sharp ? gridStart + Math.floor((now - gridStart) / interval + 1) * interval : now + interval;
    }
    this.#schedule(task, nextAt);
  }

  #startDaemon(task: Task): void {
    const { spec, key } = task;
    task.abort = new AbortController();
    task.busy = this.#daemon(task, task.abort.signal)
      .catch((error: unknown) => this.#logger.error({ err: error, handler: spec.id, key }, 'background task failed unexpectedly'))
      .finally(() => {
        this.#end(task);
        this.#runner.exited(key);
      });
  }

  async #daemon(task: Task, signal: AbortSignal): Promise<void> {
    const { spec, key, uid } = task;
    if (spec.initialDelayMs !== undefined && !(await this.#sleepUntil(this.#clock.now() + spec.initialDelayMs, signal))) return;
    let retries = 0;
    const startedAt = this.#clock.now();
    for (;;) {
      const outcome = await this.#runner.run(spec, key, uid, signal, { retries, startedAt });
      if (signal.aborted) return;
      if (outcome.kind !== 'retry') {
        this.#finished.add(`${uid}/${spec.id}`);
        return;
      }
      retries++;
      if (!(await this.#sleepUntil(this.#clock.now() + outcome.delayMs, signal))) return;
    }
  }

  /** Sleeps until `at`; false when the signal aborted first. */
  async #sleepUntil(at: number, signal: AbortSignal): Promise<boolean> {
    try {
      await sleep(this.#clock, Math.max(0, at - this.#clock.now()), signal);
      return true;
    } catch {
      return false;
    }
  }
}
