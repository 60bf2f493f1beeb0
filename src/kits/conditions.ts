/**
 * Standard status conditions: the `metav1.Condition` shape every Kubernetes tool reads
 * (`kubectl wait --for=condition=Ready`, Argo CD health, dashboards), with apimachinery's
 * `meta.SetStatusCondition` rules.
 *
 * Guarantees:
 * - **Pure.** Nothing is mutated; {@link setCondition} returns a new list, or the very same list
 *   when nothing changed, so `next !== conditions` tells whether a status patch is needed.
 * - **lastTransitionTime means a transition.** It is set when a condition appears or its status
 *   changes, and kept when only reason, message or observedGeneration change.
 * - **Valid for the API.** `status` is `True`, `False` or `Unknown`; `reason` matches the API's
 *   pattern (CamelCase, `^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`, at most 1024 characters);
 *   `type` is non-empty and at most 316 characters. Invalid input throws a {@link ConditionError}
 *   at the call, not a 422 at the status patch. Messages are cut to the API's 32768 characters.
 * - **Bounded.** At most `maxConditions` (default {@link defaults}.kits.maxConditions) are kept;
 *   to add another, the one whose last transition is oldest is dropped.
 * - One condition per type; order is kept and new types are appended.
 */
import { defaults } from '../defaults.ts';

/** The status of a condition. */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A `metav1.Condition`. */
export interface Condition {
  /** CamelCase kind of condition: `Ready`, `Progressing`, `Degraded`. */
  type: string;
  /** `True`, `False` or `Unknown`. */
  status: ConditionStatus;
  /** CamelCase, machine-readable reason of the last transition: `PodsReady`, `PriceFeedDown`. */
  reason: string;
  /** Human-readable detail; may be empty. */
  message: string;
  /** RFC 3339 time of the last status change. */
  lastTransitionTime: string;
  /** The `metadata.generation` this condition was computed from. */
  observedGeneration?: number;
}

/** What a caller sets; the time is filled in by {@link setCondition}. */
export interface ConditionUpdate {
  /** CamelCase kind of condition: `Ready`. */
  type: string;
  /** `True`, `False`, `Unknown`, or a boolean for the first two. */
  status: ConditionStatus | boolean;
  /** CamelCase, machine-readable reason: `PodsReady`. */
  reason: string;
  /** Human-readable detail. Default: empty. */
  message?: string;
  /** The `metadata.generation` the condition was computed from. */
  observedGeneration?: number;
}

/**
 * A condition the API server would refuse.
 *
 * @example
 * ```ts
 * setCondition([], { type: 'Ready', status: 'True', reason: 'all good' }, Date.now()); // throws: reason must be CamelCase
 * ```
 */
export class ConditionError extends Error {
  /** Always `'ConditionError'`. */
  override readonly name = 'ConditionError';
  /** Always `'InvalidCondition'`. */
  readonly kind = 'InvalidCondition';
  /** The condition field that is invalid, e.g. `reason`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`condition ${field}: ${message}`);
    this.field = field;
  }
}

const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const REASON_MAX = 1024;
const TYPE_MAX = 316;
const MESSAGE_MAX = 32768;

/** Options of {@link setCondition}. */
export interface SetConditionOptions {
  /** Default {@link defaults}.kits.maxConditions. */
  maxConditions?: number;
}

/**
 * Sets one condition by type and returns the new list (the same list when nothing changed).
 * `now` is the transition time to use if the status changes: a clock reading, a Date or an
 * RFC 3339 string.
 *
 * @example
 * ```ts
 * const conditions = setCondition(status.conditions, { type: 'Ready', status: 'False', reason: 'PodPending', message: 'waiting for pod' }, clock.now());
 * if (conditions !== status.conditions) patch.status.conditions = conditions;
 * ```
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionUpdate,
  now: number | Date | string,
  options: SetConditionOptions = {},
): Condition[] {
  const current = conditions ?? [];
  const update = validate(next);
  const index = current.findIndex((c) => c.type === update.type);
  const old = index >= 0 ? current[index] : undefined;
  if (old) {
    const same =
      old.status === update.status &&
      old.reason === update.reason &&
      old.message === update.message &&
      old.observedGeneration === update.observedGeneration;
    if (same) return current as Condition[];
    const lastTransitionTime = old.status === update.status ? old.lastTransitionTime : formatTime(now);
    const replaced: Condition = { ...update, lastTransitionTime };
    if (update.observedGeneration === undefined) delete replaced.observedGeneration;
    return current.map((c, i) => (i === index ? replaced : c));
  }
  const added: Condition = { ...update, lastTransitionTime: formatTime(now) };
  if (update.observedGeneration === undefined) delete added.observedGeneration;
  const max = Math.max(1, options.maxConditions ?? defaults.kits.maxConditions);
  const kept = [...current];
  while (kept.length >= max) {
    let oldest = 0;
    for (let i = 1; i < kept.length; i++) {
      if (Date.parse(kept[i]?.lastTransitionTime ?? '') < Date.parse(kept[oldest]?.lastTransitionTime ?? '')) oldest = i;
    }
    kept.splice(oldest, 1);
  }
  kept.push(added);
  return kept;
}

/**
 * Removes the condition of a type; the same list when there was none.
 *
 * @example
 * ```ts
 * patch.status.conditions = removeCondition(status.conditions, 'Degraded');
 * ```
 */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  const current = conditions ?? [];
  return current.some((c) => c.type === type) ? current.filter((c) => c.type !== type) : (current as Condition[]);
}

/**
 * The condition of a type, if present.
 *
 * @example
 * ```ts
 * findCondition(status.conditions, 'Ready')?.reason; // 'PodsReady'
 * ```
 */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Whether the condition of a type is present with status `True`.
 *
 * @example
 * ```ts
 * if (isTrue(printer.status?.conditions, 'Ready')) return;
 * ```
 */
export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * Whether the condition of a type is present with status `False` (absent or `Unknown` is neither true nor false).
 *
 * @example
 * ```ts
 * if (isFalse(status.conditions, 'Ready')) events.warn(obj, 'NotReady', 'still waiting');
 * ```
 */
export function isFalse(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'False';
}

function validate(next: ConditionUpdate): Omit<Condition, 'lastTransitionTime'> {
  const status: ConditionStatus = next.status === true ? 'True' : next.status === false ? 'False' : next.status;
  if (status !== 'True' && status !== 'False' && status !== 'Unknown') {
    throw new ConditionError('status', `must be True, False or Unknown, not ${JSON.stringify(next.status)}`);
  }
  if (typeof next.type !== 'string' || next.type.length === 0 || next.type.length > TYPE_MAX) {
    throw new ConditionError('type', `must be 1 to ${TYPE_MAX} characters, such as Ready`);
  }
  if (typeof next.reason !== 'string' || !REASON.test(next.reason) || next.reason.length > REASON_MAX) {
    throw new ConditionError(
      'reason',
      `${JSON.stringify(next.reason)} must be CamelCase (letters, digits, _ , :), start with a letter and be at most ${REASON_MAX} characters, such as PodsReady`,
    );
  }
  const generation = next.observedGeneration;
  if (generation !== undefined && (!Number.isInteger(generation) || generation < 0)) {
    throw new ConditionError('observedGeneration', `must be a non-negative integer, not ${generation}`);
  }
  const message = next.message ?? '';
  return {
    type: next.type,
    status,
    reason: next.reason,
    message: message.length > MESSAGE_MAX ? message.slice(0, MESSAGE_MAX) : message,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

/** metav1.Time is RFC 3339 with whole seconds. */
function formatTime(now: number | Date | string): string {
  if (typeof now === 'string') return now;
  const date = typeof now === 'number' ? new Date(now) : now;
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
