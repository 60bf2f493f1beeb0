/**
 * A replica's view of a shard ring: it reads the ring's shard Leases, tracks when it saw each one
 * change (on its own clock, see sharding/membership.ts), and builds the hash ring over the
 * members. The sharder acts on it (fences, deletes); the assignment webhook on every replica only
 * reads it.
 *
 * Guarantee: two views that read the same Leases for a lease duration agree on the members, and
 * so on every object's shard; a view that just started counts every held Lease as ready.
 */
import { sleep, type Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import type { KubeObject, Stored } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { RING_LABEL } from '../sharding/labels.ts';
import { isMember, shardState, type LeaseRecord, type ShardLeaseView, type ShardState } from '../sharding/membership.ts';
import { HashRing } from '../sharding/ring.ts';
import { canonical } from './lease.ts';
import { LEASES_RESOURCE } from './leader-election.ts';

/** A shard Lease as read. */
export interface LeaseObject extends KubeObject {
  spec?: LeaseRecord;
}

/** One shard Lease of a read, with its state. */
export interface ObservedShard {
  readonly lease: Stored<LeaseObject>;
  readonly view: ShardLeaseView;
  readonly state: ShardState;
}

/** Options of a {@link RingView}. */
export interface RingViewOptions {
  client: KubeClient;
  ring: string;
  /** Where the shard Leases live. */
  namespace: string;
  clock: Clock;
  logger: Logger;
  /** Default: {@link defaults}.sharding.virtualNodes. */
  virtualNodes?: number | undefined;
}

/**
 * The members of a ring and its hash ring, as last read.
 *
 * @example
 * ```ts
 * const view = new RingView({ client, ring: 'printers', namespace: 'ops', clock, logger });
 * await view.refresh(signal);
 * view.ownerOf('example.com/Printer/lab/p1'); // 'replica-b'
 * ```
 */
export class RingView {
  readonly #options: RingViewOptions;
  readonly #seen = new Map<string, { raw: string; view: ShardLeaseView }>();
  #members: ReadonlySet<string> = new Set();
  #ring: HashRing;
  #loop: Promise<void> | undefined;
  readonly #stop = new AbortController();

  constructor(options: RingViewOptions) {
    this.#options = options;
    this.#ring = new HashRing([], options.virtualNodes);
  }

  /** The shards that may own objects. */
  get members(): ReadonlySet<string> {
    return this.#members;
  }

  /** The hash ring over {@link members}. */
  get ring(): HashRing {
    return this.#ring;
  }

  /** The shard `key` belongs to, or undefined while the ring has no member. */
  ownerOf(key: string): string | undefined {
    return this.#ring.ownerOf(key);
  }

  /**
   * Reads the Leases once. `act` may change a Lease (the sharder fences and deletes) and says
   * whether the shard stays a member; without it, membership follows the state. Resolves true when
   * the members changed; a failed read leaves the view as it was.
   *
   * @example
   * ```ts
   * if (await view.refresh(signal)) syncEverything();
   * ```
   */
  async refresh(signal: AbortSignal, act?: (shard: ObservedShard) => Promise<boolean>): Promise<boolean> {
    const { client, namespace, ring, clock, logger } = this.#options;
    let items: Array<Stored<LeaseObject>>;
    try {
      items = (await client.list<LeaseObject>(LEASES_RESOURCE, { namespace, labelSelector: `${RING_LABEL}=${ring}`, signal })).items;
    } catch (error) {
      if (!signal.aborted) logger.warn({ err: error, ring }, 'reading the shard Leases failed; the ring stays as it was');
      return false;
    }
    const now = clock.now();
    const members = new Set<string>();
    const states: Record<string, ShardState> = {};
    const names = new Set(items.map((l) => l.metadata.name));
    for (const name of this.#seen.keys()) if (!names.has(name)) this.#seen.delete(name);
    for (const lease of items) {
      const name = lease.metadata.name;
      const record = lease.spec ?? {};
      const raw = canonical(record);
      let known = this.#seen.get(name);
      if (known?.raw !== raw) this.#seen.set(name, (known = { raw, view: { name, record, changedAt: now } }));
      const state = shardState(known.view, now, defaults.sharding.orphanAfterMs);
      states[name] = state;
      const member = act ? await act({ lease, view: known.view, state }) : isMember(state);
      if (member) members.add(name);
    }
    if (sameSet(members, this.#members)) return false;
    this.#members = members;
    this.#ring = new HashRing(members, this.#options.virtualNodes);
    logger.info({ ring, members: [...members].sort(), states }, `shard ring ${ring} has ${members.size} member(s)`);
    return true;
  }

  /** Reads the Leases every `periodMs` until {@link stop}. */
  start(periodMs: number = defaults.sharding.retryPeriodMs): void {
    if (this.#loop) return;
    const signal = this.#stop.signal;
    this.#loop = (async () => {
      while (!signal.aborted) {
        await this.refresh(signal);
        try {
          await sleep(this.#options.clock, periodMs, signal);
        } catch {
          return;
        }
      }
    })();
  }

  /** Stops reading. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
