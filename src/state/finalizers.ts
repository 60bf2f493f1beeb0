/**
 * Finalizer changes as JSON patches that can never lose another controller's finalizer
 * (kube-rs `finalizer.rs`): adding tests the current list (or its absence) before replacing it,
 * and removing tests the entry at its index before removing that index. When anyone changed the
 * list in between, the API server refuses the patch (422) and the caller reads the object again;
 * a merge patch of `metadata.finalizers` would instead overwrite their change.
 *
 * Guarantees: both functions return `undefined` when there is nothing to do, so a caller never
 * sends an empty patch; neither mutates the object.
 */
import type { JsonPatchOp } from '../client/patch.ts';
import type { KubeObject } from '../client/types.ts';
import { defaults } from '../defaults.ts';

/**
 * Operon's finalizer name.
 *
 * @example
 * ```ts
 * finalizerName(); // 'operon.dev/finalizer'
 * ```
 */
export function finalizerName(prefix: string = defaults.state.prefix): string {
  return `${prefix}/finalizer`;
}

/**
 * True when `body` carries the finalizer.
 *
 * @example
 * ```ts
 * hasFinalizer(body, 'operon.dev/finalizer');
 * ```
 */
export function hasFinalizer(body: KubeObject, name: string): boolean {
  return body.metadata?.finalizers?.includes(name) ?? false;
}

/**
 * The JSON patch adding `name`, guarded by a test of the current list; undefined if present.
 *
 * @example
 * ```ts
 * const ops = addFinalizerOps(body, finalizerName());
 * if (ops) await client.patch(ref, name, { type: 'json', ops }, { namespace });
 * ```
 */
export function addFinalizerOps(body: KubeObject, name: string): JsonPatchOp[] | undefined {
  const current = body.metadata?.finalizers;
  if (current?.includes(name)) return undefined;
  if (current === undefined || current.length === 0) {
    // A missing list tests as null (kube-rs does the same); an empty one must be tested as [].
    return [
      { op: 'test', path: '/metadata/finalizers', value: current === undefined ? null : [] },
      { op: 'add', path: '/metadata/finalizers', value: [name] },
    ];
  }
  return [
    { op: 'test', path: '/metadata/finalizers', value: [...current] },
    { op: 'add', path: '/metadata/finalizers/-', value: name },
  ];
}

/**
 * The JSON patch removing `name` at its index, guarded by a test of that entry; undefined if absent.
 *
 * @example
 * ```ts
 * const ops = removeFinalizerOps(body, finalizerName());
 * if (ops) await client.patch(ref, name, { type: 'json', ops }, { namespace });
 * ```
 */
export function removeFinalizerOps(body: KubeObject, name: string): JsonPatchOp[] | undefined {
  const index = body.metadata?.finalizers?.indexOf(name) ?? -1;
  if (index < 0) return undefined;
  return [
    { op: 'test', path: `/metadata/finalizers/${index}`, value: name },
    { op: 'remove', path: `/metadata/finalizers/${index}` },
  ];
}
