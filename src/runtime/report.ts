/**
 * How a handler attempt's outcome reaches people: a log line naming object and handler, a
 * Kubernetes Event on the object, and the `operon_handler_runs_total` counter.
 */
import type { Logger } from '../base/logger.ts';
import type { KubeObject } from '../client/types.ts';
import { isRetryable } from '../client/errors.ts';
import { defaults } from '../defaults.ts';
import { messageOf, type Outcome } from '../handlers/execution.ts';
import type { Recorder } from '../handlers/recorder.ts';
import type { HandlerSpec } from '../handlers/types.ts';

/** Where outcomes are reported. */
export interface Reporter {
  readonly recorder: Recorder;
  /** Counts each attempt by handler id and result. */
  readonly handlerRuns?: ((handler: string, result: 'success' | 'retry' | 'failure') => void) | undefined;
}

/**
 * Logs an attempt's outcome and posts its Event. A retry's Event message leaves out the attempt
 * and the delay (they are in the log line), so repeats of one failure aggregate into one Event
 * whose count grows instead of a new Event per attempt. A retried failure that is likely to heal
 * by itself (the API server unreachable, 5xx, 429) logs at warn until it has been retried
 * `defaults.logging.transientRetriesAtWarn` times, then at error: an alert on error lines should
 * not page for an API server restart that healed in seconds. Timers and reconcile handlers log
 * their successes at debug: they run all the time.
 *
 * @example
 * ```ts
 * reportOutcome({ recorder }, body, spec, outcome, logger, 'create', next.retries);
 * ```
 */
export function reportOutcome(reporter: Reporter, body: KubeObject, spec: HandlerSpec, outcome: Outcome, logger: Logger, cause: string, retries: number): void {
  const quiet = spec.kind === 'timer' || spec.kind === 'reconcile';
  if (outcome.kind !== 'aborted') reporter.handlerRuns?.(spec.id, outcome.kind);
  switch (outcome.kind) {
    case 'success':
      if (outcome.ignoredError !== undefined) logger.warn({ err: outcome.ignoredError, cause }, `handler ${spec.id} failed; the error is ignored as configured`);
      // Called as methods: pino's log functions need their logger as `this`.
      else if (quiet) logger.debug({ cause }, `handler ${spec.id} succeeded`);
      else logger.info({ cause }, `handler ${spec.id} succeeded`);
      return;
    case 'retry': {
      const fields = { err: outcome.error, cause, attempt: retries, retryInMs: outcome.delayMs };
      const line = `handler ${spec.id} failed, retrying in ${formatMs(outcome.delayMs)}: ${messageOf(outcome.error)}`;
      if (isRetryable(outcome.error) && retries <= defaults.logging.transientRetriesAtWarn) logger.warn(fields, line);
      else logger.error(fields, line);
      reporter.recorder.warn(body, 'HandlerRetrying', `handler ${spec.id} failed and will be retried: ${messageOf(outcome.error)}`);
      return;
    }
    case 'failure': {
      const message = `handler ${spec.id} failed permanently: ${messageOf(outcome.error)}`;
      logger.error({ err: outcome.error, cause }, message);
      reporter.recorder.warn(body, 'HandlerFailed', message);
      return;
    }
    case 'aborted':
      if (outcome.abandoned) {
        logger.warn(
          { cause, cancellationTimeoutMs: (spec.kind === 'daemon' ? spec.cancellationTimeoutMs : undefined) ?? defaults.handlers.daemonCancellationTimeoutMs },
          `${spec.kind} ${spec.id} did not return within its cancellation timeout after its signal aborted; no longer waiting for it (its function may still be running): make it return when ctx.signal aborts, or give it a longer cancellationTimeout`,
        );
      } else {
        logger.info({ cause }, `handler ${spec.id} stopped`);
      }
      return;
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${ms}ms`;
}
