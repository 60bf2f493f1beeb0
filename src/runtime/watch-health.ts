/**
 * Watch health in words, for `health()` and `/readyz`: which watch of which resource is failing or
 * stale, where, and the last error with its hint, so a probe's answer says what to fix.
 */
import type { ReflectorStatus } from '../watch/reflector.ts';

/**
 * Why the watches of resource `name` are unhealthy, one clause per failing watch.
 *
 * @example
 * ```ts
 * describeFailingWatch('printers.operon.dev', reflector.status()); // 'watch of printers.operon.dev in shop is backoff, last error Forbidden: ...'
 * ```
 */
export function describeFailingWatch(name: string, status: ReflectorStatus): string {
  const failing = status.watches
    .filter((w) => !w.healthy)
    .map((w) => {
      const where = w.namespace ? ` in ${w.namespace}` : '';
      const error = w.lastError ? `, last error ${w.lastError.kind}: ${w.lastError.message}${w.lastError.hint ? ` (${w.lastError.hint})` : ''}` : '';
      return `watch of ${name}${where} is ${w.phase}${error}`;
    });
  return failing.length > 0 ? failing.join('; ') : `watch of ${name} is unhealthy`;
}

/**
 * The watches of resource `name` whose cache may be stale (stalled, or failing past the idle
 * timeout), one line each.
 *
 * @example
 * ```ts
 * describeStaleWatches('printers.operon.dev', reflector.status()); // ['watch of printers.operon.dev is stalled ...']
 * ```
 */
export function describeStaleWatches(name: string, status: ReflectorStatus): string[] {
  return status.watches
    .filter((w) => !w.current)
    .map((w) => {
      const where = w.namespace ? ` in ${w.namespace}` : '';
      const why = w.stalledSince !== undefined ? 'stalled (nothing, not even a bookmark, arrived) and not answered again yet' : `failing${w.lastError ? ` (${w.lastError.kind}: ${w.lastError.message})` : ''}`;
      return `watch of ${name}${where} is ${why}; its cache may be stale`;
    });
}

/**
 * The problems of an operator for its health report: its own state first (lost lease, failed
 * start, stopped), then each unhealthy watch; and each stale one, for readiness.
 *
 * @example
 * ```ts
 * const { problems, stale } = watchProblems({ 'printers.operon.dev': reflector.status() }, undefined);
 * ```
 */
export function watchProblems(resources: Readonly<Record<string, ReflectorStatus>>, state: string | undefined): { problems: string[]; stale: string[] } {
  const problems = state === undefined ? [] : [state];
  for (const [name, status] of Object.entries(resources)) if (!status.healthy) problems.push(describeFailingWatch(name, status));
  const stale = Object.entries(resources).flatMap(([name, status]) => describeStaleWatches(name, status));
  return { problems, stale };
}
