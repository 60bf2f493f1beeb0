/**
 * The shapes the client speaks: Kubernetes objects, lists, watch events and the request options
 * every layer above uses. Built-in kinds are typed by `kubernetes-types`; custom resources by the
 * generic {@link KubeObject}. These are types only; nothing here runs.
 */
import type { ObjectMeta } from 'kubernetes-types/meta/v1.d.ts';

export type { ObjectMeta };

/** Any Kubernetes object. `Spec`/`Status` type the custom parts of a custom resource. */
export interface KubeObject<Spec = unknown, Status = unknown> {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: Spec;
  status?: Status;
}

/** An object as the API server returns it: metadata with name, namespace, uid and resourceVersion present. */
export type Stored<T extends KubeObject = KubeObject> = T & {
  metadata: ObjectMeta & { name: string; uid: string; resourceVersion: string };
};

/** The body of a LIST response. */
export interface ObjectList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** One line of a watch stream. ERROR carries a `Status` as its object. */
export type WatchEvent<T extends KubeObject = KubeObject> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; object: KubeObject }
  | { type: 'ERROR'; object: Status };

/** The API's `Status` object (errors and some delete responses). */
export interface Status {
  apiVersion?: string;
  kind?: 'Status';
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: Array<{ reason?: string; message?: string; field?: string }>;
    retryAfterSeconds?: number;
  };
}

/**
 * Which resource a request addresses. `namespace` is omitted for cluster-scoped resources and
 * for requests across all namespaces.
 *
 * `T` is the type of the resource's objects. It exists only in the type system, so a typed
 * resource (a declared custom resource, a built-in) makes the client's results typed without a
 * type argument; a plain ref is a `ResourceRef<KubeObject>` and takes one explicitly.
 */
export interface ResourceRef<T extends KubeObject = KubeObject> {
  /** API group; `''` for the core group (Pods, ConfigMaps, ...). */
  group: string;
  version: string;
  /** Lower-case plural, as in the URL: `pods`, `cryptovaluecalculators`. */
  plural: string;
  /** True when the resource lives in namespaces. */
  namespaced: boolean;
  /**
   * Never set, never called: it only carries `T`. Method syntax keeps it bivariant, so a plain
   * ref still serves any object type (`client.get<Lease>(leaseRef, ...)`).
   */
  __objectType?(object: T): void;
}

export interface RequestOptions {
  /** Aborts the request; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides the client's request timeout for this call (ms). */
  timeoutMs?: number;
}

export interface ListOptions extends RequestOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; omitted means one unpaginated response. */
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface WatchOptions extends RequestOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan';
  allowWatchBookmarks?: boolean;
  /** Server-side timeout; the stream ends normally after it. */
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
  /**
   * Called once the server accepted the watch (2xx response headers), before any event arrives.
   * Like `signal`, it is never sent: it lets a watcher know a quiet stream is a working one, since
   * the server may send nothing (not even a bookmark) for about a minute.
   */
  onConnected?: () => void;
}

/** Marker of the bookmark that ends a streaming initial list (`sendInitialEvents`). */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';
