/**
 * This replica as a shard of a ring: it holds a Lease named after itself and labelled with the
 * ring (renewed as a leader renews, {@link LeaderElector}), watches only the objects labelled with
 * its name, and lets an object go when the sharder puts the drain label on it.
 *
 * Guarantees:
 * - **No handling without the Lease.** Handlers start once the Lease is held; a shard that cannot
 *   renew within the renew deadline (or finds the sharder holding its Lease, after a pause) stops
 *   every handler at once and the process exits 1, as a leader that lost its lease does. The
 *   sharder moves a shard's objects only two lease durations after its last renewal, so the shard
 *   has stopped long before.
 * - **A drain is acknowledged only when the object is let go.** The acknowledgement (removing the
 *   shard and drain labels, guarded by the resourceVersion that was read) is written by the
 *   object's handling cycle, so any cycle in progress has ended first, and only after its timers
 *   and daemons have stopped.
 * - **Leaving the shard is not a deletion.** When the labels go, the label-selected watch reports
 *   the object DELETED; the runtime then forgets it (tasks, memory), and a deletion is only ever
 *   handled from `deletionTimestamp` on an object that is still in the cache, so no delete handler
 *   runs and no finalizer is removed.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import type { ResourceRef, Stored } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { drainLabel, RING_LABEL, shardLabel } from '../sharding/labels.ts';
import { kubeLeaseLock, LeaderElector, type LeaderElectionMetrics, type LeadershipLostError } from './leader-election.ts';

/**
 * A shard name for this process: the host (pod) name, cut to fit, and a random suffix, so two
 * processes on one host, or a restarted pod, are never the same shard. It is a Lease name and a
 * label value: lowercase letters, digits and '-', at most 63 characters.
 *
 * @example
 * ```ts
 * defaultShardName(); // 'printer-operator-7d9c5-x2x8q-3f0c1a2b'
 * ```
 */
export function defaultShardName(): string {
  const host = hostname().toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'shard';
  return `${host}-${randomBytes(4).toString('hex')}`;
}

/** What a shard needs to know about itself. */
export interface ShardMemberOptions {
  client: KubeClient;
  ring: string;
  /** The shard's name: its Lease's name, holder and the value of the shard label. */
  name: string;
  /** Where the shard Leases live. */
  namespace: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  clock: Clock;
  logger: Logger;
  metrics?: LeaderElectionMetrics;
}

/**
 * One replica's membership in a ring.
 *
 * @example
 * ```ts
 * const shard = new ShardMember({ client, ring: 'printers', name: defaultShardName(), namespace: 'ops', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, clock, logger });
 * shard.start({ onHeld: () => runtimes.forEach((r) => r.startControlling()), onLost: halt });
 * ```
 */
export class ShardMember {
  /** The ring's name. */
  readonly ring: string;
  /** This shard's name. */
  readonly name: string;
  /** The label selector of this shard's objects: `shard.sharding.operon.dev/<ring>=<name>`. */
  readonly selector: string;
  readonly #shardLabel: string;
  readonly #drainLabel: string;
  readonly #client: KubeClient;
  readonly #elector: LeaderElector;
  readonly #logger: Logger;
  #lost: LeadershipLostError | undefined;

  constructor(options: ShardMemberOptions) {
    this.ring = options.ring;
    this.name = options.name;
    this.#shardLabel = shardLabel(options.ring);
    this.#drainLabel = drainLabel(options.ring);
    this.selector = `${this.#shardLabel}=${options.name}`;
    this.#client = options.client;
    this.#logger = options.logger.child({ ring: options.ring, shard: options.name });
    this.#elector = new LeaderElector({
      lock: kubeLeaseLock(options.client, { name: options.name, namespace: options.namespace, labels: { [RING_LABEL]: options.ring } }),
      identity: options.name,
      leaseDurationMs: options.leaseDurationMs,
      renewDeadlineMs: options.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs,
      clock: options.clock,
      logger: this.#logger,
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
  }

  /** Takes the shard Lease and keeps it renewed; `onHeld` once it is held, `onLost` once if renewal fails. */
  start(callbacks: { onHeld(): void; onLost(error: LeadershipLostError): void }): void {
    this.#logger.info(`joining shard ring ${this.ring} as ${this.name}`);
    this.#elector.start({
      onStartedLeading: () => callbacks.onHeld(),
      onLost: (error) => {
        if (this.#lost) return;
        this.#lost = error;
        callbacks.onLost(error);
      },
    });
  }

  /** True while this shard holds its Lease. */
  get holding(): boolean {
    return this.#elector.leading;
  }

  /** Why the Lease was lost, once it was. */
  get lost(): LeadershipLostError | undefined {
    return this.#lost;
  }

  /** True when the sharder asked this shard to let `object` go. */
  draining(object: Stored): boolean {
    const labels = object.metadata.labels;
    return labels?.[this.#shardLabel] === this.name && labels[this.#drainLabel] !== undefined;
  }

  /**
   * Acknowledges a drain: removes the shard and drain labels, but only from the version that was
   * read (a conflict means the object changed; the cycle is retried and decides again).
   *
   * @example
   * ```ts
   * if (shard.draining(body)) await shard.release(printers.ref, body, signal);
   * ```
   */
  async release(ref: ResourceRef, object: Stored, signal: AbortSignal): Promise<void> {
    const { name, namespace, resourceVersion } = object.metadata;
    await this.#client.patch(ref, name, { type: 'merge', body: { metadata: { resourceVersion, labels: { [this.#shardLabel]: null, [this.#drainLabel]: null } } } }, { ...(namespace ? { namespace } : {}), signal });
    this.#logger.info({ object: namespace ? `${namespace}/${name}` : name }, 'drained: let the object go to its new shard');
  }

  /** Stops renewing; with `release`, gives the Lease up so the shard's objects move at once. */
  async stop(options: { release: boolean }): Promise<void> {
    await this.#elector.stop({ release: options.release && !this.#lost });
  }
}

/** The shard Lease timings in effect, from options and {@link defaults}.sharding. */
export function shardTimings(options: { leaseDurationMs?: number | undefined; renewDeadlineMs?: number | undefined; retryPeriodMs?: number | undefined }): { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number } {
  return {
    leaseDurationMs: options.leaseDurationMs ?? defaults.sharding.leaseDurationMs,
    renewDeadlineMs: options.renewDeadlineMs ?? defaults.sharding.renewDeadlineMs,
    retryPeriodMs: options.retryPeriodMs ?? defaults.sharding.retryPeriodMs,
  };
}
