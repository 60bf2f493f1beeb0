/**
 * A reflector keeps a cache in step with the cluster and tells subscribers what changed: it runs
 * the watches of a {@link WatchScope} plan, applies their events to a {@link Store} per watch, and
 * re-emits each change as `(type, object, old?)`.
 *
 * Guarantees:
 * - A subscriber is called after the store holds the change, so reading the store from inside it
 *   sees the new state (controller-runtime's informer order).
 * - After a relist, objects gone in the gap are reported as `deleted` (with the last cached state),
 *   and objects that changed as `modified`; objects the relist found unchanged are not re-reported.
 * - Subscribers are awaited one after the other, change by change, so each sees an object's changes
 *   in order and a slow subscriber slows the watch (backpressure) instead of queueing without bound.
 *   A subscriber that throws is logged and does not stop the others or the watch.
 * - With several watches (one per namespace), a relist of one namespace never touches another's
 *   objects: each watch has its own store, and `store` is a read view over all of them.
 */
import type { KubeObject } from '../client/types.ts';
import type { Logger } from '../base/logger.ts';
import { silentLogger } from '../base/logger.ts';
import type { Backoff } from '../base/backoff.ts';
import type { WatcherEvent } from './machine.ts';
import type { IndexFn, ObjectChange, ReadonlyStore, StoreOptions } from './store.ts';
import { Store } from './store.ts';
import type { WatchPlan, WatchScope } from './scope.ts';
import { planWatches } from './scope.ts';
import type { ListWatchSource } from './source.ts';
import type { WatcherOptions, WatcherStatus } from './watcher.ts';
import { defaultWatchBackoff, Watcher } from './watcher.ts';

/** Receives each change after the store applied it; a returned promise is awaited. */
export type ChangeSubscriber<T extends KubeObject> = (change: ObjectChange<T>) => void | Promise<void>;

export interface ReflectorOptions<T extends KubeObject>
  extends Omit<WatcherOptions<T>, 'namespace' | 'labelSelector' | 'fieldSelector' | 'backoff' | 'name'> {
  source: ListWatchSource<T>;
  /** True for namespaced resources (pods), false for cluster-scoped ones (nodes). */
  namespaced: boolean;
  /** What to watch. Default: everything. */
  scope?: WatchScope;
  /** Cache options: transform and custom indexes (applied to every watch's store). */
  store?: StoreOptions<T>;
  /** A fresh backoff per watch. Default: {@link defaultWatchBackoff}. */
  backoff?: () => Backoff;
  /** Names the resource in logs, e.g. `pods`. */
  name?: string;
  logger?: Logger;
}

/** The health of a reflector: healthy when all its watches are. */
export interface ReflectorStatus {
  healthy: boolean;
  /** False while any of its watches is not `current` (stalled, or failing past the idle timeout). */
  current: boolean;
  watches: Array<WatcherStatus & { namespace?: string }>;
}

interface Lane<T extends KubeObject> {
  readonly namespace: string | undefined;
  readonly watcher: Watcher<T>;
  readonly store: Store<T>;
}

/**
 * Keeps a cache of one resource and reports per-object changes.
 *
 * @example
 * ```ts
 * const pods = new Reflector<Pod>({ source: sourceFor(client, podsRef), namespaced: true, scope: { namespaces: ['shop'] } });
 * pods.subscribe(async ({ type, object, old }) => queue.add(object));
 * void pods.start();
 * await pods.store.ready;
 * pods.store.get('web-0', 'shop');
 * ```
 */
export class Reflector<T extends KubeObject> {
  /** The watches this reflector runs and how it filters. */
  readonly plan: WatchPlan;
  /** The cache, read-only. */
  readonly store: ReadonlyStore<T>;
  readonly #lanes: Lane<T>[];
  readonly #subscribers = new Set<ChangeSubscriber<T>>();
  readonly #log: Logger;
  #running: Promise<void> | undefined;

  constructor(options: ReflectorOptions<T>) {
    this.plan = planWatches(options.scope ?? {}, { namespaced: options.namespaced });
    this.#log = (options.logger ?? silentLogger).child({ resource: options.name ?? 'objects', scope: this.plan.description });
    const { source, scope: _scope, store: storeOptions, backoff, namespaced: _namespaced, name, logger: _logger, ...watcherOptions } = options;
    this.#lanes = this.plan.watches.map((planned) => ({
      namespace: planned.namespace,
      store: new Store<T>(storeOptions),
      watcher: new Watcher<T>({
        ...watcherOptions,
        ...planned,
        source,
        backoff: (backoff ?? defaultWatchBackoff)(),
        logger: this.#log,
        name: `${name ?? 'objects'} in ${planned.namespace ?? 'all namespaces'}`,
      }),
    }));
    const only = this.#lanes.length === 1 ? this.#lanes[0] : undefined;
    this.store = only ? only.store : new StoreView(this.#lanes);
  }

  /**
   * Adds a subscriber; returns the function that removes it.
   *
   * @example
   * ```ts
   * const unsubscribe = reflector.subscribe(({ type, object }) => console.log(type, object.metadata?.name));
   * ```
   */
  subscribe(subscriber: ChangeSubscriber<T>): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /**
   * Adds a custom index to the cache (every watch's store).
   *
   * @example
   * ```ts
   * reflector.addIndex('node', (pod) => (pod.spec?.nodeName ? [pod.spec.nodeName] : []));
   * reflector.store.byIndex('node', 'node-1');
   * ```
   */
  addIndex(name: string, fn: IndexFn<T>): void {
    for (const lane of this.#lanes) lane.store.addIndex(name, fn);
  }

  /**
   * Runs every watch until `stop()`. Resolves when all have stopped; never rejects.
   *
   * @example
   * ```ts
   * const running = reflector.start();
   * await reflector.store.ready;
   * ```
   */
  start(): Promise<void> {
    this.#running ??= Promise.all(this.#lanes.map((lane) => lane.watcher.run((event) => this.#handle(lane, event)))).then(() => undefined);
    return this.#running;
  }

  /**
   * Stops every watch; resolves when they have ended.
   *
   * @example
   * ```ts
   * await reflector.stop();
   * ```
   */
  async stop(): Promise<void> {
    await Promise.all(this.#lanes.map((lane) => lane.watcher.stop()));
  }

  /**
   * The state of every watch, and whether all are healthy.
   *
   * @example
   * ```ts
   * healthz.add('pods', () => reflector.status().healthy);
   * ```
   */
  status(): ReflectorStatus {
    const watches = this.#lanes.map((lane) => ({ ...lane.watcher.status(), ...(lane.namespace ? { namespace: lane.namespace } : {}) }));
    return { healthy: watches.every((w) => w.healthy), current: watches.every((w) => w.current), watches };
  }

  /**
   * Applies an event to its store and tells the subscribers, in order. Synchronous while every
   * subscriber is: a promise per event and subscriber was a measurable part of a burst's garbage.
   * From the first subscriber that returns a promise on, the rest are chained after it.
   */
  #handle(lane: Lane<T>, event: WatcherEvent<T>): Promise<void> | undefined {
    const filter = this.plan.namespaceFilter;
    // Deletes pass unfiltered: the store ignores keys it never held.
    if (filter && (event.type === 'Apply' || event.type === 'InitApply') && !filter(event.object.metadata?.namespace ?? '')) return undefined;
    let pending: Promise<void> | undefined;
    for (const change of lane.store.apply(event)) {
      for (const subscriber of this.#subscribers) {
        pending = pending === undefined ? this.#deliver(subscriber, change) : pending.then(() => this.#deliver(subscriber, change));
      }
    }
    return pending;
  }

  #deliver(subscriber: ChangeSubscriber<T>, change: ObjectChange<T>): Promise<void> | undefined {
    try {
      const done = subscriber(change);
      return done === undefined ? undefined : done.then(undefined, (error: unknown) => this.#failed(error, change));
    } catch (error) {
      this.#failed(error, change);
      return undefined;
    }
  }

  #failed(error: unknown, change: ObjectChange<T>): void {
    this.#log.error({ err: error, change: change.type, name: change.object.metadata?.name, namespace: change.object.metadata?.namespace }, 'change subscriber failed');
  }
}

/** A read view over the per-namespace stores of a multi-namespace plan. */
class StoreView<T extends KubeObject> implements ReadonlyStore<T> {
  readonly #byNamespace: Map<string, Store<T>>;
  readonly #stores: Store<T>[];
  readonly ready: Promise<void>;

  constructor(lanes: readonly Lane<T>[]) {
    this.#stores = lanes.map((l) => l.store);
    this.#byNamespace = new Map(lanes.filter((l) => l.namespace !== undefined).map((l) => [l.namespace as string, l.store]));
    this.ready = Promise.all(this.#stores.map((s) => s.ready)).then(() => undefined);
  }

  get size(): number {
    return this.#stores.reduce((n, s) => n + s.size, 0);
  }

  isReady(): boolean {
    return this.#stores.every((s) => s.isReady());
  }

  get(name: string, namespace?: string): T | undefined {
    return namespace === undefined ? undefined : this.#byNamespace.get(namespace)?.get(name, namespace);
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) return this.#byNamespace.get(namespace)?.list(namespace) ?? [];
    return this.#stores.flatMap((s) => s.list());
  }

  byIndex(indexName: string, value: string): T[] {
    return this.#stores.flatMap((s) => s.byIndex(indexName, value));
  }
}
