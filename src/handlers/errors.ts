/**
 * The errors a handler throws to say how it failed, and the ones Operon raises for limits:
 * - {@link TemporaryError}: try again after its delay (default `defaults.handlers.temporaryDelayMs`);
 * - {@link PermanentError}: do not try again in this cause; the failure is recorded on the object;
 * - any other error: handled by the handler's `errors` mode (retry with backoff by default).
 * {@link HandlerTimeoutError} and {@link HandlerRetriesError} are permanent failures raised when a
 * handler's `timeout` or `retries` is exhausted.
 */
import { optionalDuration, type Duration } from './duration.ts';

/**
 * A failure that may heal: the handler is run again after `delay`.
 *
 * @example
 * ```ts
 * if (!pod.status?.podIP) throw new TemporaryError('the pod has no IP yet', { delay: '10s' });
 * ```
 */
export class TemporaryError extends Error {
  /** `'TemporaryError'`, or a subclass's own name. */
  override readonly name: string = 'TemporaryError';
  /** Milliseconds to wait before the next attempt; undefined means the default delay. */
  readonly delayMs: number | undefined;
  constructor(message: string, options: { delay?: Duration; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.delayMs = optionalDuration(options.delay, 'TemporaryError delay');
  }
}

/**
 * A failure retrying will not fix: the handler is marked failed for this cause, with a Warning
 * Event and the message on the object.
 *
 * @example
 * ```ts
 * if (!spec.image) throw new PermanentError('spec.image is required');
 * ```
 */
export class PermanentError extends Error {
  /** `'PermanentError'`, or a subclass's own name. */
  override readonly name: string = 'PermanentError';
  /** Lets the engine's `isTerminal` recognise it without importing this module. */
  readonly retryable = false;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/**
 * A handler ran past its `timeout` (counted from its first attempt in this cause).
 *
 * @example
 * ```ts
 * if (error instanceof HandlerTimeoutError) logger.warn(`gave up after ${error.timeoutMs} ms`);
 * ```
 */
export class HandlerTimeoutError extends PermanentError {
  /** `'HandlerTimeoutError'`, or a subclass's own name. */
  override readonly name: string = 'HandlerTimeoutError';
  /** The handler's timeout that ran out. */
  readonly timeoutMs: number;
  constructor(id: string, timeoutMs: number, options: { cause?: unknown } = {}) {
    super(`handler ${id} did not succeed within its timeout of ${timeoutMs} ms`, options);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A handler failed more often than its `retries` allow.
 *
 * @example
 * ```ts
 * if (error instanceof HandlerRetriesError) logger.warn(`gave up after ${error.attempts} attempts`);
 * ```
 */
export class HandlerRetriesError extends PermanentError {
  /** `'HandlerRetriesError'`, or a subclass's own name. */
  override readonly name: string = 'HandlerRetriesError';
  /** How many attempts were made. */
  readonly attempts: number;
  constructor(id: string, attempts: number, options: { cause?: unknown } = {}) {
    super(`handler ${id} failed ${attempts} times, exhausting its retries`, options);
    this.attempts = attempts;
  }
}
