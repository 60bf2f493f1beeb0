/**
 * The patch a handler collects: `patch.status.pod = name`, `patch.metadata.labels.app = 'x'`,
 * `patch.spec.replicas = 3`, `patch.metadata.annotations.note = null` (null deletes). The stanzas
 * `metadata`, `metadata.labels`, `metadata.annotations`, `spec` and `status` exist from the start,
 * so handlers assign without creating them.
 *
 * Guarantees: {@link splitPatch} turns a patch into at most two JSON merge patches, one for the
 * object and one for its `status` subresource (when the resource has one; otherwise status goes
 * with the object), leaves out stanzas nobody touched, and never mutates the patch. Handler code
 * cannot reach finalizers through it: those change only through JSON patches with a `test`
 * (see `finalizers.ts`), so a merge patch can never drop another controller's finalizer.
 */
import type { KubeObject } from '../client/types.ts';
import { cloneJson, isPlainObject } from './fields.ts';

/** A JSON merge patch of `T`: every field optional, `null` deletes, arrays replaced whole. */
export type MergePatch<T> = [T] extends [never]
  ? Record<string, unknown>
  : T extends readonly unknown[]
    ? T
    : T extends object
      ? { -readonly [K in keyof T]?: MergePatch<T[K]> | null }
      : T;

/** The metadata part of a patch. */
export interface MetadataPatch {
  /** Labels to set; `null` removes one. */
  labels: Record<string, string | null>;
  /** Annotations to set; `null` removes one. */
  annotations: Record<string, string | null>;
  [field: string]: unknown;
}

/** Untyped (`unknown`) parts become records, so a patch of a plain `KubeObject` still takes any key. */
type Known<S> = unknown extends S ? Record<string, unknown> : NonNullable<S>;
type SpecOf<T> = T extends { spec?: infer S } ? Known<S> : Record<string, unknown>;
type StatusOf<T> = T extends { status?: infer S } ? Known<S> : Record<string, unknown>;

/**
 * What a handler writes to: typed `spec` and `status` of the handled resource, `metadata`, and
 * any other top-level field. When the resource declares a status schema, `patch.status` takes only
 * its fields, so `patch.status.sene = 1` is a type error rather than a field the API server prunes
 * without a word; a resource without one takes any key.
 */
export type ObjectPatch<T extends KubeObject = KubeObject> = {
  /** Labels, annotations and other metadata to change. */
  metadata: MetadataPatch;
  /** Spec fields to change. */
  spec: MergePatch<SpecOf<T>>;
  /** Status fields to change, as the status schema declares them; written through the status subresource. */
  status: MergePatch<StatusOf<T>>;
  [field: string]: unknown;
};

/**
 * An empty patch with its stanzas ready to assign into.
 *
 * @example
 * ```ts
 * const patch = newPatch();
 * patch.status['phase'] = 'Ready';
 * ```
 */
export function newPatch<T extends KubeObject = KubeObject>(): ObjectPatch<T> {
  return { metadata: { labels: {}, annotations: {} }, spec: {}, status: {} } as unknown as ObjectPatch<T>;
}

/** The merge patches to send: to the object itself and to its status subresource. */
export interface SplitPatch {
  main?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/**
 * Splits a patch into merge-patch bodies per endpoint; absent ones have nothing to send.
 *
 * @example
 * ```ts
 * const { main, status } = splitPatch(patch, { statusSubresource: true });
 * if (status) await client.patch(ref, name, { type: 'merge', body: status }, { namespace, subresource: 'status' });
 * ```
 */
export function splitPatch(patch: ObjectPatch<KubeObject>, options: { statusSubresource: boolean }): SplitPatch {
  const main: Record<string, unknown> = {};
  let status: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (key === 'metadata' && isPlainObject(value)) {
      const metadata: Record<string, unknown> = {};
      for (const [mk, mv] of Object.entries(value)) {
        if (mv === undefined) continue;
        if ((mk === 'labels' || mk === 'annotations') && isPlainObject(mv) && Object.keys(mv).length === 0) continue;
        metadata[mk] = mv;
      }
      if (Object.keys(metadata).length > 0) main['metadata'] = metadata;
    } else if ((key === 'spec' || key === 'status') && isPlainObject(value) && Object.keys(value).length === 0) {
      continue;
    } else if (key === 'status' && options.statusSubresource) {
      status = { status: value };
    } else {
      main[key] = value;
    }
  }
  const out: SplitPatch = {};
  if (Object.keys(main).length > 0) out.main = main;
  if (status) out.status = status;
  return out;
}

/**
 * True when the patch would change nothing.
 *
 * @example
 * ```ts
 * isEmptyPatch(newPatch()); // true
 * ```
 */
export function isEmptyPatch(patch: ObjectPatch<KubeObject>): boolean {
  const split = splitPatch(patch, { statusSubresource: false });
  return split.main === undefined && split.status === undefined;
}

/**
 * Applies a merge patch to a copy of `body` (RFC 7386), to see what an object will look like
 * after a patch without asking the server.
 *
 * @example
 * ```ts
 * applyMergePatch({ a: { b: 1, c: 2 } }, { a: { b: null } }); // { a: { c: 2 } }
 * ```
 */
export function applyMergePatch<T>(body: T, patch: unknown): T {
  if (!isPlainObject(patch)) return cloneJson(patch) as T;
  const out: Record<string, unknown> = isPlainObject(body) ? { ...body } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (value !== undefined) out[key] = applyMergePatch(out[key], value);
  }
  return out as T;
}
