/**
 * From the user's cache options (`resource.cache`, `owns`, `watches`) to what the watch layer
 * takes: the watch scope with its server-side selectors, the store's transform and indexes, and
 * the list/watch source (metadata-only or whole objects).
 */
import type { KubeClient } from '../client/client.ts';
import type { Stored } from '../client/types.ts';
import type { ResourceRegistration } from '../handlers/registry.ts';
import type { CacheOptions, HandlerCache, RelatedCacheOptions } from '../handlers/types.ts';
import type { Resource } from '../schema/resource.ts';
import { formatSelector, type WatchScope } from '../watch/scope.ts';
import { sourceFor, type ListWatchSource } from '../watch/source.ts';
import { stripForCache, type ReadonlyStore, type StoreOptions } from '../watch/store.ts';

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
 * A label selector narrowed by one more requirement (a shard's own label), whatever form the
 * first was given in.
 *
 * @example
 * ```ts
 * andSelector({ app: 'web' }, 'shard.sharding.operon.dev/web=replica-1'); // 'app=web,shard.sharding.operon.dev/web=replica-1'
 * ```
 */
export function andSelector(selector: string | Readonly<Record<string, string>> | undefined, requirement: string): string {
  const first = formatSelector(selector);
  return first === undefined ? requirement : `${first},${requirement}`;
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
 * The cache handlers read (`ctx.cache`): this resource's store, its declared indexes, and the
 * stores of the owned and related resources through `of`, each lookup failing with the fix when
 * something was not declared.
 *
 * @example
 * ```ts
 * const cache = handlerCache(registration, reflector.store, (resource) => storesByKey.get(resourceKey(resource)));
 * ```
 */
export function handlerCache(registration: ResourceRegistration, store: ReadonlyStore<Stored>, cacheOf: (resource: Resource) => ReadonlyStore<Stored> | undefined): HandlerCache<Stored> {
  const kind = registration.resource.kind;
  return {
    get: (name, namespace) => store.get(name, namespace),
    list: (namespace) => store.list(namespace),
    byIndex: (name, value) => {
      if (registration.cache.indexes?.[name] === undefined) {
        throw new Error(`${kind} has no index "${name}"; declare it with ${kind}.cache({ indexes: { ${JSON.stringify(name)}: (object) => [...] } })`);
      }
      return store.byIndex(name, value);
    },
    of: <R extends Resource>(resource: R) => {
      const found = cacheOf(resource);
      if (!found) throw new Error(`${resource.kind} is not watched by this operator; declare it with ${kind}.owns(...) or .watches(...)`);
      return found as never;
    },
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
