/**
 * The sharder: on the one replica that leads, it keeps every object of a ring on a live shard.
 * It reads the shard Leases, builds the ring from the members, and for each object performs the
 * step {@link placeMain} or {@link placeOwned} decides: assign, drain, or move. It also fences a
 * shard that stopped renewing (acquires its Lease) and deletes the Leases of long-dead shards.
 *
 * How it sees objects: a metadata-only watch per ring resource and owned resource, so a new
 * object is assigned as soon as its ADDED event arrives (without the admission webhook) and a
 * ring change is applied from the cache, not from a fresh list. The cost is the metadata of every
 * object of the ring in this one replica (the reference's first iteration, which the thesis
 * measured at about 2.5× a shard's memory for the leader, made the same trade); a shard's own
 * caches hold only its objects.
 *
 * Guarantees:
 * - Every write carries the resourceVersion it was decided on, so a decision on a stale view
 *   fails with a conflict and is made again from the newer event; nothing is retried blindly.
 * - An owned object is moved before its owner is labelled with the same shard, so the owner's new
 *   shard sees its children when it first handles the owner.
 * - Every object is looked at again every {@link defaults}.sharding.syncPeriodMs, whatever
 *   events were missed.
 */
import type { Clock } from '../base/clock.ts';
import { sleep } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import { isApiError } from '../client/errors.ts';
import { objectKey, parseKey } from '../client/keys.ts';
import { parseApiVersion } from '../client/paths.ts';
import type { KubeObject, Stored } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { resourceKey } from '../handlers/registry.ts';
import type { Resource } from '../schema/resource.ts';
import { drainLabel, ownedShardingKey, shardingKey, shardLabel, type ShardedKind } from '../sharding/labels.ts';
import { isMember, leaseAction } from '../sharding/membership.ts';
import { placeMain, placeOwned, type Placement, type ShardLabels } from '../sharding/placement.ts';
import type { ShardingMetrics } from '../sharding/metrics.ts';
import { Reflector } from '../watch/reflector.ts';
import type { WatchScope } from '../watch/scope.ts';
import { listWatchSource } from './cache-options.ts';
import { microTime } from './lease.ts';
import { RingView, type LeaseObject } from './ring-view.ts';
import { LEASES_RESOURCE } from './leader-election.ts';

/** A handled resource of the ring and the resources it owns. */
export interface ShardedResource {
  readonly resource: Resource;
  readonly owned: readonly Resource[];
}

/** Options of a {@link Sharder}. */
export interface SharderOptions {
  client: KubeClient;
  ring: string;
  /** Where the shard Leases live. */
  namespace: string;
  resources: readonly ShardedResource[];
  /** The operator's namespaces. */
  scope: WatchScope;
  clock: Clock;
  logger: Logger;
  /** Pause between reads of the shard Leases. Default: {@link defaults}.sharding.retryPeriodMs. */
  retryPeriodMs?: number;
  /** Default: {@link defaults}.sharding.syncPeriodMs. */
  syncPeriodMs?: number;
  /** Default: {@link defaults}.sharding.virtualNodes. */
  virtualNodes?: number;
  metrics?: ShardingMetrics;
  /** A watch silent this long is presumed stalled. Default: the reflector's. */
  idleTimeoutMs?: number | undefined;
}

interface MainEntry {
  readonly kind: ShardedKind;
  readonly resource: Resource;
  readonly reflector: Reflector<Stored>;
}

interface OwnedEntry {
  readonly resource: Resource;
  readonly reflector: Reflector<Stored>;
}

const OWNER_INDEX = 'operon-shard-owner';

/**
 * Keeps a ring's objects on live shards; runs on the leader only.
 *
 * @example
 * ```ts
 * const sharder = new Sharder({ client, ring: 'printers', namespace: 'ops', resources: [{ resource: printers, owned: [pods] }], scope: {}, clock, logger });
 * sharder.start();
 * await sharder.stop();
 * ```
 */
export class Sharder {
  readonly #options: SharderOptions;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #shardLabel: string;
  readonly #drainLabel: string;
  readonly #main: MainEntry[] = [];
  readonly #mainByKind = new Map<string, MainEntry>();
  readonly #owned: OwnedEntry[] = [];
  readonly #stop = new AbortController();
  readonly #view: RingView;
  /** Objects to look at: `m|<index>|<key>` (main) or `o|<index>|<key>` (owned). */
  readonly #pending = new Set<string>();
  #working: Promise<void> | undefined;
  #ready = false;
  #loop: Promise<void> | undefined;
  /** When the drain label was written, by sharding key, for the drain-duration metric. */
  readonly #drains = new Map<string, number>();

  constructor(options: SharderOptions) {
    this.#options = options;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ ring: options.ring, sharder: true });
    this.#shardLabel = shardLabel(options.ring);
    this.#drainLabel = drainLabel(options.ring);
    this.#view = new RingView({ client: options.client, ring: options.ring, namespace: options.namespace, clock: options.clock, logger: this.#logger, virtualNodes: options.virtualNodes });
    const { client, scope, clock, idleTimeoutMs } = options;
    const kinds = options.resources.map((r) => ({ group: r.resource.group, kind: r.resource.kind }));
    const reflector = (resource: Resource, owners?: readonly ShardedKind[]): Reflector<Stored> =>
      new Reflector<Stored>({
        source: listWatchSource(client, resource, { metadataOnly: true }),
        namespaced: resource.namespaced,
        scope: { ...(scope.namespaces !== undefined ? { namespaces: scope.namespaces } : {}) },
        store: {
          transform: (object: Stored) => this.#slim(object),
          ...(owners ? { indexes: { [OWNER_INDEX]: (object: Stored) => { const key = ownedShardingKey(object, owners); return key ? [key] : []; } } } : {}),
        },
        name: `${resource.plural} (sharder)`,
        logger: this.#logger,
        clock,
        ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
      });
    const ownedSeen = new Set<string>();
    for (const { resource, owned } of options.resources) {
      const entry: MainEntry = { kind: { group: resource.group, kind: resource.kind }, resource, reflector: reflector(resource) };
      const index = this.#main.push(entry) - 1;
      this.#mainByKind.set(`${resource.group}/${resource.kind}`, entry);
      entry.reflector.subscribe(({ object }) => this.#enqueue(`m|${index}|${storeKey(object)}`));
      for (const child of owned) {
        if (ownedSeen.has(resourceKey(child))) continue;
        ownedSeen.add(resourceKey(child));
        const ownedEntry: OwnedEntry = { resource: child, reflector: reflector(child, kinds) };
        const ownedIndex = this.#owned.push(ownedEntry) - 1;
        ownedEntry.reflector.subscribe(({ object }) => this.#enqueue(`o|${ownedIndex}|${storeKey(object)}`));
      }
    }
  }

  /** The live members of the ring, as last read. */
  get members(): ReadonlySet<string> {
    return this.#view.members;
  }

  /** Starts watching, reading Leases and placing objects. */
  start(): void {
    if (this.#loop) throw new Error('the sharder is already started');
    this.#loop = this.#run().catch((error: unknown) => this.#logger.error({ err: error }, 'the sharder failed unexpectedly'));
  }

  /** Stops; resolves once no write of the sharder is in flight. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all([...this.#main.map((m) => m.reflector.stop()), ...this.#owned.map((o) => o.reflector.stop())]);
    await this.#loop;
    await this.#working;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    const retryMs = this.#options.retryPeriodMs ?? defaults.sharding.retryPeriodMs;
    const syncMs = this.#options.syncPeriodMs ?? defaults.sharding.syncPeriodMs;
    for (const entry of [...this.#main, ...this.#owned]) void entry.reflector.start();
    await Promise.race([Promise.all([...this.#main, ...this.#owned].map((e) => e.reflector.store.ready)), new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
    let lastSync = -Infinity;
    while (!signal.aborted) {
      const changed = await this.#readLeases(signal);
      const now = this.#clock.now();
      if (changed || now - lastSync >= syncMs) {
        lastSync = now;
        this.#ready = true;
        this.#syncAll();
      }
      this.#count();
      try {
        await sleep(this.#clock, retryMs, signal);
      } catch {
        return;
      }
    }
  }

  /** Reads the shard Leases, fences and deletes as their states say; true when the members changed. */
  async #readLeases(signal: AbortSignal): Promise<boolean> {
    const { client, namespace } = this.#options;
    return this.#view.refresh(signal, async ({ lease, view, state }) => {
      const name = lease.metadata.name;
      const action = leaseAction(view, state, defaults.sharding.sharderIdentity, microTime(this.#clock.now()));
      try {
        if (action.kind === 'acquire') {
          await client.replace<LeaseObject>(LEASES_RESOURCE, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { ...lease.metadata }, spec: action.record }, { namespace, signal });
          this.#logger.warn({ shard: name }, `shard ${name} has not renewed its Lease for two lease durations: took its Lease, its objects move`);
          return false;
        }
        if (action.kind === 'delete') {
          await client.delete(LEASES_RESOURCE, name, { namespace, signal, preconditions: { resourceVersion: lease.metadata.resourceVersion } });
          this.#logger.info({ shard: name }, `deleted the Lease of shard ${name}, dead for ${defaults.sharding.orphanAfterMs} ms`);
          return false;
        }
      } catch (error) {
        // Someone wrote the Lease meanwhile (the shard renewed): the next read decides again.
        if (!isApiError(error, 'Conflict') && !isApiError(error, 'NotFound')) this.#logger.warn({ err: error, shard: name }, 'writing a shard Lease failed');
        return isMember(state);
      }
      return isMember(state);
    });
  }

  /** Looks at every object again. */
  #syncAll(): void {
    for (const [index, entry] of this.#main.entries()) for (const object of entry.reflector.store.list()) this.#enqueue(`m|${index}|${storeKey(object)}`);
    for (const [index, entry] of this.#owned.entries()) for (const object of entry.reflector.store.list()) this.#enqueue(`o|${index}|${storeKey(object)}`);
  }

  /** Reports the main objects per shard (a pass over the slim cache: about a millisecond for 30,000). */
  #count(): void {
    const metrics = this.#options.metrics;
    if (!metrics) return;
    const counts = new Map<string, number>();
    for (const entry of this.#main) {
      for (const object of entry.reflector.store.list()) {
        const shard = object.metadata.labels?.[this.#shardLabel] ?? '';
        counts.set(shard, (counts.get(shard) ?? 0) + 1);
      }
    }
    metrics.objects(counts);
  }

  #enqueue(item: string): void {
    this.#pending.add(item);
    this.#kick();
  }

  #kick(): void {
    if (!this.#ready || this.#working !== undefined || this.#pending.size === 0) return;
    // An item added after the worker's last look but before it is marked done would wait for the
    // next event: look again once it is marked done.
    this.#working = this.#work().finally(() => {
      this.#working = undefined;
      this.#kick();
    });
  }

  /** Works through the pending objects, {@link defaults}.sharding.concurrentWrites at a time. */
  async #work(): Promise<void> {
    while (this.#pending.size > 0 && !this.#stop.signal.aborted) {
      const batch: string[] = [];
      for (const item of this.#pending) {
        batch.push(item);
        this.#pending.delete(item);
        if (batch.length >= defaults.sharding.concurrentWrites) break;
      }
      await Promise.all(batch.map((item) => this.#place(item)));
    }
  }

  async #place(item: string): Promise<void> {
    const [which, indexText, key] = item.split('|') as [string, string, string];
    const index = Number(indexText);
    try {
      if (which === 'm') await this.#placeMain(this.#main[index] as MainEntry, key);
      else await this.#placeOwned(this.#owned[index] as OwnedEntry, key);
    } catch (error) {
      if (this.#stop.signal.aborted) return;
      // A conflict means the cache was behind; the object is looked at again after a pause (a
      // conflict on a child leaves its owner waiting, and the child's newer event alone would not
      // bring the owner back). A missing object has a deletion event on its way.
      if (isApiError(error, 'NotFound')) return;
      if (isApiError(error, 'Conflict')) this.#logger.debug({ object: key }, `placing ${key} met a newer version; looking again`);
      else this.#logger.warn({ err: error, object: key }, `placing ${key} failed; trying again`);
      const cancel = this.#clock.setTimer(this.#options.retryPeriodMs ?? defaults.sharding.retryPeriodMs, () => this.#enqueue(item));
      this.#stop.signal.addEventListener('abort', cancel, { once: true });
    }
  }

  async #placeMain(entry: MainEntry, key: string): Promise<void> {
    const object = fromStore(entry.reflector, key);
    if (object === undefined) return;
    const { name, namespace } = object.metadata;
    const shardKey = shardingKey(entry.kind, name, namespace);
    const labels = this.#labels(object);
    const step = placeMain(shardKey, labels, this.#view.ring, this.#view.members);
    if (labels.shard === undefined && !labels.draining) this.#acknowledged(shardKey);
    if (step.kind === 'skip') {
      // Children whose own events were decided on an older view of this owner catch up now.
      if (labels.shard !== undefined && !labels.draining && this.#view.members.has(labels.shard)) await this.#moveChildren(shardKey, labels.shard);
      return;
    }
    if (step.kind === 'drain') {
      await this.#write(entry.resource, object, { [this.#drainLabel]: 'true' });
      this.#drains.set(shardKey, this.#clock.now());
    } else {
      await this.#moveChildren(shardKey, step.to);
      await this.#write(entry.resource, object, { [this.#shardLabel]: step.to, [this.#drainLabel]: null });
    }
    this.#placed(step, key);
  }

  async #placeOwned(entry: OwnedEntry, key: string): Promise<void> {
    const object = fromStore(entry.reflector, key);
    if (object === undefined) return;
    const ref = object.metadata.ownerReferences?.find((r) => r.controller === true);
    if (ref === undefined) return;
    const ownerEntry = this.#mainByKind.get(`${parseApiVersion(ref.apiVersion).group}/${ref.kind}`);
    const owner = ownerEntry?.reflector.store.get(ref.name, object.metadata.namespace);
    const step = placeOwned(this.#labels(object), owner ? this.#labels(owner) : undefined, this.#view.members);
    if (step.kind !== 'assign' && step.kind !== 'move') return;
    // A child made by adopt() copies its owner's labels, a drain label included: it goes too.
    await this.#write(entry.resource, object, { [this.#shardLabel]: step.to, [this.#drainLabel]: null });
    this.#placed(step, key);
  }

  /** Moves the owned objects of `ownerKey` to `to`, before their owner goes there. */
  async #moveChildren(ownerKey: string, to: string): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const entry of this.#owned) {
      for (const child of entry.reflector.store.byIndex(OWNER_INDEX, ownerKey)) {
        const from = child.metadata.labels?.[this.#shardLabel];
        if (from === to) continue;
        writes.push(this.#write(entry.resource, child, { [this.#shardLabel]: to, [this.#drainLabel]: null }).then(() => this.#options.metrics?.placed(from === undefined ? 'assign' : 'move')));
      }
    }
    await Promise.all(writes);
  }

  async #write(resource: Resource, object: Stored, labels: Record<string, string | null>): Promise<void> {
    const { name, namespace, resourceVersion } = object.metadata;
    await this.#options.client.patch(resource.ref, name, { type: 'merge', body: { metadata: { resourceVersion, labels } } }, { ...(namespace ? { namespace } : {}), signal: this.#stop.signal });
  }

  /**
   * What the sharder keeps of an object: its identity, version, the two sharding labels and its
   * controller reference. Annotations (Operon's progress and diff base among them) and other
   * labels are dropped, so the cache of every object costs about 300 bytes each, not kilobytes.
   */
  #slim(object: Stored): Stored {
    const { name, namespace, uid, resourceVersion, labels, ownerReferences } = object.metadata;
    const shard = labels?.[this.#shardLabel];
    const drain = labels?.[this.#drainLabel];
    const controller = ownerReferences?.find((r) => r.controller === true);
    return {
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: {
        name,
        ...(namespace !== undefined ? { namespace } : {}),
        uid,
        resourceVersion,
        ...(shard !== undefined || drain !== undefined ? { labels: { ...(shard !== undefined ? { [this.#shardLabel]: shard } : {}), ...(drain !== undefined ? { [this.#drainLabel]: drain } : {}) } } : {}),
        ...(controller ? { ownerReferences: [controller] } : {}),
      },
    };
  }

  #labels(object: Stored): ShardLabels {
    const labels = object.metadata.labels;
    return { shard: labels?.[this.#shardLabel], draining: labels?.[this.#drainLabel] !== undefined };
  }

  #acknowledged(shardKey: string): void {
    const started = this.#drains.get(shardKey);
    if (started === undefined) return;
    this.#drains.delete(shardKey);
    this.#options.metrics?.drained((this.#clock.now() - started) / 1000);
  }

  #placed(step: Exclude<Placement, { kind: 'skip' }>, key: string): void {
    this.#options.metrics?.placed(step.kind);
    this.#logger.debug({ object: key, ...step }, `${step.kind} ${key}`);
  }
}

function storeKey(object: KubeObject): string {
  return objectKey(object) ?? '';
}

function fromStore(reflector: Reflector<Stored>, key: string): Stored | undefined {
  const { name, namespace } = parseKey(key);
  return reflector.store.get(name, namespace);
}

