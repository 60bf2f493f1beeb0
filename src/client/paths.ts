/**
 * Where a request goes and how it is described. Every URL the client sends is built here, so the
 * rules live in one place: the core group is under `/api/v1`, every other group under
 * `/apis/{group}/{version}`; names, namespaces and query values are percent-encoded; a namespace is
 * only ever put in the path of a namespaced resource.
 *
 * Guarantee: pure functions, no IO. The {@link RequestDescription} built here names the verb and
 * resource the way RBAC does (`pods`, `printers.operon.dev`, `pods/status`), so a Forbidden error
 * says exactly which rule is missing.
 */
import type { RequestDescription } from './errors.ts';
import type { ResourceRef } from './types.ts';

/** Which object (or collection) of a resource a request addresses. */
export interface ResourceTarget {
  /** Ignored for cluster-scoped resources; omitted on a namespaced one means all namespaces. */
  namespace?: string;
  name?: string;
  /** `status`, `scale`, ... */
  subresource?: string;
}

/** Values of a query string; `undefined` entries are left out. */
export type QueryParams = Record<string, string | number | boolean | undefined>;

/**
 * The `apiVersion` string of a resource: `v1` for core, `group/version` otherwise.
 *
 * @example
 * ```ts
 * apiVersionOf({ group: 'apps', version: 'v1', plural: 'deployments', namespaced: true }); // 'apps/v1'
 * ```
 */
export function apiVersionOf(ref: Pick<ResourceRef, 'group' | 'version'>): string {
  return ref.group === '' ? ref.version : `${ref.group}/${ref.version}`;
}

/**
 * Splits an `apiVersion` into group and version; the core group is `''`.
 *
 * @example
 * ```ts
 * parseApiVersion('operon.dev/v1'); // { group: 'operon.dev', version: 'v1' }
 * parseApiVersion('v1');            // { group: '', version: 'v1' }
 * ```
 */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/**
 * The discovery path of a group/version: `/api/v1` or `/apis/{group}/{version}`.
 *
 * @example
 * ```ts
 * groupVersionPath('', 'v1');                            // '/api/v1'
 * groupVersionPath('apiextensions.k8s.io', 'v1');        // '/apis/apiextensions.k8s.io/v1'
 * ```
 */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `/api/${encodeURIComponent(version)}` : `/apis/${encodeURIComponent(group)}/${encodeURIComponent(version)}`;
}

/**
 * The URL path of a resource collection, object or subresource.
 *
 * @example
 * ```ts
 * const pods = { group: '', version: 'v1', plural: 'pods', namespaced: true };
 * resourcePath(pods, { namespace: 'default', name: 'web-0' }); // '/api/v1/namespaces/default/pods/web-0'
 * resourcePath(pods, {});                                        // '/api/v1/pods' (all namespaces)
 * ```
 */
export function resourcePath(ref: ResourceRef, target: ResourceTarget = {}): string {
  let path = groupVersionPath(ref.group, ref.version);
  if (ref.namespaced && target.namespace !== undefined && target.namespace !== '') {
    path += `/namespaces/${encodeURIComponent(target.namespace)}`;
  }
  path += `/${encodeURIComponent(ref.plural)}`;
  if (target.name !== undefined) {
    if (target.name === '') throw new Error(`empty object name for ${resourceName(ref)}`);
    path += `/${encodeURIComponent(target.name)}`;
    if (target.subresource !== undefined) path += `/${encodeURIComponent(target.subresource)}`;
  } else if (target.subresource !== undefined) {
    throw new Error(`subresource "${target.subresource}" of ${resourceName(ref)} needs an object name`);
  }
  return path;
}

/**
 * A query string with every value percent-encoded (`encodeURIComponent`, so `+`, `,`, `=` and
 * spaces in selectors survive), or `''` when nothing is set.
 *
 * @example
 * ```ts
 * queryString({ labelSelector: 'app in (a,b)', limit: 10, continue: undefined });
 * // '?labelSelector=app%20in%20(a%2Cb)&limit=10'
 * ```
 */
export function queryString(params: QueryParams): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/**
 * The resource as RBAC names it: `pods` for the core group, `{plural}.{group}` otherwise.
 *
 * @example
 * ```ts
 * resourceName({ group: 'operon.dev', version: 'v1', plural: 'printers', namespaced: true }); // 'printers.operon.dev'
 * ```
 */
export function resourceName(ref: Pick<ResourceRef, 'group' | 'plural'>): string {
  return ref.group === '' ? ref.plural : `${ref.plural}.${ref.group}`;
}

/**
 * Describes a request for error messages and RBAC hints.
 *
 * @example
 * ```ts
 * describeRequest('patch', printers, { namespace: 'lab', name: 'p1', subresource: 'status' });
 * // { verb: 'patch', resource: 'printers.operon.dev/status', namespace: 'lab', name: 'p1' }
 * ```
 */
export function describeRequest(verb: string, ref: ResourceRef, target: ResourceTarget = {}): RequestDescription {
  const description: RequestDescription = {
    verb,
    resource: resourceName(ref) + (target.subresource !== undefined ? `/${target.subresource}` : ''),
  };
  if (ref.namespaced && target.namespace) description.namespace = target.namespace;
  if (target.name !== undefined) description.name = target.name;
  return description;
}
