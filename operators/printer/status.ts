/**
 * What an operator writes into a Printer's status, computed by pure functions so the framework
 * version and the no-framework example write the same values.
 *
 * Guarantees:
 * - {@link summarize} always fits `status.summary` (at most {@link SUMMARY_MAX_LENGTH} code
 *   points, one line, no control characters), whatever the text.
 * - {@link printedConditions} keeps `lastTransitionTime` when the condition's status does not
 *   change (the Kubernetes convention), and leaves conditions of other types untouched.
 */
import { SUMMARY_MAX_LENGTH, type Condition, type PrinterPhase } from './resource.ts';

/** The condition type the Printer operator owns. */
export const PRINTED = 'Printed';

/**
 * The text on one line for the `Text` column: control characters (newlines, tabs) become
 * spaces, runs of them collapse, and a text longer than the column ends in `…`.
 *
 * @example
 * ```ts
 * summarize('Hello\nKube!'); // 'Hello Kube!'
 * ```
 */
export function summarize(text: string): string {
  const flat = text.replace(/\p{Cc}+/gu, ' ').trim();
  // Code points, as the API server counts maxLength; a UTF-16 cut could split an emoji in half.
  const chars = Array.from(flat);
  return chars.length <= SUMMARY_MAX_LENGTH ? flat : `${chars.slice(0, SUMMARY_MAX_LENGTH - 1).join('')}…`;
}

/**
 * The Printer's conditions after its Pod reached `phase`: `Printed` is True once the Pod
 * succeeded, False when it failed, Unknown before that.
 *
 * @example
 * ```ts
 * printedConditions('Succeeded', 1, printer.status?.conditions, new Date());
 * // [{ type: 'Printed', status: 'True', reason: 'PodSucceeded', ... }]
 * ```
 */
export function printedConditions(phase: PrinterPhase, generation: number | undefined, previous: readonly Condition[] | undefined, now: Date): Condition[] {
  const status = phase === 'Succeeded' ? 'True' : phase === 'Failed' ? 'False' : 'Unknown';
  const old = previous?.find((c) => c.type === PRINTED);
  const condition: Condition = {
    type: PRINTED,
    status,
    reason: `Pod${phase}`,
    message: `the printing Pod is ${phase}`,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  if (generation !== undefined) condition.observedGeneration = generation;
  return [...(previous ?? []).filter((c) => c.type !== PRINTED), condition];
}
