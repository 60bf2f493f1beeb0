/**
 * From `{ apiVersion, kind }` to the {@link ResourceRef} a URL needs, by asking the API server
 * (`/api/v1`, `/apis/{group}/{version}`) which resources a group/version serves.
 *
 * Guarantees: one discovery request per group/version while its answer stays useful (concurrent
 * callers share it); a kind missing from the cached answer triggers exactly one refresh, because a
 * CRD may have been installed since; subresources (`pods/status`) never match a kind. A kind that
 * is still unknown is a typed `NotFound` {@link ApiError} saying whether the group/version is
 * served at all.
 */
import { ApiError } from './errors.ts';
import { apiVersionOf, groupVersionPath, parseApiVersion } from './paths.ts';
import type { ResourceRef } from './types.ts';

/** One entry of an `APIResourceList`, the parts discovery needs. */
export interface DiscoveredResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs?: string[];
}

/** Fetches the resources of a group/version; `undefined` when the server does not serve it (404). */
export type DiscoveryFetch = (group: string, version: string, signal?: AbortSignal) => Promise<DiscoveredResource[] | undefined>;

/**
 * A cache of discovery answers.
 *
 * @example
 * ```ts
 * const discovery = new Discovery((g, v, signal) => fetchResources(g, v, signal));
 * await discovery.resolve({ apiVersion: 'apps/v1', kind: 'Deployment' });
 * // { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true }
 * ```
 */
export class Discovery {
  readonly #fetch: DiscoveryFetch;
  readonly #cache = new Map<string, Promise<DiscoveredResource[] | undefined>>();

  constructor(fetch: DiscoveryFetch) {
    this.#fetch = fetch;
  }

  /**
   * The resource serving `kind` in `apiVersion`.
   *
   * @example
   * ```ts
   * const printers = await discovery.resolve({ apiVersion: 'operon.dev/v1', kind: 'Printer' });
   * ```
   */
  async resolve(type: { apiVersion: string; kind: string }, signal?: AbortSignal): Promise<ResourceRef> {
    const { group, version } = parseApiVersion(type.apiVersion);
    const key = apiVersionOf({ group, version });
    const hadCache = this.#cache.has(key);
    let resources = await this.#load(key, group, version, signal);
    let found = find(resources, type.kind);
    if (found === undefined && hadCache) {
      this.#cache.delete(key);
      resources = await this.#load(key, group, version, signal);
      found = find(resources, type.kind);
    }
    if (found !== undefined) return { group, version, plural: found.name, namespaced: found.namespaced };
    const path = groupVersionPath(group, version);
    const message =
      resources === undefined
        ? `apiVersion ${key} is not served by the API server (GET ${path} returned 404)`
        : `kind ${type.kind} is not served in apiVersion ${key} (served kinds: ${[...new Set(resources.filter((r) => !r.name.includes('/')).map((r) => r.kind))].join(', ') || 'none'})`;
    throw new ApiError({
      kind: 'NotFound',
      code: 404,
      message,
      request: { verb: 'get', resource: path },
      hint: group === '' ? 'check the spelling of kind and apiVersion' : `is the CustomResourceDefinition for ${type.kind}.${group} installed and established, with version ${version} served?`,
    });
  }

  /** Forgets cached answers: of one apiVersion, of every version of a group (`group/*`), or all. */
  invalidate(apiVersion?: string): void {
    if (apiVersion === undefined) this.#cache.clear();
    else if (apiVersion.endsWith('/*')) {
      const prefix = apiVersion.slice(0, -1);
      for (const key of this.#cache.keys()) if (key.startsWith(prefix)) this.#cache.delete(key);
    } else this.#cache.delete(apiVersion);
  }

  #load(key: string, group: string, version: string, signal: AbortSignal | undefined): Promise<DiscoveredResource[] | undefined> {
    let pending = this.#cache.get(key);
    if (pending === undefined) {
      pending = this.#fetch(group, version, signal);
      this.#cache.set(key, pending);
      // A failed discovery request must not be remembered as the answer.
      pending.catch(() => {
        if (this.#cache.get(key) === pending) this.#cache.delete(key);
      });
    }
    return pending;
  }
}

function find(resources: DiscoveredResource[] | undefined, kind: string): DiscoveredResource | undefined {
  return resources?.find((r) => r.kind === kind && !r.name.includes('/'));
}
