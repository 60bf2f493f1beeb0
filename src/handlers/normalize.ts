/**
 * From what a user passes to `onCreate(fn, options)` and its siblings to the normalised
 * {@link HandlerSpec} the registry keeps: ids derived as kopf derives them, durations parsed,
 * backoff settled, every option checked with a message naming the handler.
 */
import type { KubeObject } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { parseFieldPath } from '../state/fields.ts';
import { optionalDuration, parseDuration, type Duration } from './duration.ts';
import type { DeleteOptions, HandlerKind, HandlerOptions, HandlerSpec, ResumeOptions, SpecOf } from './types.ts';

/**
 * A handler's default id: `<kind>[.<function name>][/<field>]`.
 *
 * @example
 * ```ts
 * deriveId('create', 'printPod');          // 'create.printPod'
 * deriveId('field', '', 'spec.text');      // 'field/spec.text'
 * ```
 */
export function deriveId(kind: HandlerKind, functionName: string, field?: string): string {
  // Bound functions are named "bound fn"; anonymous ones "" (or the variable they are assigned to).
  const name = functionName.replace(/^bound /, '').trim();
  return `${kind}${name ? `.${name}` : ''}${field ? `/${field}` : ''}`;
}

/**
 * Checks and normalises a handler's options into a {@link HandlerSpec}.
 *
 * @example
 * ```ts
 * normalizeHandler('timer', fn, { interval: '30s' }).intervalMs; // 30_000
 * ```
 */
export function normalizeHandler<K extends HandlerKind>(kind: K, fn: (context: never) => unknown, input: object, field?: string): SpecOf<K> {
  return normalize(kind, fn, input, field) as SpecOf<K>;
}

function normalize(kind: HandlerKind, fn: (context: never) => unknown, input: object, field?: string): HandlerSpec {
  const options = input as LooseOptions;
  const fieldName = field ?? options.field;
  const fieldPath = fieldName === undefined ? undefined : parseFieldPath(fieldName);
  const id = options.id ?? deriveId(kind, fn.name, field);
  if (id.trim() === '') throw new RangeError('a handler id must not be empty');
  if (options.retries !== undefined && (!Number.isInteger(options.retries) || options.retries < 0)) {
    throw new RangeError(`handler ${id}: retries must be a non-negative integer, got ${options.retries}`);
  }
  const backoff = normalizeBackoff(options.backoff, id);
  const base = {
    id,
    fn,
    labels: options.labels,
    annotations: options.annotations,
    field: fieldName,
    fieldPath,
    hasValue: 'value' in options,
    value: options.value,
    when: options.when,
    retries: options.retries,
    timeoutMs: optionalDuration(options.timeout, `handler ${id} timeout`),
    backoff,
    errors: options.errors ?? 'temporary',
  } as const;
  switch (kind) {
    case 'delete':
      return { ...base, kind, optional: options.optional === true };
    case 'resume':
      return { ...base, kind, deleted: options.deleted === true };
    case 'timer': {
      if (options.interval === undefined) throw new RangeError(`timer ${id}: an interval is required, e.g. { interval: '60s' }`);
      const intervalMs = parseDuration(options.interval, `timer ${id} interval`);
      if (intervalMs === 0) throw new RangeError(`timer ${id}: the interval must be above 0`);
      return {
        ...base,
        kind,
        intervalMs,
        initialDelayMs: optionalDuration(options.initialDelay, `timer ${id} initialDelay`),
        idleMs: optionalDuration(options.idle, `timer ${id} idle`),
        sharp: options.sharp === true,
      };
    }
    case 'daemon':
      return {
        ...base,
        kind,
        initialDelayMs: optionalDuration(options.initialDelay, `daemon ${id} initialDelay`),
        cancellationTimeoutMs: optionalDuration(options.cancellationTimeout, `daemon ${id} cancellationTimeout`),
      };
    default:
      return { ...base, kind };
  }
}

function normalizeBackoff(backoff: HandlerOptions<KubeObject>['backoff'], id: string): HandlerSpec['backoff'] {
  if (backoff === undefined) {
    return { initialMs: defaults.handlers.backoffInitialMs, maxMs: defaults.handlers.backoffMaxMs, factor: defaults.handlers.backoffFactor };
  }
  if (typeof backoff === 'number' || typeof backoff === 'string') {
    const ms = parseDuration(backoff, `handler ${id} backoff`);
    return { initialMs: ms, maxMs: ms, factor: 1 };
  }
  const initialMs = parseDuration(backoff.initial, `handler ${id} backoff.initial`);
  const maxMs = parseDuration(backoff.max, `handler ${id} backoff.max`);
  if (maxMs < initialMs) throw new RangeError(`handler ${id}: backoff.max must not be below backoff.initial`);
  return { initialMs, maxMs, factor: backoff.factor ?? 2 };
}

/** Every option of every handler kind, as the normaliser reads them. */
type LooseOptions = Omit<DeleteOptions<KubeObject> & ResumeOptions<KubeObject>, 'when'> & {
  when?: HandlerSpec['when'];
  interval?: Duration;
  initialDelay?: Duration;
  idle?: Duration;
  sharp?: boolean;
  cancellationTimeout?: Duration;
};
