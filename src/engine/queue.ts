/**
 * The work queue between events and reconciles, with client-go's workqueue semantics plus the
 * scheduling rules of kube-rs' scheduler and controller-runtime's priority queue.
 *
 * Guarantees:
 * - **Dedupe.** A key is queued at most once; adding a queued key does nothing (except raise its
 *   priority, see below).
 * - **At most one run per key.** A key handed out by {@link WorkQueue.get} is not handed out again
 *   until {@link WorkQueue.done}. Adds that arrive meanwhile mark it dirty, and `done` queues it
 *   once: a burst of any size during a run becomes exactly one follow-up run.
 * - **Earliest wins.** Of several pending requests for one key, the earliest is kept: `addAfter`
 *   keeps the earlier of two times, and an immediate `add` cancels a pending `addAfter` (kube-rs
 *   scheduler rule). The run that follows re-derives what it needs, so nothing is lost.
 * - **FIFO among ready keys, per priority.** A key re-added during its run goes to the back, so a
 *   hot key cannot starve the others. Keys added with `priority: 'low'` (an initial list, a
 *   resync) are handed out only when no normal key is ready, so fresh changes overtake the startup
 *   flood; a normal add of a low key promotes it (controller-runtime's `LowPriority` idea).
 * - **Per-key failure backoff.** `addRateLimited` delays by base × 2^failures, capped
 *   (client-go's `ItemExponentialFailureRateLimiter`); `forget` resets it.
 * - **O(1)** `add`, `get` and `done`: ready keys live in intrusive doubly-linked lists and per-key
 *   state in a Map; one Clock timer per delayed key.
 * - **Shut down means shut down.** After `shutDown`, adds are dropped, pending keys and timers are
 *   discarded, and `get` returns `undefined`; keys being processed may still call `done`. Nothing
 *   is lost for good: the next start (or the next leader) lists every object again.
 *
 * Caveat: low-priority keys wait as long as normal keys keep arriving; that is the point, and the
 * startup flood is finite.
 */
import { backoffDelay } from '../base/backoff.ts';
import { systemClock, type Clock } from '../base/clock.ts';
import { defaults } from '../defaults.ts';

/** Priority of a request. `'low'` is for keys from an initial list or a resync. */
export type Priority = 'normal' | 'low';

/** Options of one add. */
export interface AddOptions {
  /** Default `'normal'`. Of several requests for one key, the highest priority is kept. */
  priority?: Priority;
}

/**
 * Hooks for metrics. Each is optional and called synchronously; the names follow client-go's
 * workqueue metrics (`workqueue_depth`, `_adds_total`, `_retries_total`,
 * `_queue_duration_seconds`, `_work_duration_seconds`) so a Prometheus adapter is a thin layer.
 */
export interface WorkQueueMetrics {
  /** The number of keys ready to be handed out, after every change. */
  depth?(depth: number): void;
  /** A key became ready (counted once per entry into the ready lists, not per deduped add). */
  added?(key: string): void;
  /** A key was re-added after a failure by `addRateLimited`. */
  retried?(key: string): void;
  /** How long a key waited between becoming ready and being handed out. */
  queueLatency?(ms: number, key: string): void;
  /** How long a key was being processed, from `get` to `done`. */
  workDuration?(ms: number, key: string): void;
}

/** Options of a {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** Time source for delays and metrics. Default: the system clock. */
  clock?: Clock;
  /** First failure delay. Default: {@link defaults}.queue.failureBaseDelayMs. */
  failureBaseDelayMs?: number;
  /** Cap on a failure delay. Default: {@link defaults}.queue.failureMaxDelayMs. */
  failureMaxDelayMs?: number;
  metrics?: WorkQueueMetrics;
}

/**
 * The longest single timer armed. Node's setTimeout fires at once for delays above 2^31-1 ms
 * (about 24.8 days), so a longer delay (a monthly `requeueAfter`) is reached in hops.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Per-key state. It exists only while the key is queued, processing or scheduled. */
interface Item {
  readonly key: string;
  /** A run has been requested and not yet handed out. */
  dirty: boolean;
  /** Handed out by `get`, not yet `done`. */
  processing: boolean;
  /** Priority of the pending request (dirty or scheduled). */
  priority: Priority;
  /** When it entered a ready list, for the queue-latency metric. */
  readyAt: number;
  /** When it was handed out, for the work-duration metric. */
  startedAt: number;
  /** Due time of a scheduled request. Never set while `dirty`: an immediate request wins. */
  dueAt: number | undefined;
  cancelTimer: (() => void) | undefined;
  /** Intrusive list links: the ready list this item is in, if any. */
  list: ReadyList | undefined;
  prev: Item | undefined;
  next: Item | undefined;
}

/** A FIFO of items with O(1) push, shift and removal from anywhere. */
class ReadyList {
  head: Item | undefined;
  tail: Item | undefined;
  size = 0;

  push(item: Item): void {
    item.list = this;
    item.prev = this.tail;
    item.next = undefined;
    if (this.tail) this.tail.next = item;
    else this.head = item;
    this.tail = item;
    this.size++;
  }

  remove(item: Item): void {
    if (item.prev) item.prev.next = item.next;
    else this.head = item.next;
    if (item.next) item.next.prev = item.prev;
    else this.tail = item.prev;
    item.list = item.prev = item.next = undefined;
    this.size--;
  }

  shift(): Item | undefined {
    const item = this.head;
    if (item) this.remove(item);
    return item;
  }

  clear(): void {
    for (let item = this.head; item; ) {
      const next = item.next;
      item.list = item.prev = item.next = undefined;
      item = next;
    }
    this.head = this.tail = undefined;
    this.size = 0;
  }
}

/**
 * A keyed work queue: dedupe, one run per key at a time, delayed and rate-limited adds, two
 * priorities, FIFO fairness. See the module comment for the exact guarantees.
 *
 * @example
 * ```ts
 * const queue = new WorkQueue();
 * queue.add('default/web');
 * queue.add('default/web');               // deduped
 * const key = await queue.get();          // 'default/web'
 * queue.add('default/web');               // marked dirty: not handed out while processing
 * queue.done('default/web');              // queued again, once
 * ```
 */
export class WorkQueue {
  readonly #clock: Clock;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #metrics: WorkQueueMetrics;
  readonly #items = new Map<string, Item>();
  readonly #normal = new ReadyList();
  readonly #low = new ReadyList();
  /** Consecutive failures per key; kept apart from `#items` because it outlives a run. */
  readonly #failures = new Map<string, number>();
  /** Callers blocked in `get`. At most one per worker, so an array is fine here. */
  readonly #waiters: Array<(key: string | undefined) => void> = [];
  #shutDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#baseMs = options.failureBaseDelayMs ?? defaults.queue.failureBaseDelayMs;
    this.#maxMs = options.failureMaxDelayMs ?? defaults.queue.failureMaxDelayMs;
    this.#metrics = options.metrics ?? {};
  }

  /**
   * Requests a run of `key` as soon as possible. Deduped with a queued request; deferred until
   * `done` if the key is being processed; cancels a later scheduled request.
   *
   * @example
   * ```ts
   * queue.add('default/web');
   * queue.add('default/db', { priority: 'low' }); // from the initial list
   * ```
   */
  add(key: string, options: AddOptions = {}): void {
    if (this.#shutDown) return;
    let priority = options.priority ?? 'normal';
    const item = this.#item(key);
    if (item.dirty) {
      this.#raise(item, priority);
      return;
    }
    if (item.dueAt !== undefined) {
      // The scheduled request is subsumed by this earlier one; it keeps the higher priority.
      priority = higher(priority, item.priority);
      this.#unschedule(item);
    }
    item.dirty = true;
    item.priority = priority;
    if (!item.processing) this.#enqueue(item);
  }

  /**
   * Requests a run of `key` after `ms` milliseconds. If a request for the key is already pending,
   * the earlier one is kept. `ms <= 0` is an immediate {@link add}.
   *
   * @example
   * ```ts
   * queue.addAfter('default/web', 60_000);
   * queue.addAfter('default/web', 5_000); // now due in 5 s, not 60 s
   * ```
   */
  addAfter(key: string, ms: number, options: AddOptions = {}): void {
    if (this.#shutDown) return;
    if (!(ms > 0)) {
      this.add(key, options);
      return;
    }
    const priority = options.priority ?? 'normal';
    const item = this.#item(key);
    if (item.dirty) {
      this.#raise(item, priority);
      return;
    }
    const dueAt = this.#clock.now() + ms;
    if (item.dueAt !== undefined) {
      item.priority = higher(priority, item.priority);
      if (item.dueAt <= dueAt) return;
      this.#unschedule(item);
    } else {
      item.priority = priority;
    }
    item.dueAt = dueAt;
    this.#arm(item);
  }

  /**
   * Requests a run of `key` after its failure backoff, and counts one more failure:
   * base × 2^failures, capped (5 ms, 10 ms, 20 ms … 1000 s by default). Returns the delay used.
   *
   * @example
   * ```ts
   * queue.addRateLimited('default/web'); // 5
   * queue.addRateLimited('default/web'); // 10
   * queue.forget('default/web');         // the next failure waits 5 ms again
   * ```
   */
  addRateLimited(key: string, options: AddOptions = {}): number {
    if (this.#shutDown) return 0;
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // No jitter: failures of different keys are not synchronised, and client-go has none here.
    const delay = backoffDelay(failures, { initialMs: this.#baseMs, maxMs: this.#maxMs, jitter: 'none' });
    this.#metrics.retried?.(key);
    this.addAfter(key, delay, options);
    return delay;
  }

  /**
   * Resets the failure count of `key` (after a success), so its next failure starts the backoff
   * over. Does not cancel a pending request.
   *
   * @example
   * ```ts
   * queue.forget('default/web');
   * ```
   */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /**
   * How many consecutive failures `key` has had since it was last forgotten.
   *
   * @example
   * ```ts
   * queue.addRateLimited('default/web');
   * queue.numRequeues('default/web'); // 1
   * ```
   */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /**
   * The next ready key, waiting until there is one. Normal keys come before low-priority ones,
   * each in FIFO order. The key counts as processing until {@link done}. Resolves `undefined`
   * once the queue is shut down.
   *
   * @example
   * ```ts
   * for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
   *   try { await work(key); } finally { queue.done(key); }
   * }
   * ```
   */
  get(): Promise<string | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    const item = this.#next();
    if (item) return Promise.resolve(this.#handOut(item));
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Marks the processing of `key` finished. If it was added meanwhile it is queued again, at the
   * back. Calling it for a key that is not processing does nothing.
   *
   * @example
   * ```ts
   * const key = await queue.get();
   * if (key !== undefined) queue.done(key);
   * ```
   */
  done(key: string): void {
    const item = this.#items.get(key);
    if (!item?.processing) return;
    item.processing = false;
    this.#metrics.workDuration?.(this.#clock.now() - item.startedAt, key);
    if (item.dirty) this.#enqueue(item);
    else this.#dropIfIdle(item);
  }

  /**
   * Stops the queue: later adds are dropped, queued and scheduled keys discarded, and every
   * waiting and future `get` resolves `undefined`. Keys being processed may still call `done`.
   *
   * @example
   * ```ts
   * queue.shutDown();
   * await queue.get(); // undefined
   * ```
   */
  shutDown(): void {
    if (this.#shutDown) return;
    this.#shutDown = true;
    this.#normal.clear();
    this.#low.clear();
    for (const item of this.#items.values()) {
      if (item.dueAt !== undefined) this.#unschedule(item);
      item.dirty = false;
      this.#dropIfIdle(item);
    }
    for (const resolve of this.#waiters.splice(0)) resolve(undefined);
    this.#metrics.depth?.(0);
  }

  /** True after {@link shutDown}. */
  get isShutDown(): boolean {
    return this.#shutDown;
  }

  /** Keys ready to be handed out now. */
  get depth(): number {
    return this.#normal.size + this.#low.size;
  }

  /** Keys waiting for a scheduled time (`addAfter`, `addRateLimited`). */
  get scheduled(): number {
    let n = 0;
    for (const item of this.#items.values()) if (item.dueAt !== undefined) n++;
    return n;
  }

  /** Keys handed out and not yet done. */
  get processing(): number {
    let n = 0;
    for (const item of this.#items.values()) if (item.processing) n++;
    return n;
  }

  /**
   * How long the oldest unfinished key has been processing, in ms (0 when none): client-go's
   * `workqueue_longest_running_processor_seconds`, which exposes a stuck reconcile.
   *
   * @example
   * ```ts
   * if (queue.longestRunningMs() > 60_000) logger.warn('a reconcile is stuck');
   * ```
   */
  longestRunningMs(): number {
    const now = this.#clock.now();
    let longest = 0;
    for (const item of this.#items.values()) if (item.processing) longest = Math.max(longest, now - item.startedAt);
    return longest;
  }

  #item(key: string): Item {
    let item = this.#items.get(key);
    if (!item) {
      item = {
        key,
        dirty: false,
        processing: false,
        priority: 'normal',
        readyAt: 0,
        startedAt: 0,
        dueAt: undefined,
        cancelTimer: undefined,
        list: undefined,
        prev: undefined,
        next: undefined,
      };
      this.#items.set(key, item);
    }
    return item;
  }

  /** A dirty key asked for again with a higher priority moves to the back of the normal list. */
  #raise(item: Item, priority: Priority): void {
    if (priority !== 'normal' || item.priority === 'normal') return;
    item.priority = 'normal';
    if (item.list === this.#low) {
      this.#low.remove(item);
      this.#normal.push(item);
    }
  }

  #enqueue(item: Item): void {
    (item.priority === 'low' ? this.#low : this.#normal).push(item);
    item.readyAt = this.#clock.now();
    this.#metrics.added?.(item.key);
    if (this.#waiters.length > 0) {
      // A worker is idle, so the list held nothing else ready: hand this key over directly.
      const resolve = this.#waiters.shift();
      const next = this.#next();
      if (resolve && next) resolve(this.#handOut(next));
      return;
    }
    this.#metrics.depth?.(this.depth);
  }

  #next(): Item | undefined {
    return this.#normal.shift() ?? this.#low.shift();
  }

  #handOut(item: Item): string {
    item.dirty = false;
    item.processing = true;
    item.startedAt = this.#clock.now();
    this.#metrics.queueLatency?.(item.startedAt - item.readyAt, item.key);
    this.#metrics.depth?.(this.depth);
    return item.key;
  }

  #arm(item: Item): void {
    const dueAt = item.dueAt;
    if (dueAt === undefined) return;
    const wait = Math.min(MAX_TIMER_MS, dueAt - this.#clock.now());
    item.cancelTimer = this.#clock.setTimer(wait, () => {
      item.cancelTimer = undefined;
      // A hop of a long delay, or a clock that fired early: wait for the rest.
      if (this.#clock.now() < dueAt) {
        this.#arm(item);
        return;
      }
      item.dueAt = undefined;
      item.dirty = true;
      if (!item.processing) this.#enqueue(item);
    });
  }

  #unschedule(item: Item): void {
    item.cancelTimer?.();
    item.cancelTimer = undefined;
    item.dueAt = undefined;
  }

  #dropIfIdle(item: Item): void {
    if (!item.dirty && !item.processing && item.dueAt === undefined) this.#items.delete(item.key);
  }
}

function higher(a: Priority, b: Priority): Priority {
  return a === 'normal' || b === 'normal' ? 'normal' : 'low';
}
