/**
 * The IO a watcher needs, and nothing more: one LIST page and one WATCH stream of one resource.
 * Keeping it this narrow lets the watcher run against the real client, a fake, or a scripted
 * source in tests, and keeps the watch layer free of HTTP.
 *
 * Contract a source must keep:
 * - `list` resolves with one page or rejects with an `ApiError` (a `TransportError` when no
 *   answer arrived); it honours `options.signal`.
 * - `watch` returns a stream that rejects its first `next()` with an `ApiError` when the server
 *   refuses the request, yields decoded events (an in-stream failure is an `ERROR` event, not a
 *   rejection), ends when the server closes the stream, and ends or rejects promptly once
 *   `options.signal` aborts. It calls `options.onConnected` once the server accepted the watch,
 *   if it can tell; otherwise the watcher counts the stream as working from its first event.
 */
import type { KubeObject, ListOptions, ObjectList, ResourceRef, WatchEvent, WatchOptions } from '../client/types.ts';

/** Lists and watches one resource. See the module comment for the contract. */
export interface ListWatchSource<T extends KubeObject> {
  list(options: ListOptions): Promise<ObjectList<T>>;
  watch(options: WatchOptions): AsyncIterable<WatchEvent<T>>;
}

/** The shape of a client able to list and watch any resource (the real client has it). */
export interface ResourceLister {
  list<T extends KubeObject>(ref: ResourceRef<T>, options: ListOptions): Promise<ObjectList<T>>;
  watch<T extends KubeObject>(ref: ResourceRef<T>, options: WatchOptions): AsyncIterable<WatchEvent<T>>;
}

/**
 * Binds a client to one resource.
 *
 * @example
 * ```ts
 * const pods = sourceFor<Pod>(client, { group: '', version: 'v1', plural: 'pods', namespaced: true });
 * const watcher = new Watcher({ source: pods });
 * ```
 */
export function sourceFor<T extends KubeObject>(client: ResourceLister, ref: ResourceRef<T>): ListWatchSource<T> {
  return {
    list: (options) => client.list<T>(ref, options),
    watch: (options) => client.watch<T>(ref, options),
  };
}
