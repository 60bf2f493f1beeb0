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
 */
import { sleep, type Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { Outcome } from '../handlers/execution.ts';
import type { HandlerSpec } from '../handlers/types.ts';

/** What the tasks need from the resource they serve. */
export interface TaskRunner {
  /** Runs one timer tick or one daemon life, with the retry state given. */
  run(spec: HandlerSpec, key: string, uid: string, signal: AbortSignal, state: { retries: number; startedAt: number }): Promise<Outcome>;
  /** When the object last changed (for `idle`). */
  lastChangeAt(uid: string): number | undefined;
  /** A daemon of `key` ended; the object may be waiting for it to be deleted. */
  exited(key: string): void;
}

interface Task {
  readonly spec: HandlerSpec;
  readonly abort: AbortController;
  done: Promise<void>;
  running: boolean;
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
  readonly #byUid = new Map<string, Map<string, Task>>();
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
  ensure(key: string, uid: string, specs: readonly HandlerSpec[]): void {
    if (this.#stopped) return;
    let tasks = this.#byUid.get(uid);
    for (const [id, task] of tasks ?? []) {
      if (!specs.some((s) => s.id === id)) {
        task.abort.abort(new Error(`handler ${id} no longer matches the object`));
        tasks?.delete(id);
      }
    }
    for (const spec of specs) {
      if (tasks?.has(spec.id) || this.#finished.has(`${uid}/${spec.id}`)) continue;
      if (!tasks) this.#byUid.set(uid, (tasks = new Map()));
      const task: Task = { spec, abort: new AbortController(), done: Promise.resolve(), running: true };
      const loop = spec.kind === 'timer' ? this.#timer(task, key, uid) : this.#daemon(task, key, uid);
      task.done = loop
        .catch((error: unknown) => this.#logger.error({ err: error, handler: spec.id, key }, 'background task failed unexpectedly'))
        .finally(() => {
          task.running = false;
          if (this.#byUid.get(uid)?.get(spec.id) === task) this.#byUid.get(uid)?.delete(spec.id);
          if (this.#byUid.get(uid)?.size === 0) this.#byUid.delete(uid);
          if (spec.kind === 'daemon') this.#runner.exited(key);
        });
      tasks.set(spec.id, task);
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
    let running = 0;
    for (const task of tasks?.values() ?? []) {
      task.abort.abort(new Error('the object is being deleted'));
      if (task.running && task.spec.kind === 'daemon') running++;
    }
    return running;
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
    for (const tasks of this.#byUid.values()) n += tasks.size;
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
    for (const tasks of this.#byUid.values()) {
      for (const task of tasks.values()) {
        task.abort.abort(reason);
        all.push(task.done);
      }
    }
    let cancel = (): void => {};
    const grace = new Promise<void>((resolve) => (cancel = this.#clock.setTimer(graceMs, resolve)));
    await Promise.race([Promise.all(all), grace]);
    cancel();
  }

  async #timer(task: Task, key: string, uid: string): Promise<void> {
    const { spec } = task;
    const signal = task.abort.signal;
    const interval = spec.intervalMs as number;
    let nextAt = this.#clock.now() + (spec.initialDelayMs ?? interval);
    let gridStart: number | undefined;
    let retries = 0;
    let startedAt = 0;
    for (;;) {
      if (!(await this.#sleepUntil(nextAt, signal))) return;
      if (spec.idleMs !== undefined) {
        const changed = this.#runner.lastChangeAt(uid) ?? 0;
        const quietAt = changed + spec.idleMs;
        if (quietAt > this.#clock.now()) {
          nextAt = quietAt;
          continue;
        }
      }
      const began = this.#clock.now();
      gridStart ??= began;
      if (retries === 0) startedAt = began;
      const outcome = await this.#runner.run(spec, key, uid, signal, { retries, startedAt });
      if (signal.aborted) return;
      const now = this.#clock.now();
      if (outcome.kind === 'retry') {
        retries++;
        nextAt = now + outcome.delayMs;
        continue;
      }
      retries = 0;
      nextAt = spec.sharp ? gridStart + Math.floor((now - gridStart) / interval + 1) * interval : now + interval;
    }
  }

  async #daemon(task: Task, key: string, uid: string): Promise<void> {
    const { spec } = task;
    const signal = task.abort.signal;
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
