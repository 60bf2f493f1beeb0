/**
 * Operon's whole finalizer policy, in one function: what a handling cycle does about the
 * finalizer before anything else, decided from the object and the handlers alone (kube-rs's
 * `finalizer()`, which matches on `(finalizer present, being deleted)`; Operon adds the cases of
 * an object no handler concerns, of a finalizer no handler needs any more, and of kopf's optional
 * delete handlers).
 *
 * | concerned | deleting | finalizer | needed | step |
 * |---|---|---|---|---|
 * | no  | any | present | any | `release`: remove it, stop the object's tasks, nothing else |
 * | no  | any | absent  | any | `ignore` |
 * | yes | no  | absent  | yes | `add`, then handle the object |
 * | yes | no  | present | no  | `remove`, then handle the object |
 * | yes | no  | matches | -   | `handle` |
 * | yes | yes | present | any | `cleanup`: delete handlers, then the finalizer goes |
 * | yes | yes | absent  | any | `cleanup` without holding it, once, if optional delete handlers exist; else `ignore` |
 *
 * Guarantees:
 * - Operon never removes its finalizer from an object being deleted before every delete handler
 *   of it is done (succeeded or failed for good): `cleanup` is the only step for a held deletion,
 *   and the finalizer goes only when the cleanup cycle reports the cause finished.
 * - A finalizer is added only while a handler needs it (a non-optional delete handler or a daemon
 *   matches the object), and it is added before any handler of the object runs, so a deletion can
 *   never overtake a handler that needed it.
 * - Another controller's finalizers are never touched: the patches test the exact entry
 *   ({@link addFinalizerOps}, {@link removeFinalizerOps}), and the API server refuses them when
 *   anyone changed the list in between.
 */
import type { JsonPatchOp } from '../client/patch.ts';
import type { KubeObject } from '../client/types.ts';
import { addFinalizerOps, hasFinalizer, removeFinalizerOps } from '../state/finalizers.ts';

/** What {@link finalizerStep} looks at. */
export interface FinalizerInput {
  /** The object. */
  body: KubeObject;
  /** Operon's finalizer name. */
  finalizer: string;
  /** Some handler (other than event handlers) matches the object's labels and annotations. */
  concerned: boolean;
  /** A non-optional delete handler or a daemon matches the object. */
  needed: boolean;
  /** The resource has optional delete handlers (they run on deletions we do not hold). */
  optionalDelete: boolean;
  /** This process already ran the optional delete handlers of this (unheld) deletion. */
  optionalDeleteRan: boolean;
}

/** The finalizer step of a cycle; see the table in the module comment. */
export type FinalizerStep =
  | { readonly kind: 'release'; readonly ops: JsonPatchOp[] }
  | { readonly kind: 'ignore' }
  | { readonly kind: 'add'; readonly ops: JsonPatchOp[] }
  | { readonly kind: 'remove'; readonly ops: JsonPatchOp[] }
  | { readonly kind: 'handle' }
  | { readonly kind: 'cleanup'; readonly held: boolean };

/**
 * The finalizer step for an object (the module comment has the table and the guarantees).
 *
 * @example
 * ```ts
 * const step = finalizerStep({ body, finalizer: 'operon.dev/finalizer', concerned: true, needed: true, optionalDelete: false, optionalDeleteRan: false });
 * if (step.kind === 'add') await writer.json(body, step.ops);
 * ```
 */
export function finalizerStep(input: FinalizerInput): FinalizerStep {
  const { body, finalizer } = input;
  const present = hasFinalizer(body, finalizer);
  if (!input.concerned) {
    const ops = removeFinalizerOps(body, finalizer);
    return ops ? { kind: 'release', ops } : { kind: 'ignore' };
  }
  if (body.metadata?.deletionTimestamp) {
    if (present) return { kind: 'cleanup', held: true };
    // Best effort, as kopf: nothing holds the object, and nothing on it records that they ran.
    return input.optionalDelete && !input.optionalDeleteRan ? { kind: 'cleanup', held: false } : { kind: 'ignore' };
  }
  if (input.needed && !present) return { kind: 'add', ops: addFinalizerOps(body, finalizer) as JsonPatchOp[] };
  if (!input.needed && present) return { kind: 'remove', ops: removeFinalizerOps(body, finalizer) as JsonPatchOp[] };
  return { kind: 'handle' };
}

/**
 * The patch that lets a handled deletion go: our finalizer's removal, or undefined when it is
 * not there (an unheld deletion, or removed already).
 *
 * @example
 * ```ts
 * const ops = releaseOps(after, finalizer);
 * if (ops) await writer.json(after, ops);
 * ```
 */
export function releaseOps(body: KubeObject, finalizer: string): JsonPatchOp[] | undefined {
  return removeFinalizerOps(body, finalizer);
}
