// An in-memory ListWatchSource whose answers the test scripts, and small object factories. It
// behaves as the real client promises to: watch() fails on the first next() when refused, streams
// end when told, and a pending next() rejects once the request's signal aborts.
import { ApiError } from '../../../src/client/errors.ts';
import type { KubeObject, ListOptions, ObjectList, Status, WatchEvent, WatchOptions } from '../../../src/client/types.ts';
import { INITIAL_EVENTS_END_ANNOTATION } from '../../../src/client/types.ts';
import type { ListWatchSource } from '../../../src/watch/source.ts';

export interface Obj extends KubeObject {
  metadata: { name: string; namespace?: string; resourceVersion: string; uid: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

/** `namespace: null` makes a cluster-scoped object. */
export function obj(name: string, resourceVersion: string, namespace: string | null = 'default', data?: Record<string, string>): Obj {
  const o: Obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, resourceVersion, uid: `uid-${namespace ?? ''}-${name}` } };
  if (namespace !== null) o.metadata.namespace = namespace;
  if (data) o.data = data;
  return o;
}

export function page(items: Obj[], resourceVersion: string, continueToken?: string): ObjectList<Obj> {
  return { metadata: { resourceVersion, ...(continueToken ? { continue: continueToken } : {}) }, items };
}

export const added = (o: Obj): WatchEvent<Obj> => ({ type: 'ADDED', object: o });
export const modified = (o: Obj): WatchEvent<Obj> => ({ type: 'MODIFIED', object: o });
export const deleted = (o: Obj): WatchEvent<Obj> => ({ type: 'DELETED', object: o });
export const bookmark = (resourceVersion: string, initialEnd = false): WatchEvent<Obj> => ({
  type: 'BOOKMARK',
  object: { kind: 'ConfigMap', metadata: { resourceVersion, ...(initialEnd ? { annotations: { [INITIAL_EVENTS_END_ANNOTATION]: 'true' } } : {}) } },
});
export const errorEvent = (status: Status): WatchEvent<Obj> => ({ type: 'ERROR', object: status });
export const gone = (): WatchEvent<Obj> => errorEvent({ kind: 'Status', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version: 5 (90)' });

export const expired = (): ApiError => new ApiError({ kind: 'Expired', code: 410, message: 'too old resource version: 5 (90)' });
export const internal = (): ApiError => new ApiError({ kind: 'InternalError', code: 500, message: 'etcdserver: request timed out' });
export const forbidden = (verb = 'list'): ApiError =>
  new ApiError({ kind: 'Forbidden', code: 403, message: `${verb} configmaps failed (Forbidden, HTTP 403): forbidden`, request: { verb, resource: 'configmaps' } });
export const badRequest = (): ApiError =>
  new ApiError({ kind: 'BadRequest', code: 400, message: 'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled' });
export const tooLarge = (): ApiError =>
  new ApiError({
    kind: 'Timeout',
    code: 504,
    message: 'Too large resource version',
    status: { kind: 'Status', code: 504, reason: 'Timeout', message: 'Too large resource version: 12, current: 10', details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 } },
    retryAfterMs: 1000,
  });

type Item<T extends KubeObject> = { event: WatchEvent<T> } | { end: true } | { error: unknown };

/** A watch stream the test feeds by hand. */
export class ScriptedStream<T extends KubeObject> implements AsyncIterableIterator<WatchEvent<T>> {
  readonly options: WatchOptions;
  readonly #queue: Item<T>[] = [];
  #waiter: { resolve: (r: IteratorResult<WatchEvent<T>>) => void; reject: (e: unknown) => void } | undefined;
  #closed = false;
  /** How many times the consumer asked for the next event. */
  pulls = 0;

  constructor(options: WatchOptions) {
    this.options = options;
    options.signal?.addEventListener('abort', () => this.#settle({ error: Object.assign(new Error('aborted'), { name: 'AbortError' }) }), { once: true });
  }

  get aborted(): boolean {
    return this.options.signal?.aborted ?? false;
  }

  push(...events: WatchEvent<T>[]): this {
    for (const event of events) this.#settle({ event });
    return this;
  }

  end(): this {
    this.#settle({ end: true });
    return this;
  }

  fail(error: unknown): this {
    this.#settle({ error });
    return this;
  }

  #settle(item: Item<T>): void {
    if (this.#closed) return;
    const waiter = this.#waiter;
    if (waiter === undefined) {
      this.#queue.push(item);
      return;
    }
    this.#waiter = undefined;
    this.#deliver(item, waiter.resolve, waiter.reject);
  }

  #deliver(item: Item<T>, resolve: (r: IteratorResult<WatchEvent<T>>) => void, reject: (e: unknown) => void): void {
    if ('event' in item) return resolve({ value: item.event, done: false });
    this.#closed = true;
    if ('end' in item) resolve({ value: undefined, done: true });
    else reject(item.error);
  }

  /** Runs on the first `next()`, like the real client's connect. */
  onFirstPull: (() => void) | undefined;

  next(): Promise<IteratorResult<WatchEvent<T>>> {
    if (this.pulls++ === 0) this.onFirstPull?.();
    const item = this.#queue.shift();
    if (item !== undefined) return new Promise((resolve, reject) => this.#deliver(item, resolve, reject));
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<WatchEvent<T>>> {
    this.#closed = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

export type ListAnswer<T extends KubeObject> = ObjectList<T> | Error | ((options: ListOptions) => ObjectList<T> | Error);
/** An Error: refused at connect; an array: these events, then the stream ends; 'open': stays open. */
export type WatchAnswer<T extends KubeObject> = Error | WatchEvent<T>[] | 'open' | ((options: WatchOptions) => Error | WatchEvent<T>[] | 'open');

/** Answers LIST and WATCH from scripts; when a script runs dry, the fallback answers. */
export class ScriptedSource<T extends KubeObject = Obj> implements ListWatchSource<T> {
  readonly lists: ListOptions[] = [];
  readonly listTimes: number[] = [];
  readonly watches: WatchOptions[] = [];
  readonly streams: ScriptedStream<T>[] = [];
  readonly listScript: ListAnswer<T>[] = [];
  readonly watchScript: WatchAnswer<T>[] = [];
  listFallback: ListAnswer<T> = new Error('unexpected LIST');
  watchFallback: WatchAnswer<T> = 'open';
  now: () => number = () => 0;
  /** When true, an accepted watch calls `onConnected` on its first pull, as the real client does. */
  reportsConnected = false;

  list(options: ListOptions): Promise<ObjectList<T>> {
    this.lists.push(strip(options));
    this.listTimes.push(this.now());
    let answer = this.listScript.shift() ?? this.listFallback;
    if (typeof answer === 'function') answer = answer(options);
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }

  watch(options: WatchOptions): AsyncIterable<WatchEvent<T>> {
    this.watches.push(strip(options));
    const stream = new ScriptedStream<T>(options);
    this.streams.push(stream);
    let answer = this.watchScript.shift() ?? this.watchFallback;
    if (typeof answer === 'function') answer = answer(options);
    if (answer instanceof Error) stream.fail(answer);
    else {
      if (this.reportsConnected) stream.onFirstPull = () => options.onConnected?.();
      if (Array.isArray(answer)) stream.push(...answer).end();
    }
    return stream;
  }

  /** The stream opened last. */
  get stream(): ScriptedStream<T> {
    const s = this.streams.at(-1);
    if (s === undefined) throw new Error('no watch opened yet');
    return s;
  }
}

/** Options without the signal, for comparisons. */
function strip<O extends { signal?: AbortSignal; onConnected?: () => void }>(options: O): O {
  const { signal: _signal, onConnected: _onConnected, ...rest } = options;
  return rest as O;
}

/** Lets every pending promise chain run (macrotask turns, so long chains finish too). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
