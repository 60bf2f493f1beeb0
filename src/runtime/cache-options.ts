/**
 * From the user's cache options (`resource.cache`, `owns`, `watches`) to what the watch layer
 * takes: the watch scope with its server-side selectors, the store's transform and indexes, and
 * the list/watch source (metadata-only or whole objects).
 */
import type { KubeClient } from '../client/client.ts';
import type { Stored } from '../client/types.ts';
import type { CacheOptions, RelatedCacheOptions } from '../handlers/types.ts';
import type { Resource } from '../schema/resource.ts';
import type { WatchScope } from '../watch/scope.ts';
import { sourceFor, type ListWatchSource } from '../watch/source.ts';
import { stripForCache, type StoreOptions } from '../watch/store.ts';

/**
 * The operator's scope (namespaces) narrowed by the options' selectors.
 *
 * @example
 * ```ts
 * watchScope({ namespaces: ['shop'] }, { labelSelector: { team: 'a' } }); // { namespaces: ['shop'], labelSelector: { team: 'a' } }
 * ```
 */
export function watchScope(scope: WatchScope, options: CacheOptions<Stored>): WatchScope {
  return {
    ...scope,
    ...(options.labelSelector !== undefined ? { labelSelector: options.labelSelector } : {}),
    ...(options.fieldSelector !== undefined ? { fieldSelector: options.fieldSelector } : {}),
  };
}

/**
 * The store options: Operon's own trimming, then the user's transform; the user's indexes.
 *
 * @example
 * ```ts
 * new Reflector({ source, namespaced: true, store: storeOptions({ indexes: { coin: (o) => [o.spec.coin] } }) });
 * ```
 */
export function storeOptions(options: CacheOptions<Stored>): StoreOptions<Stored> {
  const transform = options.transform;
  return {
    ...(transform ? { transform: (object: Stored) => transform(stripForCache(object)) } : {}),
    ...(options.indexes ? { indexes: { ...options.indexes } } : {}),
  };
}

/**
 * The list/watch source of `resource`, metadata-only when asked.
 *
 * @example
 * ```ts
 * const source = listWatchSource(client, pods, { metadataOnly: true });
 * ```
 */
export function listWatchSource(client: KubeClient, resource: Resource, options: RelatedCacheOptions<Stored>): ListWatchSource<Stored> {
  const source = sourceFor<Stored>(client, resource.ref);
  if (!options.metadataOnly) return source;
  return {
    list: (o) => source.list({ ...o, metadataOnly: true }),
    watch: (o) => source.watch({ ...o, metadataOnly: true }),
  };
}

/**
 * True when two declarations of one watched resource ask for the same cache: one watch serves
 * both. Functions compare by identity.
 *
 * @example
 * ```ts
 * if (!sameCache(a, b)) throw new Error('Pod is watched twice with different options');
 * ```
 */
export function sameCache(a: RelatedCacheOptions<Stored>, b: RelatedCacheOptions<Stored>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as Array<keyof RelatedCacheOptions<Stored>>);
  for (const key of keys) {
    const x = a[key];
    const y = b[key];
    if (x === y) continue;
    if (typeof x === 'object' && typeof y === 'object' && JSON.stringify(x) === JSON.stringify(y) && key !== 'indexes') continue;
    return false;
  }
  return true;
}
