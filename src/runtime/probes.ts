/**
 * An {@link Operator}'s liveness and readiness as {@link HealthServer} checks, so every way of
 * running it (`operon run`, an embedding program, a test) serves the same `/healthz` and `/readyz`:
 *
 * - `/healthz` check `operator`: fails while any watch has been failing for
 *   `defaults.watch.unhealthyAfterMs` (naming the resource, namespace, phase, last error and its
 *   hint), after a failed start, and once the lease is lost (naming the lease and why). A restart
 *   cures each of these; a standby replica is healthy.
 * - `/healthz` check `leader-election` (only with leader election): passes while leading or
 *   standing by and says which; fails once the lease is lost.
 * - `/healthz` check `sharding` (only when sharded): names the shard and ring and whether it holds
 *   its shard Lease; fails once that Lease is lost.
 * - `/readyz` check `caches`: passes once every cache has completed its first list, on every
 *   replica, leader or not (controller-runtime serves probes on non-leaders too), and fails again
 *   while a watch is presumed stalled (naming it): ready means the caches follow the server. A
 *   stall alone does not fail `/healthz`; the watcher reconnects, and only a watch that cannot
 *   be re-established for `defaults.watch.unhealthyAfterMs` calls for a restart.
 * - `/healthz` check `probe-<id>` per `probe(id, fn)`: its result, as JSON, is the check's message
 *   (kopf's `@kopf.on.probe` shows results in its liveness response); a probe that throws fails
 *   the check. Results are cached for `defaults.handlers.probeCacheMs`, as kopf caches them.
 */
import type { HealthServer } from '../server/health.ts';
import type { Operator } from './operator.ts';

/**
 * Registers the operator's checks on a health server.
 *
 * @example
 * ```ts
 * const server = new HealthServer({ bindAddress: ':8081', metrics });
 * addOperatorChecks(server, operator);
 * await server.start();
 * await operator.run({ signal });
 * ```
 */
export function addOperatorChecks(server: HealthServer, operator: Operator): void {
  server.addHealthCheck('operator', () => {
    const health = operator.health();
    if (!health.healthy) return { ok: false, message: health.problems.join('; ') };
    const watches = Object.values(health.resources).reduce((n, r) => n + r.watches.length, 0);
    return { ok: true, message: `${health.phase}, ${watches} watch(es) healthy` };
  });
  if (operator.leaderElection) {
    server.addHealthCheck('leader-election', () => {
      const status = operator.health().leaderElection;
      if (!status) return { ok: true, message: 'not campaigning yet' };
      if (status.lost) return { ok: false, message: status.lost };
      return { ok: true, message: status.leading ? `leading (${status.identity})` : `standing by; ${status.holder ?? 'nobody'} leads ${status.lease}` };
    });
  }
  if (operator.sharding) {
    server.addHealthCheck('sharding', () => {
      const status = operator.health().sharding;
      if (!status) return { ok: true, message: 'not started yet' };
      if (status.lost) return { ok: false, message: status.lost };
      return { ok: true, message: `shard ${status.shard} of ring ${status.ring}: ${status.holding ? 'holding its Lease' : 'acquiring its Lease'}` };
    });
  }
  for (const { id } of operator.registry.probes) {
    server.addHealthCheck(`probe-${id}`, async () => {
      const result = (await operator.probe())[id];
      const failed = typeof result === 'object' && result !== null && 'error' in result;
      return { ok: !failed, message: JSON.stringify(result ?? null) };
    });
  }
  server.addReadyCheck('caches', () => {
    if (operator.ready()) return { ok: true, message: 'synced' };
    const { stale } = operator.health();
    return { ok: false, message: stale.length > 0 ? stale.join('; ') : 'caches not synced yet' };
  });
}
