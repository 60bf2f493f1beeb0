/**
 * The shapes the client speaks: Kubernetes objects, lists, watch events and the request options
 * every layer above uses. Built-in kinds are typed by `kubernetes-types`; custom resources by the
 * generic {@link KubeObject}. These are types only; nothing here runs.
 */
import type { ObjectMeta } from 'kubernetes-types/meta/v1.d.ts';

export type { ObjectMeta };

/** Any Kubernetes object. `Spec`/`Status` type the custom parts of a custom resource. */
export interface KubeObject<Spec = unknown, Status = unknown> {
  /** `group/version`, or `v1` for the core group. */
  apiVersion?: string;
  /** The kind, e.g. `Pod`. */
  kind?: string;
  /** Name, namespace, labels, annotations, owners and the server's bookkeeping. */
  metadata?: ObjectMeta;
  /** The desired state. */
  spec?: Spec;
  /** The observed state, written through the status subresource. */
  status?: Status;
}

/** An object as the API server returns it: metadata with name, namespace, uid and resourceVersion present. */
export type Stored<T extends KubeObject = KubeObject> = T & {
  /** Metadata with the fields the server always sets. */
  metadata: ObjectMeta & {
    /** The object's name. */
    name: string;
    /** Unique over time: a recreated object gets a new one. */
    uid: string;
    /** The version the object was read at; changes on every write. */
    resourceVersion: string;
  };
};

/** The body of a LIST response. */
export interface ObjectList<T extends KubeObject = KubeObject> {
  /** As the listed objects'. */
  apiVersion?: string;
  /** `<Kind>List`. */
  kind?: string;
  /** Where the list stands. */
  metadata: {
    /** The version the list was read at: a watch started from it misses nothing. */
    resourceVersion?: string;
    /** The token for the next page, when paginated. */
    continue?: string;
    /** Objects left after this page, when the server knows. */
    remainingItemCount?: number;
  };
  /** The objects. */
  items: T[];
}

/** One line of a watch stream. ERROR carries a `Status` as its object. */
export type WatchEvent<T extends KubeObject = KubeObject> =
  | {
      /** A change to an object. */
      type: 'ADDED' | 'MODIFIED' | 'DELETED';
      /** The object after the change (for DELETED, its last state). */
      object: T;
    }
  | {
      /** Progress only: no object changed. */
      type: 'BOOKMARK';
      /** Carries only `metadata.resourceVersion` (and annotations). */
      object: KubeObject;
    }
  | {
      /** The stream failed, e.g. 410 Expired. */
      type: 'ERROR';
      /** Why. */
      object: Status;
    };

/** The API's `Status` object (errors and some delete responses). */
export interface Status {
  /** `v1`. */
  apiVersion?: string;
  /** `Status`. */
  kind?: 'Status';
  /** `Failure` for errors. */
  status?: 'Success' | 'Failure';
  /** For a human. */
  message?: string;
  /** CamelCase, machine-readable: `NotFound`, `Conflict`, `Expired`. */
  reason?: string;
  /** The HTTP status code. */
  code?: number;
  /** The object concerned, and field-level causes. */
  details?: {
    /** The object's name. */
    name?: string;
    /** The object's API group. */
    group?: string;
    /** The object's kind, or the resource. */
    kind?: string;
    /** The object's uid. */
    uid?: string;
    /** What is wrong, field by field (for `Invalid`). */
    causes?: Array<{
      /** CamelCase, e.g. `FieldValueInvalid`. */
      reason?: string;
      /** What is wrong with the field. */
      message?: string;
      /** The field's path, e.g. `spec.amount`. */
      field?: string;
    }>;
    /** How long to wait before retrying. */
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
  /** API version, e.g. `v1`. */
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
  /**
   * Ask for `PartialObjectMetadata` only (`metadata`, `apiVersion`, `kind`; no spec, no status):
   * a fraction of the bytes and memory for a watch that reads only names, labels, annotations or
   * ownerReferences. Default false.
   */
  metadataOnly?: boolean;
}

export interface WatchOptions extends RequestOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan';
  allowWatchBookmarks?: boolean;
  /** As {@link ListOptions.metadataOnly}: events carry `PartialObjectMetadata`. Default false. */
  metadataOnly?: boolean;
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
