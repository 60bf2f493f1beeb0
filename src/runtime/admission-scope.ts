/**
 * The namespaces an operator's admission webhooks apply to: the ones it serves. A namespaced
 * operator (`--namespace shop`) has no business refusing objects elsewhere, and a second copy of
 * it serving another namespace must not answer for the first one's objects.
 */
import type { LabelSelector } from '../admission/types.ts';
import type { OperatorOptions } from './operator-options.ts';

/** A namespace name, exactly (globs and `!` exclusions cannot be said with a label selector). */
const PLAIN_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** `key=value` terms of a simple equality selector. */
const EQUALITY = /^\s*([^=!,\s]+)\s*==?\s*([^=!,\s]*)\s*$/;

/**
 * The `namespaceSelector` the operator's webhooks get from its namespace options, or `undefined`
 * for every namespace: exact `namespaces` become `kubernetes.io/metadata.name In (...)` (the label
 * the API server sets on every Namespace), a `namespaceSelector` given as a map or as equality
 * terms is used as is. Globs, exclusions and set-based selectors leave the webhooks cluster-wide
 * (the handler still sees every request; filter there with `namespaceSelector` on the handler).
 *
 * @example
 * ```ts
 * admissionScope({ namespaces: ['shop'] });
 * // { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['shop'] }] }
 * ```
 */
export function admissionScope(options: Pick<OperatorOptions, 'namespaces' | 'allNamespaces' | 'namespaceSelector'>): LabelSelector | undefined {
  const selector = options.namespaceSelector;
  if (selector !== undefined) {
    if (typeof selector !== 'string') return { matchLabels: { ...selector } };
    const terms = selector.split(',').map((term) => EQUALITY.exec(term));
    if (terms.some((t) => t === null)) return undefined;
    return { matchLabels: Object.fromEntries(terms.map((t) => [t?.[1] as string, t?.[2] as string])) };
  }
  if (options.allNamespaces || options.namespaces === undefined) return undefined;
  const names = typeof options.namespaces === 'string' ? [options.namespaces] : [...options.namespaces];
  if (names.length === 0 || !names.every((n) => PLAIN_NAME.test(n))) return undefined;
  return { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: names }] };
}
