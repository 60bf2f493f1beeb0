/**
 * The `HandlerFailing` condition: a failing handler shows where `kubectl get` and `kubectl wait`
 * see it, on resources whose status declares `conditions`. Written into the cycle's own patch,
 * merged with conditions the handler itself set, so it costs no extra request. Resources without
 * `conditions` in their status keep the Warning Events and the progress annotation only.
 */
import type { KubeObject } from '../client/types.ts';
import { messageOf, type Outcome } from '../handlers/execution.ts';
import { setCondition, type Condition } from '../kits/conditions.ts';
import type { ObjectPatch } from '../state/patch.ts';

/** The condition's type. */
export const HANDLER_FAILING = 'HandlerFailing';

/**
 * Sets `HandlerFailing` in `patch` after an attempt of handler `id`: True (reason the id in
 * CamelCase, message the error) on a retry or a failure, False again when that same handler
 * succeeds; untouched otherwise, or when `enabled` is false.
 *
 * @example
 * ```ts
 * failingCondition(body, patch, 'spec.text', { kind: 'retry', delayMs: 1000, error }, { enabled: true, now: Date.now() });
 * ```
 */
export function failingCondition(body: KubeObject, patch: ObjectPatch<KubeObject>, id: string, outcome: Outcome, options: { enabled: boolean; now: number }): void {
  if (!options.enabled || outcome.kind === 'aborted') return;
  const status = patch.status as { conditions?: Condition[] };
  const current = status.conditions ?? (body.status as { conditions?: Condition[] } | undefined)?.conditions;
  const failing = current?.find((c) => c.type === HANDLER_FAILING);
  // A success with no failing condition, the common case, needs no reason: not worked out then.
  if (outcome.kind === 'success' && failing?.status !== 'True') return;
  const reason = conditionReason(id);
  let next: Condition[];
  if (outcome.kind === 'success') {
    if (failing?.reason !== reason) return;
    next = setCondition(current, { type: HANDLER_FAILING, status: 'False', reason, message: `handler ${id} succeeded` }, options.now);
  } else {
    next = setCondition(current, { type: HANDLER_FAILING, status: 'True', reason, message: `handler ${id}: ${messageOf(outcome.error)}`.slice(0, 32_768) }, options.now);
  }
  if (next !== current) status.conditions = next;
}

/**
 * A handler id as a condition reason (CamelCase, letters and digits).
 *
 * @example
 * ```ts
 * conditionReason('field/spec.text'); // 'FieldSpecText'
 * ```
 */
export function conditionReason(id: string): string {
  const words = id.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const reason = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return /^[A-Za-z]/.test(reason) ? reason : `Handler${reason}`;
}
