/**
 * Which cause an object is in, and which handlers that cause selects: pure functions of the
 * object, its stored state and the registered handlers (kopf's `detect_changing_cause` and
 * `registries.match`).
 *
 * Cause, checked in this order:
 * 1. being deleted and carrying Operon's finalizer → `delete`; without it → `free` (nothing to do);
 * 2. the resource keeps a diff base (it has create, update or field handlers) and none is stored
 *    → `create`; creation never mixes with resume;
 * 3. the essence differs from the diff base → `update` (resume handlers mix in on the first
 *    sight in this process);
 * 4. first sight in this process → `resume`; otherwise `noop`.
 *
 * Guarantees: selection never throws (a filter predicate that throws does not match); handlers
 * come back in registration order; field handlers get old/new/diff reduced to their field.
 */
import type { KubeObject } from '../client/types.ts';
import { reduceDiff, type Diff } from '../state/diff.ts';
import type { Comparison } from '../state/essence.ts';
import { getField, hasField } from '../state/fields.ts';
import { PRESENT, matchMeta, matchValue } from './filters.ts';
import type { ResourceRegistration } from './registry.ts';
import type { HandlerSpec, ObjectContext } from './types.ts';

/** The cause of a processing cycle. */
export type Reason = 'create' | 'update' | 'delete' | 'resume' | 'noop' | 'free';

/** What cause detection looks at. */
export interface CauseInput {
  /** `metadata.deletionTimestamp` is set. */
  deleting: boolean;
  /** Operon's finalizer is on the object. */
  hasFinalizer: boolean;
  /** The comparison with the diff base; undefined when the resource keeps none. */
  comparison: Comparison | undefined;
  /** No diff base is stored. */
  neverHandled: boolean;
  /** The object has not yet been resumed by this process. */
  resumePending: boolean;
  /**
   * Optional delete handlers exist. They run when a deletion is seen even without Operon's
   * finalizer (another controller's finalizer may hold the object), as kopf's do; best effort,
   * since nothing stops the object from going before they run.
   */
  optionalDelete?: boolean;
}

/**
 * The cause of an object's current state (see the module comment for the order).
 *
 * @example
 * ```ts
 * detectCause({ deleting: false, hasFinalizer: false, comparison, neverHandled: true, resumePending: true }); // 'create'
 * ```
 */
export function detectCause(input: CauseInput): Reason {
  if (input.deleting) return input.hasFinalizer || input.optionalDelete === true ? 'delete' : 'free';
  if (input.comparison !== undefined) {
    if (input.neverHandled) return 'create';
    if (input.comparison.diff.length > 0) return 'update';
  }
  return input.resumePending ? 'resume' : 'noop';
}

/**
 * True when the resource keeps a diff base: only create, update and field handlers need one.
 *
 * @example
 * ```ts
 * if (keepsDiffBase(registration)) patch.metadata.annotations[diffBaseKey()] = value;
 * ```
 */
export function keepsDiffBase(registration: ResourceRegistration): boolean {
  return registration.handlers.some((h) => h.kind === 'create' || h.kind === 'update' || h.kind === 'field');
}

/** A handler chosen for a cycle, with what it is told about the change. */
export interface SelectedHandler {
  readonly spec: HandlerSpec;
  readonly old: unknown;
  readonly new: unknown;
  readonly diff: Diff;
}

/** What selection looks at besides the cause. */
export interface SelectionInput {
  body: KubeObject;
  comparison: Comparison | undefined;
  resumePending: boolean;
  /** Builds the context a `when` predicate receives; called only for handlers that have one. */
  contextFor: (spec: HandlerSpec) => ObjectContext<KubeObject>;
}

/**
 * The changing handlers (create, update, delete, resume, field) a cause selects.
 *
 * @example
 * ```ts
 * const selected = selectHandlers(registration, 'update', { body, comparison, resumePending: false, contextFor });
 * ```
 */
export function selectHandlers(registration: ResourceRegistration, reason: Reason, input: SelectionInput): SelectedHandler[] {
  const out: SelectedHandler[] = [];
  const whole = (spec: HandlerSpec): SelectedHandler => ({
    spec,
    old: input.comparison?.old,
    new: input.comparison?.new,
    diff: input.comparison?.diff ?? [],
  });
  for (const spec of registration.handlers) {
    switch (spec.kind) {
      case 'create':
        if (reason === 'create' && matchesObject(spec, input)) out.push(whole(spec));
        break;
      case 'update':
        if (reason === 'update' && matchesMeta(spec, input)) {
          if (spec.fieldPath === undefined) {
            if (matchesWhen(spec, input)) out.push(whole(spec));
          } else {
            const change = fieldChange(spec, input);
            if (change && matchesWhen(spec, input)) out.push({ ...whole(spec), diff: change.diff });
          }
        }
        break;
      case 'field':
        if ((reason === 'create' || reason === 'update') && matchesMeta(spec, input)) {
          const change = fieldChange(spec, input);
          if (change && matchesWhen(spec, input)) out.push({ spec, ...change });
        }
        break;
      case 'delete':
        if (reason === 'delete' && matchesObject(spec, input)) out.push(whole(spec));
        break;
      case 'resume':
        if (!input.resumePending || reason === 'create' || reason === 'free' || reason === 'noop') break;
        if (reason === 'delete' && !spec.deleted) break;
        if (matchesObject(spec, input)) out.push(whole(spec));
        break;
      default:
        break;
    }
  }
  return out;
}

/**
 * True when the object matches a handler's label, annotation, field/value and `when` filters
 * (for handlers not bound to a change: delete, timers, daemons, events, reconcile).
 *
 * @example
 * ```ts
 * const run = matchesObject(spec, { body, comparison: undefined, resumePending: false, contextFor });
 * ```
 */
export function matchesObject(spec: HandlerSpec, input: Pick<SelectionInput, 'body' | 'contextFor'>): boolean {
  if (!matchesMeta(spec, input)) return false;
  if (spec.fieldPath !== undefined) {
    const present = hasField(input.body, spec.fieldPath);
    const value = getField(input.body, spec.fieldPath);
    if (!matchValue(spec.hasValue ? spec.value : PRESENT, value, present && value !== undefined)) return false;
  }
  return matchesWhen(spec, input);
}


/**
 * True when the object's labels and annotations satisfy a handler's filters (the cheap part of
 * matching, used to tell whether an object concerns the operator at all).
 *
 * @example
 * ```ts
 * const concerned = registration.handlers.some((spec) => matchesMeta(spec, { body }));
 * ```
 */
export function matchesMeta(spec: HandlerSpec, input: Pick<SelectionInput, 'body'>): boolean {
  return matchMeta(spec.labels, input.body.metadata?.labels) && matchMeta(spec.annotations, input.body.metadata?.annotations);
}

function matchesWhen(spec: HandlerSpec, input: Pick<SelectionInput, 'contextFor'>): boolean {
  if (spec.when === undefined) return true;
  try {
    return Boolean(spec.when(input.contextFor(spec)));
  } catch {
    return false;
  }
}

/** The change of a handler's field, if it changed and its value filter holds for old or new. */
function fieldChange(spec: HandlerSpec, input: SelectionInput): { old: unknown; new: unknown; diff: Diff } | undefined {
  const { fieldPath: path, field } = spec;
  const comparison = input.comparison;
  if (path === undefined || field === undefined || comparison === undefined) return undefined;
  const newValue = getField(comparison.new, path);
  let oldValue: unknown;
  let diff: Diff;
  if (comparison.coarse) {
    if (!comparison.changedFields?.has(field)) return undefined;
    oldValue = undefined;
    diff = [{ op: 'change', path: [], old: undefined, new: newValue }];
  } else {
    oldValue = comparison.old === undefined ? undefined : getField(comparison.old, path);
    diff = reduceDiff(comparison.diff, path);
    if (diff.length === 0) return undefined;
  }
  if (spec.hasValue) {
    const oldOk = matchValue(spec.value, oldValue, oldValue !== undefined);
    const newOk = matchValue(spec.value, newValue, newValue !== undefined);
    if (!oldOk && !newOk) return undefined;
  }
  return { old: oldValue, new: newValue, diff };
}
