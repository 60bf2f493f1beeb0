/**
 * The cache of one watch: the objects a {@link Watcher} reported, keyed by `namespace/name` (the
 * name alone for cluster-scoped objects), with a namespace index and any number of custom indexes.
 *
 * Guarantees:
 * - Readers never see a half-built relist. `Init` starts a separate buffer, `InitApply` fills it,
 *   and `InitDone` swaps it in with one synchronous assignment (kube-rs `reflector::store`): until
 *   then reads answer from the previous complete state.
 * - The swap reports what changed against the previous state, including every object that vanished
 *   during the gap as a deletion, so a relist never loses a delete.
 * - One copy per object: the stored object is the one the watch delivered, after `transform` (by
 *   default a shallow copy without `metadata.managedFields` and the last-applied annotation).
 *   Nothing is deep-copied; treat returned objects as read-only.
 * - `apply` of `Apply`/`Delete` is O(1) plus the object's index values; `InitDone` is O(n).
 *
 * Caveat: an index function that throws indexes that object under no value.
 */
import { objectKey } from '../client/keys.ts';
import type { KubeObject } from '../client/types.ts';
import type { WatcherEvent } from './machine.ts';

/** Values under which an object is indexed. */
export type IndexFn<T extends KubeObject> = (object: T) => readonly string[];

/** A change the store made, with the object it replaced or removed. */
export interface ObjectChange<T extends KubeObject> {
  readonly type: 'added' | 'modified' | 'deleted';
  /** The new object; for `deleted`, the last state (from the DELETED event, or the cached one after a relist). */
  readonly object: T;
  /** The object as cached before the change; absent for `added`. */
  readonly old?: T;
}

/** The read side of a cache, shared by {@link Store} and the combined view of several stores. */
export interface ReadonlyStore<T extends KubeObject> {
  /** The cached object, or undefined. Omit `namespace` for cluster-scoped objects. */
  get(name: string, namespace?: string): T | undefined;
  /** All cached objects, or those of one namespace. A new array each call: a snapshot. */
  list(namespace?: string): T[];
  /** Objects whose index function returned `value`. Throws on an unknown index name. */
  byIndex(indexName: string, value: string): T[];
  readonly size: number;
  /** True once the first complete list has been swapped in. */
  isReady(): boolean;
  /** Resolves once the first complete list has been swapped in. */
  readonly ready: Promise<void>;
}

export interface StoreOptions<T extends KubeObject> {
  /**
   * Applied to every object before it is stored, to save memory. Default {@link stripForCache};
   * pass `null` to keep objects whole. Must keep `metadata.name` and `metadata.namespace`.
   */
  transform?: ((object: T) => T) | null;
  /** Custom indexes, as with {@link Store.addIndex}. */
  indexes?: Record<string, IndexFn<T>>;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';


/**
 * The default transform: drops `metadata.managedFields` (often half an object's size) and the
 * `kubectl.kubernetes.io/last-applied-configuration` annotation (a second copy of the object).
 * Copies shallowly and only what it changes; identity, ownership, generation, deletion and
 * finalizer metadata are untouched.
 *
 * @example
 * ```ts
 * const slim = stripForCache(pod);
 * slim.metadata?.managedFields; // undefined
 * slim.metadata?.uid === pod.metadata?.uid; // true
 * ```
 */
export function stripForCache<T extends KubeObject>(object: T): T {
  const meta = object.metadata;
  if (meta === undefined) return object;
  shareTexts(object);
  const hasLastApplied = meta.annotations !== undefined && LAST_APPLIED in meta.annotations;
  if (meta.managedFields === undefined && !hasLastApplied) return object;
  const { managedFields: _dropped, ...rest } = meta;
  if (hasLastApplied && meta.annotations) {
    const { [LAST_APPLIED]: _lastApplied, ...annotations } = meta.annotations;
    rest.annotations = annotations;
  }
  return { ...object, metadata: rest };
}

/**
 * The texts many cached objects repeat, one copy each: `JSON.parse` makes a new string for every
 * value (V8 shares only very short ones), so 10,000 objects held 10,000 copies of their `kind`,
 * `apiVersion`, and their conditions' types, reasons, messages and transition times (about 0.7 KB
 * per CVC, docs/performance.md). Bounded: when full it starts over, so texts that never repeat
 * (a message naming its object) cost at most a few more copies of the common ones.
 */
const SHARED_TEXTS_MAX = 4096;
const sharedTexts = new Map<string, string>();

function shared(text: string): string {
  const known = sharedTexts.get(text);
  if (known !== undefined) return known;
  if (sharedTexts.size >= SHARED_TEXTS_MAX) sharedTexts.clear();
  sharedTexts.set(text, text);
  return text;
}

/**
 * Replaces repeated texts of `object` by their shared copy, in place. A string is a value, so an
 * equal one in its place changes nothing anyone can see, even for a holder of the same object;
 * frozen parts are left alone.
 */
function shareTexts(object: KubeObject): void {
  if (Object.isFrozen(object)) return;
  if (typeof object.kind === 'string') object.kind = shared(object.kind);
  if (typeof object.apiVersion === 'string') object.apiVersion = shared(object.apiVersion);
  const conditions = (object as { status?: { conditions?: unknown } }).status?.conditions;
  if (!Array.isArray(conditions)) return;
  for (const condition of conditions as unknown[]) {
    if (typeof condition !== 'object' || condition === null || Object.isFrozen(condition)) continue;
    const fields = condition as Record<string, unknown>;
    for (const field in fields) {
      const value = fields[field];
      if (typeof value === 'string') fields[field] = shared(value);
    }
  }
}

interface Index<T extends KubeObject> {
  readonly fn: IndexFn<T>;
  /** value → key → object */
  readonly entries: Map<string, Map<string, T>>;
  /** key → the values it is filed under, to unfile it in O(values). */
  readonly valuesOf: Map<string, readonly string[]>;
}

/**
 * The cache. The reflector is its only writer (`apply`); everyone else reads.
 *
 * @example
 * ```ts
 * const store = new Store<Pod>({ indexes: { node: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) } });
 * store.apply({ type: 'Init' });
 * store.apply({ type: 'InitApply', object: pod });
 * store.apply({ type: 'InitDone' });
 * store.get('web-0', 'shop');
 * store.byIndex('node', 'node-1');
 * ```
 */
export class Store<T extends KubeObject> implements ReadonlyStore<T> {
  #objects = new Map<string, T>();
  /** namespace ('' for cluster-scoped) → key → object */
  #byNamespace = new Map<string, Map<string, T>>();
  readonly #indexes = new Map<string, Index<T>>();
  #buffer: Map<string, T> | undefined;
  #ready = false;
  readonly #transform: (object: T) => T;
  readonly #readyResolvers = Promise.withResolvers<void>();

  constructor(options: StoreOptions<T> = {}) {
    this.#transform = options.transform === null ? (o: T) => o : (options.transform ?? stripForCache);
    for (const [name, fn] of Object.entries(options.indexes ?? {})) this.addIndex(name, fn);
  }

  get ready(): Promise<void> {
    return this.#readyResolvers.promise;
  }

  isReady(): boolean {
    return this.#ready;
  }

  get size(): number {
    return this.#objects.size;
  }

  /**
   * Adds a custom index; existing objects are indexed at once.
   *
   * @example
   * ```ts
   * store.addIndex('owner', (o) => (o.metadata?.ownerReferences ?? []).map((r) => r.uid));
   * ```
   */
  addIndex(name: string, fn: IndexFn<T>): void {
    if (this.#indexes.has(name)) throw new Error(`index "${name}" already exists`);
    const index: Index<T> = { fn, entries: new Map(), valuesOf: new Map() };
    this.#indexes.set(name, index);
    for (const [key, object] of this.#objects) file(index, key, object);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#objects.get(namespace ? `${namespace}/${name}` : name);
  }

  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.#objects.values()];
    return [...(this.#byNamespace.get(namespace)?.values() ?? [])];
  }

  byIndex(indexName: string, value: string): T[] {
    const index = this.#indexes.get(indexName);
    if (index === undefined) throw new Error(`no index named "${indexName}"`);
    return [...(index.entries.get(value)?.values() ?? [])];
  }

  /**
   * Applies one watcher event and returns the changes it made, in order. `InitDone` returns the
   * difference to the previous state: additions, modifications (resourceVersion changed) and the
   * deletions of objects not seen in the relist.
   *
   * @example
   * ```ts
   * for (const change of store.apply(event)) console.log(change.type, change.object.metadata?.name);
   * ```
   */
  apply(event: WatcherEvent<T>): ObjectChange<T>[] {
    switch (event.type) {
      case 'Init':
        this.#buffer = new Map();
        return [];
      case 'InitApply': {
        const object = this.#transform(event.object);
        const key = objectKey(object);
        if (key !== undefined) (this.#buffer ??= new Map()).set(key, object);
        return [];
      }
      case 'InitDone':
        return this.#swap(this.#buffer ?? new Map());
      case 'Apply':
        return this.#upsert(this.#transform(event.object));
      case 'Delete':
        return this.#remove(event.object);
    }
  }

  #upsert(object: T): ObjectChange<T>[] {
    const key = objectKey(object);
    if (key === undefined) return [];
    const old = this.#objects.get(key);
    // A replayed event (same resourceVersion) changes nothing and is not reported twice.
    if (old !== undefined && sameVersion(old, object)) return [];
    if (old !== undefined) this.#unindex(key, old);
    this.#insert(key, object);
    return [old === undefined ? { type: 'added', object } : { type: 'modified', object, old }];
  }

  #remove(object: T): ObjectChange<T>[] {
    const key = objectKey(object);
    if (key === undefined) return [];
    const old = this.#objects.get(key);
    if (old === undefined) return [];
    this.#unindex(key, old);
    this.#objects.delete(key);
    return [{ type: 'deleted', object: this.#transform(object), old }];
  }

  #swap(next: Map<string, T>): ObjectChange<T>[] {
    const previous = this.#objects;
    const changes: ObjectChange<T>[] = [];
    for (const [key, object] of next) {
      const old = previous.get(key);
      if (old === undefined) changes.push({ type: 'added', object });
      else if (!sameVersion(old, object)) changes.push({ type: 'modified', object, old });
    }
    for (const [key, old] of previous) {
      if (!next.has(key)) changes.push({ type: 'deleted', object: old, old });
    }
    // Build the new indexes off to the side, then publish everything in one synchronous block.
    const byNamespace = new Map<string, Map<string, T>>();
    for (const [key, object] of next) fileNamespace(byNamespace, key, object);
    for (const index of this.#indexes.values()) {
      index.entries.clear();
      index.valuesOf.clear();
      for (const [key, object] of next) file(index, key, object);
    }
    this.#objects = next;
    this.#byNamespace = byNamespace;
    this.#buffer = undefined;
    if (!this.#ready) {
      this.#ready = true;
      this.#readyResolvers.resolve();
    }
    return changes;
  }

  #insert(key: string, object: T): void {
    this.#objects.set(key, object);
    fileNamespace(this.#byNamespace, key, object);
    for (const index of this.#indexes.values()) file(index, key, object);
  }

  #unindex(key: string, object: T): void {
    const ns = object.metadata?.namespace ?? '';
    const inNs = this.#byNamespace.get(ns);
    inNs?.delete(key);
    if (inNs?.size === 0) this.#byNamespace.delete(ns);
    for (const index of this.#indexes.values()) {
      for (const value of index.valuesOf.get(key) ?? []) {
        const bucket = index.entries.get(value);
        bucket?.delete(key);
        if (bucket?.size === 0) index.entries.delete(value);
      }
      index.valuesOf.delete(key);
    }
  }
}

function sameVersion(a: KubeObject, b: KubeObject): boolean {
  const rv = a.metadata?.resourceVersion;
  return rv !== undefined && rv === b.metadata?.resourceVersion;
}

function fileNamespace<T extends KubeObject>(byNamespace: Map<string, Map<string, T>>, key: string, object: T): void {
  const ns = object.metadata?.namespace ?? '';
  let inNs = byNamespace.get(ns);
  if (inNs === undefined) byNamespace.set(ns, (inNs = new Map()));
  inNs.set(key, object);
}

function file<T extends KubeObject>(index: Index<T>, key: string, object: T): void {
  let values: readonly string[];
  try {
    values = [...new Set(index.fn(object))];
  } catch {
    values = [];
  }
  index.valuesOf.set(key, values);
  for (const value of values) {
    let bucket = index.entries.get(value);
    if (bucket === undefined) index.entries.set(value, (bucket = new Map()));
    bucket.set(key, object);
  }
}
