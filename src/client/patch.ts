/**
 * The three patch kinds a custom resource accepts, as one discriminated union, and their exact
 * wire form. The kind decides the Content-Type, so the 415 "Unsupported Media Type" that haunted
 * `@kubernetes/client-node` users (strategic merge patch sent to a custom resource) cannot happen:
 * strategic merge is deliberately not offered, because custom resources reject it.
 *
 * Guarantee: server-side apply always carries a field manager (the caller's or
 * `defaults.client.fieldManager`), because the API server refuses an apply without one.
 */
import { defaults } from '../defaults.ts';
import type { KubeObject } from './types.ts';

/** One RFC 6902 operation. `test` makes the whole patch fail (422) when the value differs. */
export type JsonPatchOp =
  | {
      /** Add or replace the value at `path`, or fail the whole patch unless it equals `value`. */
      op: 'add' | 'replace' | 'test';
      /** A JSON Pointer: `/spec/replicas`, `/metadata/labels/app~1name`. */
      path: string;
      /** The value. */
      value: unknown;
    }
  | {
      /** Remove the value at `path`. */
      op: 'remove';
      /** A JSON Pointer. */
      path: string;
    }
  | {
      /** Move or copy the value at `from` to `path`. */
      op: 'move' | 'copy';
      /** A JSON Pointer to the source. */
      from: string;
      /** A JSON Pointer to the destination. */
      path: string;
    };

/**
 * A patch, by kind:
 * - `merge`: RFC 7386 JSON merge patch; `null` deletes a field, arrays are replaced whole.
 * - `json`: RFC 6902 operations; with a `test` op it is a compare-and-swap.
 * - `apply`: server-side apply of the fields this manager owns; `force` takes over conflicting fields.
 */
export type Patch =
  | {
      /** JSON merge patch (RFC 7386): objects merge, everything else replaces, `null` deletes. */
      type: 'merge';
      /** The partial object. */
      body: unknown;
    }
  | {
      /** JSON patch (RFC 6902): a list of operations, applied all or nothing. */
      type: 'json';
      /** The operations, in order. */
      ops: JsonPatchOp[];
    }
  | {
      /** Server-side apply: the fields this manager owns become exactly `body`'s. */
      type: 'apply';
      /** The fully specified intent, with apiVersion, kind and metadata.name. */
      body: KubeObject;
      /** Who owns the applied fields. Default: {@link defaults}.client.fieldManager. */
      fieldManager?: string;
      /** Take fields over from other managers instead of failing with a conflict. */
      force?: boolean;
    };

/** What goes on the wire for a {@link Patch}. */
export interface EncodedPatch {
  contentType: 'application/merge-patch+json' | 'application/json-patch+json' | 'application/apply-patch+yaml';
  body: string;
  /** Query parameters the patch kind needs (`fieldManager`, `force` for apply). */
  query: { fieldManager?: string; force?: boolean };
}

/**
 * The Content-Type, body and query parameters for a patch. An apply body is sent as JSON, which is
 * valid YAML.
 *
 * @example
 * ```ts
 * encodePatch({ type: 'apply', body: printer, force: true });
 * // { contentType: 'application/apply-patch+yaml', body: '{"apiVersion":...}', query: { fieldManager: 'operon', force: true } }
 * ```
 */
export function encodePatch(patch: Patch): EncodedPatch {
  switch (patch.type) {
    case 'merge':
      return { contentType: 'application/merge-patch+json', body: JSON.stringify(patch.body), query: {} };
    case 'json':
      if (!Array.isArray(patch.ops)) throw new TypeError('a json patch needs an array of operations in `ops`');
      return { contentType: 'application/json-patch+json', body: JSON.stringify(patch.ops), query: {} };
    case 'apply': {
      const query: EncodedPatch['query'] = { fieldManager: patch.fieldManager ?? defaults.client.fieldManager };
      if (patch.force !== undefined) query.force = patch.force;
      return { contentType: 'application/apply-patch+yaml', body: JSON.stringify(patch.body), query };
    }
  }
}

/**
 * Escapes one JSON Pointer segment (RFC 6901): `~` → `~0`, `/` → `~1`. Needed for label,
 * annotation and finalizer keys, which contain `/`.
 *
 * @example
 * ```ts
 * `/metadata/labels/${escapeJsonPointer('app.kubernetes.io/name')}`; // '/metadata/labels/app.kubernetes.io~1name'
 * ```
 */
export function escapeJsonPointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
