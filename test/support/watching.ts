/**
 * Helpers for real-cluster watch tests: a recording subscriber, a source that counts the requests
 * a watcher makes, and the comparison of a cache with what the server lists.
 */
import type { KubeClient } from '../../src/client/client.ts';
import type { KubeObject, ListOptions, ResourceRef, WatchOptions } from '../../src/client/types.ts';
import type { ListWatchSource } from '../../src/watch/source.ts';
import { sourceFor } from '../../src/watch/source.ts';
import type { ObjectChange, ReadonlyStore } from '../../src/watch/store.ts';

export const configmaps: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** What a subscriber saw, as `type name` strings, plus the changes themselves. */
export class ChangeLog<T extends KubeObject = ConfigMap> {
  readonly changes: Array<ObjectChange<T>> = [];
  readonly record = (change: ObjectChange<T>): void => {
    this.changes.push(change);
  };
  /** `added a`, `modified a`, ... for the objects `names` keeps (all by default). */
  lines(keep: (name: string) => boolean = () => true): string[] {
    return this.changes.filter((c) => keep(c.object.metadata?.name ?? '')).map((c) => `${c.type} ${c.object.metadata?.name ?? ''}`);
  }
}

/** A source over the real client that records every list and watch it is asked for. */
export function recordingSource<T extends KubeObject>(client: KubeClient, ref: ResourceRef): ListWatchSource<T> & { lists: ListOptions[]; watches: WatchOptions[] } {
  const inner = sourceFor<T>(client, ref);
  const lists: ListOptions[] = [];
  const watches: WatchOptions[] = [];
  return {
    lists,
    watches,
    list(options) {
      const { signal: _signal, ...rest } = options;
      lists.push(rest);
      return inner.list(options);
    },
    watch(options) {
      const { signal: _signal, onConnected: _onConnected, ...rest } = options;
      watches.push(rest);
      return inner.watch(options);
    },
  };
}

/** `namespace/name → resourceVersion` of a cache. */
export function cached(store: ReadonlyStore<KubeObject>): Record<string, string> {
  return Object.fromEntries(store.list().map((o) => [`${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`, o.metadata?.resourceVersion ?? '']));
}

/** `namespace/name → resourceVersion` as the server lists it now. */
export async function listed(client: KubeClient, ref: ResourceRef, options: { namespace?: string; labelSelector?: string } = {}): Promise<Record<string, string>> {
  const list = await client.listAll(ref, options);
  return Object.fromEntries(list.items.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.resourceVersion]));
}

/** True when both maps hold the same keys with the same values. */
export function sameEntries(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}
