/**
 * Operator-level handlers: login handlers (the first that returns a client wins) and startup and
 * cleanup handlers, each retried as its options say: a TemporaryError after its delay, any other
 * error up to `retries` times; a startup handler that fails for good stops the operator's start.
 */
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import { defaults } from '../defaults.ts';
import { TemporaryError } from '../handlers/errors.ts';
import type { Registry } from '../handlers/registry.ts';
import type { ActivitySpec, ProbeSpec } from '../handlers/types.ts';
import { messageOf } from '../handlers/execution.ts';
import type { Recorder } from '../handlers/recorder.ts';
import type { MetricFactory, OperatorContext } from '../handlers/types.ts';

/**
 * The client of the first login handler that returns one; undefined when none does.
 *
 * @example
 * ```ts
 * const client = (await login(registry, logger)) ?? (await KubeClient.load({ logger }));
 * ```
 */
export async function login(registry: Registry, logger: Logger): Promise<KubeClient | undefined> {
  for (const handler of registry.login) {
    const client = await handler({ logger });
    if (client) return client;
  }
  return undefined;
}

/**
 * The re-login a client runs on 401 Unauthorized: the login handlers again, logged.
 *
 * @example
 * ```ts
 * client.reloginWith(relogin(registry, logger));
 * ```
 */
export function relogin(registry: Registry, logger: Logger): () => Promise<KubeClient | undefined> {
  return async () => {
    logger.info('the API server answered 401 Unauthorized; running the login handlers again');
    const client = await login(registry, logger);
    if (client) logger.info('logged in again after 401 Unauthorized');
    return client;
  };
}

/**
 * The context of an operator-level handler (startup, cleanup, probe).
 *
 * @example
 * ```ts
 * await probe.fn(operatorContext({ client, logger, signal, recorder, metrics }));
 * ```
 */
export function operatorContext(deps: { client: KubeClient; logger: Logger; signal: AbortSignal; recorder: Recorder; metrics: MetricFactory | undefined }): OperatorContext {
  const { client, logger, signal, recorder, metrics } = deps;
  return {
    client,
    logger,
    signal,
    metrics,
    info: (about, reason, message) => recorder.info(about, reason, message),
    warn: (about, reason, message) => recorder.warn(about, reason, message),
  };
}

/**
 * Runs a startup or cleanup handler, retrying TemporaryErrors and up to `retries` other errors;
 * `signal` ends the retries (and is the handler's signal).
 *
 * @example
 * ```ts
 * for (const activity of registry.startup) await runActivity(activity, 'startup', { client, logger, signal, clock, recorder, metrics });
 * ```
 */
export async function runActivity(
  activity: ActivitySpec,
  kind: string,
  deps: { client: KubeClient; logger: Logger; signal: AbortSignal; clock: Clock; recorder: Recorder; metrics: MetricFactory | undefined },
): Promise<void> {
  const { signal, clock } = deps;
  const log = deps.logger.child({ handler: activity.id });
  const context = operatorContext({ ...deps, logger: log });
  for (let attempt = 0; ; attempt++) {
    try {
      await activity.fn(context);
      log.info(`${kind} handler ${activity.id} succeeded`);
      return;
    } catch (error) {
      const temporary = error instanceof TemporaryError;
      if ((!temporary && attempt >= (activity.retries ?? 0)) || signal.aborted) throw error;
      const delay = temporary ? (error.delayMs ?? defaults.handlers.temporaryDelayMs) : activity.backoffMs;
      log.error({ err: error, retryInMs: delay }, `${kind} handler ${activity.id} failed; retrying`);
      await new Promise<void>((resolve) => {
        const cancel = clock.setTimer(delay, resolve);
        signal.addEventListener('abort', () => (cancel(), resolve()), { once: true });
      });
    }
  }
}

/**
 * Runs the registered probes for the health report, at most once per
 * `defaults.handlers.probeCacheMs` (a scrape every second must not run them every second); a
 * probe that throws reports its error message.
 *
 * @example
 * ```ts
 * const probes = new ProbeRunner(clock);
 * await probes.run(registry.probes, (id) => operatorContext({ ...deps, logger: logger.child({ probe: id }) }));
 * ```
 */
export class ProbeRunner {
  readonly #clock: Clock;
  #at = -Infinity;
  #value: Record<string, unknown> = {};

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The probes' results by id, from the cache when fresh. */
  async run(probes: readonly ProbeSpec[], context: (id: string) => OperatorContext): Promise<Record<string, unknown>> {
    const now = this.#clock.now();
    if (now - this.#at < defaults.handlers.probeCacheMs) return this.#value;
    const value: Record<string, unknown> = {};
    for (const probe of probes) {
      try {
        value[probe.id] = await probe.fn(context(probe.id));
      } catch (error) {
        value[probe.id] = { error: messageOf(error) };
      }
    }
    this.#at = now;
    this.#value = value;
    return value;
  }
}
