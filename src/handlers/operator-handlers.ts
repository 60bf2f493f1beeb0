/**
 * Operator-level registrations: startup and cleanup handlers, probes, login handlers, schedules,
 * and CRD conversions served by the operator. Each goes into the default registry, or the one
 * given in its options.
 */
import type { KubeClient } from '../client/client.ts';
import type { VersionedResource } from '../schema/versions.ts';
import { optionalDuration, parseDuration, type Duration } from './duration.ts';
import { defaults } from '../defaults.ts';
import { deriveId } from './normalize.ts';
import { defaultRegistry, type Registry } from './registry.ts';
import type { ActivitySpec, HandlerKind, LoginContext, OperatorContext } from './types.ts';

/** Options of {@link schedule}. */
export interface ScheduleOptions {
  /** Time from the end of one run to the start of the next. */
  interval: Duration;
  /** Wait before the first run after the replica starts leading. Default: `interval`. */
  initialDelay?: Duration;
  /** For logs. Default: `schedule.<function name>`. */
  id?: string;
  /** Default: {@link defaultRegistry}. */
  registry?: Registry;
}

/** Options of operator-level registrations. */
export interface ActivityOptions {
  /** Stable id, for logs. Default: derived from the handler kind and the function's name. */
  id?: string;
  /** Default: {@link defaultRegistry}. */
  registry?: Registry;
  /** Retries after ordinary errors before the operator gives up starting. Default: unlimited for TemporaryError, 0 otherwise. */
  retries?: number;
  /** Delay between retries. Default: 1 s. */
  backoff?: Duration;
}

function activity(fn: (context: OperatorContext) => unknown, options: ActivityOptions, kind: string): ActivitySpec {
  if (typeof fn !== 'function') throw new TypeError(`${kind}: the handler must be a function`);
  return {
    id: options.id ?? deriveId(kind as HandlerKind, fn.name),
    fn,
    retries: options.retries,
    backoffMs: options.backoff === undefined ? defaults.handlers.backoffInitialMs : parseDuration(options.backoff, `${kind} backoff`),
  };
}

/**
 * Runs before any watch starts (kopf's `on.startup`); a failure stops the operator from starting.
 *
 * @example
 * ```ts
 * onStartup(async ({ client, logger }) => { logger.info('checking permissions'); });
 * ```
 */
export function onStartup(fn: (context: OperatorContext) => unknown, options: ActivityOptions = {}): string {
  const spec = activity(fn, options, 'startup');
  (options.registry ?? defaultRegistry).startup.push(spec);
  return spec.id;
}

/**
 * Runs when the operator stops, after handlers have finished (kopf's `on.cleanup`).
 *
 * @example
 * ```ts
 * onCleanup(async ({ logger }) => logger.info('bye'));
 * ```
 */
export function onCleanup(fn: (context: OperatorContext) => unknown, options: ActivityOptions = {}): string {
  const spec = activity(fn, options, 'cleanup');
  (options.registry ?? defaultRegistry).cleanup.push(spec);
  return spec.id;
}

/**
 * Serves the conversion webhook of a kind with several versions (controller-runtime's conversion
 * webhook; kopf has none): the operator's webhook server answers the API server's
 * ConversionReviews with the declared conversions, and points the CRD's `spec.conversion` at
 * itself with its CA bundle. Needs the operator's `webhooks` option (`OPERON_WEBHOOK_URL` or
 * `OPERON_WEBHOOK_SERVICE` for `operon run`), as validate and mutate handlers do. Every replica
 * serves it, leader or not.
 *
 * @example
 * ```ts
 * export const Gadgets = defineVersions({ versions: [GadgetV1, GadgetV2], storage: 'v1', conversions: [conversion(GadgetV1, GadgetV2, { up, down })] });
 * serveConversion(Gadgets);
 * ```
 */
export function serveConversion(versions: VersionedResource, options: { registry?: Registry } = {}): void {
  const registry = options.registry ?? defaultRegistry;
  if (registry.conversions.some((v) => v.crdName === versions.crdName)) throw new Error(`the conversion of ${versions.crdName} is already served by this registry`);
  if (versions.strategy !== 'Webhook') throw new Error(`${versions.crdName} needs no conversion webhook: its versions share one schema (strategy None)`);
  registry.conversions.push(versions);
}

/**
 * Runs `fn` every `interval` while this replica leads (on every replica without leader election):
 * operator-level work that is not about one object (a cleanup sweep, a report, a cache refresh;
 * Pepr's `OnSchedule`, controller-runtime's leader-election runnables). Runs never overlap; one
 * that throws is logged at warn and the schedule goes on; it stops, with its signal aborted, when
 * the replica loses the lease or the operator stops.
 *
 * @example
 * ```ts
 * schedule(async ({ client, logger }) => {
 *   const stale = await findStaleBackups(client);
 *   logger.info({ stale: stale.length }, 'backup sweep');
 * }, { interval: '10m', id: 'backup-sweep' });
 * ```
 */
export function schedule(fn: (context: OperatorContext) => unknown, options: ScheduleOptions): string {
  if (typeof fn !== 'function') throw new TypeError('schedule: the handler must be a function');
  const registry = options.registry ?? defaultRegistry;
  const id = options.id ?? `schedule${fn.name ? `.${fn.name}` : ''}`;
  if (registry.schedules.some((s) => s.id === id)) throw new Error(`a schedule with id "${id}" is already registered; give each its own id`);
  const intervalMs = parseDuration(options.interval, `schedule ${id} interval`);
  if (intervalMs <= 0) throw new RangeError(`schedule ${id}: interval must be above zero`);
  registry.schedules.push({ id, fn, intervalMs, initialDelayMs: optionalDuration(options.initialDelay, `schedule ${id} initialDelay`) ?? intervalMs });
  return id;
}

/**
 * A health probe: its result appears under `id` in the operator's health report (cached for
 * `defaults.handlers.probeCacheMs`).
 *
 * @example
 * ```ts
 * probe('queue', () => ({ pending: jobs.length }));
 * ```
 */
export function probe(id: string, fn: (context: OperatorContext) => unknown, options: { registry?: Registry } = {}): void {
  const registry = options.registry ?? defaultRegistry;
  if (registry.probes.some((p) => p.id === id)) throw new Error(`a probe with id "${id}" is already registered`);
  registry.probes.push({ id, fn });
}

/**
 * Supplies the client the operator uses when none is given (kopf's `on.login`); the first login
 * handler that returns a client wins.
 *
 * @example
 * ```ts
 * onLogin(() => KubeClient.load({ context: 'staging' }));
 * ```
 */
export function onLogin(fn: (context: LoginContext) => KubeClient | Promise<KubeClient>, options: { registry?: Registry } = {}): void {
  (options.registry ?? defaultRegistry).login.push(fn);
}
