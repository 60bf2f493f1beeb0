/**
 * Checks an admission handler's options at registration and fills the defaults, so a bad option
 * fails where the handler is declared, not when the API server refuses the configuration.
 */
import { defaults } from '../defaults.ts';
import type { AdmissionOperation, AdmissionOptions, AdmissionSpec, MutateFn, ValidateFn } from './types.ts';

const OPERATIONS: readonly AdmissionOperation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

/**
 * A checked {@link AdmissionSpec}.
 *
 * @throws {RangeError} naming the option and the fix.
 * @example
 * ```ts
 * normalizeAdmission('validate', fn, { failurePolicy: 'Ignore' }).timeoutSeconds; // 10
 * ```
 */
export function normalizeAdmission(type: 'validate' | 'mutate', fn: ValidateFn | MutateFn, options: AdmissionOptions = {}): AdmissionSpec {
  if (typeof fn !== 'function') throw new TypeError(`the ${type} handler must be a function`);
  const name = fn.name.replace(/^bound /, '').trim();
  const id = options.id ?? `${type}${name ? `.${name}` : ''}`;
  if (id.trim() === '') throw new RangeError(`a ${type} handler id must not be empty`);
  const operations = [...new Set(options.operations ?? defaults.admission.operations)];
  if (operations.length === 0 || operations.some((op) => !OPERATIONS.includes(op))) {
    throw new RangeError(`${type} ${id}: operations must be some of ${OPERATIONS.join(', ')}, got ${JSON.stringify(options.operations)}`);
  }
  const timeoutSeconds = options.timeoutSeconds ?? defaults.admission.timeoutSeconds;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 30) {
    throw new RangeError(`${type} ${id}: timeoutSeconds must be an integer from 1 to 30 (the API server's limits), got ${timeoutSeconds}`);
  }
  const failurePolicy = options.failurePolicy ?? defaults.admission.failurePolicy;
  if (failurePolicy !== 'Fail' && failurePolicy !== 'Ignore') throw new RangeError(`${type} ${id}: failurePolicy must be "Fail" or "Ignore"`);
  const sideEffects = options.sideEffects ?? 'None';
  if (sideEffects !== 'None' && sideEffects !== 'NoneOnDryRun') {
    throw new RangeError(`${type} ${id}: sideEffects must be "None" or "NoneOnDryRun" (a handler with side effects skips them when context.dryRun is true)`);
  }
  if (options.reinvocationPolicy !== undefined && type !== 'mutate') throw new RangeError(`${type} ${id}: reinvocationPolicy applies to mutate handlers only`);
  const conditions = [...(options.matchConditions ?? [])];
  if (conditions.length > 64) throw new RangeError(`${type} ${id}: at most 64 matchConditions are allowed, got ${conditions.length}`);
  return Object.freeze({
    type,
    id,
    fn,
    operations,
    subresources: [...(options.subresources ?? [])],
    failurePolicy,
    timeoutSeconds,
    sideEffects,
    objectSelector: options.objectSelector,
    namespaceSelector: options.namespaceSelector,
    matchConditions: conditions,
    reinvocationPolicy: options.reinvocationPolicy ?? 'Never',
  });
}
