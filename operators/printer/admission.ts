/**
 * The Printer's admission check: a text the Pod could not carry is refused with the reason.
 *
 * The text travels to the container as an environment variable (`pod.ts`), and `execve` ends an
 * environment string at the first NUL, so a NUL would silently cut the printed text. The length
 * bound is {@link TEXT_MAX_LENGTH} characters (see `resource.ts` for why).
 *
 * The CRD schema states the same two rules (`pattern`, `maxLength`), and the API server checks the
 * schema before it calls validating webhooks, so on a cluster with this operator's CRD the schema
 * answers first. The webhook is what explains the refusal where the schema cannot: clusters still
 * serving an older CRD without those rules, and updates through other served versions.
 */
import type { AdmissionContext } from 'operon-k8s';
import { TEXT_MAX_LENGTH, type PrinterObject } from './resource.ts';

/**
 * Why the Pod could not carry `text`, or `undefined` when it can.
 *
 * @example
 * ```ts
 * textRefusal('a\u0000b'); // 'spec.text has a NUL character at position 2: ...'
 * ```
 */
export function textRefusal(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined; // the schema names a missing or non-string text
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    return `spec.text has a NUL character at position ${nul + 1}: the Pod receives the text as an environment variable, which ends at the first NUL, so it would print only part of it; remove the NUL`;
  }
  const length = [...text].length;
  if (length > TEXT_MAX_LENGTH) return `spec.text is ${length} characters long; a Printer carries at most ${TEXT_MAX_LENGTH}; shorten it or split it across Printers`;
  return undefined;
}

/**
 * The validate handler.
 *
 * @example
 * ```ts
 * printers.validate(checkText, { id: 'text' });
 * ```
 */
export function checkText({ object }: AdmissionContext<PrinterObject>): string | undefined {
  return textRefusal(object?.spec?.text);
}
