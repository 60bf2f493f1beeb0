/**
 * The watches of resources an operator watches without handling them: owned kinds (`owns`) and
 * related ones (`watches`). One watch per resource serves every declaration of it, so they must
 * ask for the same cache; a handled resource is watched by its own runtime instead, with its own
 * cache options.
 */
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import type { Stored } from '../client/types.ts';
import { resourceKey } from '../handlers/registry.ts';
import type { RelatedCacheOptions } from '../handlers/types.ts';
import type { Resource } from '../schema/resource.ts';
import { Reflector } from '../watch/reflector.ts';
import type { WatchScope } from '../watch/scope.ts';
import { listWatchSource, sameCache, storeOptions, watchScope } from './cache-options.ts';

/** What every related watch shares. */
export interface RelatedWatchesOptions {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The operator's namespaces. */
  readonly scope: WatchScope;
  /** A watch silent this long is presumed stalled. Default: the reflector's. */
  readonly idleTimeoutMs?: number | undefined;
}

/**
 * Related watches by resource key.
 *
 * @example
 * ```ts
 * const related = new RelatedWatches({ client, logger, clock, scope });
 * runtime.follow(related.reflectorFor(pods, { metadataOnly: true }), source);
 * related.start();
 * ```
 */
export class RelatedWatches {
  readonly #options: RelatedWatchesOptions;
  readonly #reflectors = new Map<string, Reflector<Stored>>();
  /** The cache options each watch was made with. */
  readonly #caches = new Map<string, RelatedCacheOptions<Stored>>();

  constructor(options: RelatedWatchesOptions) {
    this.#options = options;
  }

  /** The one watch of `resource`, made on first use; throws when declarations disagree on its cache. */
  reflectorFor(resource: Resource, cache: RelatedCacheOptions<Stored>): Reflector<Stored> {
    const key = resourceKey(resource);
    const first = this.#caches.get(key);
    if (first !== undefined && !sameCache(first, cache)) {
      throw new Error(`${resource.kind} is declared by owns() or watches() more than once with different cache options; one watch serves them all: give every declaration the same options`);
    }
    let reflector = this.#reflectors.get(key);
    if (!reflector) {
      const { client, logger, clock, scope, idleTimeoutMs } = this.#options;
      this.#caches.set(key, cache);
      reflector = new Reflector<Stored>({
        source: listWatchSource(client, resource, cache),
        namespaced: resource.namespaced,
        scope: watchScope(scope, cache),
        store: storeOptions(cache),
        name: resource.plural,
        logger,
        clock,
        ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
      });
      this.#reflectors.set(key, reflector);
    }
    return reflector;
  }

  /** The watch of `resource`, if there is one. */
  get(resource: Resource): Reflector<Stored> | undefined {
    return this.#reflectors.get(resourceKey(resource));
  }

  /** Every watch, by resource key. */
  entries(): IterableIterator<[string, Reflector<Stored>]> {
    return this.#reflectors.entries();
  }

  /** Starts every watch. */
  start(): void {
    for (const reflector of this.#reflectors.values()) void reflector.start();
  }

  /** Stops every watch. */
  async stop(): Promise<void> {
    await Promise.all([...this.#reflectors.values()].map((r) => r.stop()));
  }
}
