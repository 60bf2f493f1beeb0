/**
 * The {@link Operator}: everything registered in a {@link Registry}, running against one cluster.
 * `await new Operator({ registry }).run({ signal })` is the whole embedding API (kopf's
 * `kopf.operator()`); `operon run` calls the same with SIGTERM/SIGINT wired to the signal.
 *
 * Start order: client (given, from a login handler, or loaded as kubectl does) → startup handlers
 * (all must succeed, or `run` rejects and nothing is watched) → one watch per resource and per
 * owned resource → the engine controllers, which run the handlers.
 *
 * With leader election (`leaderElection`, leadership.ts), controller-runtime's order: watches and
 * startup handlers run on every replica (a warm cache makes a takeover fast); only the leader
 * runs controllers, event handlers and schedules. A leader that cannot renew halts at once (every
 * handler's signal aborts, no grace, no cleanup handlers) and `run` rejects with a
 * {@link LeadershipLostError}, so `operon run` exits 1 and the pod restarts as a standby.
 *
 * With `webhooks`, the webhook server (validate and mutate handlers) starts after the startup
 * handlers and before the watches, on every replica: a standby answers admission requests as the
 * leader does (controller-runtime runs its webhook server outside leader election too). It stops
 * after the controllers, so writes the handlers still make are admitted.
 *
 * With `sharding` (shard.ts, sharder.ts), every replica handles objects: each holds a shard
 * Lease, watches only the objects labelled with its shard and handles them while it holds the
 * Lease (losing it halts the replica as losing leadership does); leader election picks the one
 * replica that runs the sharder, which assigns and moves objects. With `webhooks` too, every
 * replica labels new objects at admission (shard-assignment.ts). See docs/concepts/sharding.md.
 *
 * Stop order, on the signal or `stop()`: watches stop (no new work) → running cycles finish within
 * `shutdownGraceMs`, then their signals abort → timers and daemons are aborted and awaited within
 * the same grace → pending Events are flushed → cleanup handlers run → the lease (and the shard Lease) is released
 * (only now, when no handler of this replica runs any more; see
 * {@link defaults}.leaderElection.releaseOnCancel) → a client the operator created itself is
 * closed. `run` then resolves; it rejects when startup fails or the lease is lost.
 *
 * Guarantees: every watch is supervised by its reflector (it reconnects forever and reports
 * unhealthy after `defaults.watch.unhealthyAfterMs` of failures), and {@link Operator.health}
 * says so, so a liveness probe sees a zombie; `ready()` is true once every cache has listed.
 * With `metrics`, every controller, queue and watch reports controller-runtime's metrics.
 */
import { systemClock, type Clock } from '../base/clock.ts';
import { reduceHeap } from '../base/heap.ts';
import type { Logger } from '../base/logger.ts';
import { KubeClient } from '../client/client.ts';
import type { KubeObject, Stored } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { resourceName } from '../client/paths.ts';
import { keyOf } from '../client/keys.ts';
import { silentRecorder, type Recorder } from '../handlers/recorder.ts';
import { defaultRegistry, resourceKey, type Registry } from '../handlers/registry.ts';
import { EventRecorder } from '../kits/events.ts';
import type { Resource } from '../schema/resource.ts';
import type { Reflector, ReflectorStatus } from '../watch/reflector.ts';
import type { WatchScope } from '../watch/scope.ts';
import type { ReadonlyStore } from '../watch/store.ts';
import type { LeadershipLostError } from './leader-election.ts';
import { Leadership } from './leadership.ts';
import { MemoryReducer } from './memory-reducer.ts';
import { Schedules } from './schedules.ts';
import { NamespaceSelection } from './namespace-selection.ts';
import type { RbacRule } from '../manifests/rbac.ts';
import type { ResourceRuntime } from './resource.ts';
import { createRuntimes } from './runtimes.ts';
import { startWebhooks, type WebhookRuntime } from './webhooks.ts';
import { admissionScope } from './admission-scope.ts';
import { validateRingName } from '../sharding/labels.ts';
import { andSelector } from './cache-options.ts';
import { defaultShardName, ShardMember, shardTimings } from './shard.ts';
import { Sharder } from './sharder.ts';
import { RingView } from './ring-view.ts';
import { addShardAssignment } from './shard-assignment.ts';
import { RelatedWatches } from './related-watches.ts';
import { loadTracing, type Tracing } from './tracing.ts';
import { login, operatorContext, ProbeRunner, relogin, runActivity } from './activities.ts';
import { pinoLogger } from './default-logger.ts';
import { tapRecorder } from './recorder-tap.ts';
import { watchProblems } from './watch-health.ts';
import { OPERON_VERSION, type LeaderElectionOptions, type OperatorHealth, type OperatorOptions, type OperatorPhase, type PostedEvent, type ShardingOptions } from './operator-options.ts';

export { OPERON_VERSION, type LeaderElectionOptions, type LeaderElectionStatus, type OperatorHealth, type OperatorOptions, type OperatorPhase, type PostedEvent, type ShardingOptions, type ShardingStatus } from './operator-options.ts';

/**
 * Runs the handlers of a registry.
 *
 * @example
 * ```ts
 * const operator = new Operator({ namespaces: ['shop'] });
 * const stop = new AbortController();
 * process.once('SIGTERM', () => stop.abort());
 * await operator.run({ signal: stop.signal });
 * ```
 */
export class Operator {
  /** The operator's name, as in logs and Events. */
  readonly name: string;
  /** The handlers it runs. */
  readonly registry: Registry;
  #options: OperatorOptions;
  readonly #clock: Clock;
  readonly #stop = new AbortController();
  readonly #runtimes: ResourceRuntime[] = [];
  #related: RelatedWatches | undefined;
  #tracing: Tracing | undefined;
  readonly #probes: ProbeRunner;
  #phase: OperatorPhase = 'idle';
  #failed = false;
  #client: KubeClient | undefined;
  #logger: Logger | undefined;
  #done: Promise<void> | undefined;
  readonly #readyResolvers = Promise.withResolvers<void>();
  readonly #eventTaps = new Set<(event: PostedEvent) => void>();
  readonly #leadingResolvers = Promise.withResolvers<void>();
  readonly #unwatchMetrics: Array<() => void> = [];
  #memoryReducer: MemoryReducer | undefined;
  #leadership: Leadership | undefined;
  #schedules: Schedules | undefined;
  #selection: NamespaceSelection | undefined;
  /** Posts the operator's Events (from its start on). */
  #recorder: Recorder | undefined;
  #halting: Promise<void> | undefined;
  #webhooks: WebhookRuntime | undefined;
  /** This replica's shard, when sharded. */
  #shard: ShardMember | undefined;
  /** The sharder, while this replica leads a sharded operator. */
  #sharder: Sharder | undefined;
  /** The ring as the assignment webhook sees it, when sharded with webhooks. */
  #ringView: RingView | undefined;

  constructor(options: OperatorOptions = {}) {
    this.#options = options;
    if (options.onEvent) this.#eventTaps.add(options.onEvent);
    this.name = options.name ?? defaults.handlers.operatorName;
    this.registry = options.registry ?? defaultRegistry;
    this.#clock = options.clock ?? systemClock;
    this.#probes = new ProbeRunner(this.#clock);
    if (options.allNamespaces && options.namespaces !== undefined) {
      throw new RangeError('give either namespaces or allNamespaces, not both');
    }
    if (options.sharding) validateRingName(options.sharding.ring);
  }

  /** Where the operator is in its lifecycle. */
  get phase(): OperatorPhase {
    return this.#phase;
  }

  /**
   * Sets deployment options before `run`: `operon run` applies its `--leader-elect`,
   * `--health-address` and `--concurrency` to an Operator a file exports this way. Throws once running.
   *
   * @example
   * ```ts
   * operator.configure({ metrics: await Metrics.load(), leaderElection: { lease: 'printers', namespace: 'ops' } });
   * ```
   */
  configure(options: Pick<OperatorOptions, 'metrics' | 'leaderElection' | 'watchUnhealthyAfterMs' | 'concurrency' | 'webhooks' | 'tracing' | 'namespaceSelector' | 'sharding'>): void {
    if (this.#phase !== 'idle') throw new Error(`operator ${this.name} is already ${this.#phase}; configure it before run`);
    if (options.sharding) validateRingName(options.sharding.ring);
    this.#options = { ...this.#options, ...options };
  }

  /** True when this operator serves admission webhooks (its `webhooks` option); `operon rbac` reads it. */
  get servesWebhooks(): boolean {
    return this.#options.webhooks !== undefined;
  }

  /** The sharding options, or undefined when the objects are not sharded. */
  get sharding(): ShardingOptions | undefined {
    return this.#options.sharding;
  }

  /** The extra RBAC rules given in the options (`operon rbac` reads them). */
  get rbac(): readonly RbacRule[] {
    return this.#options.rbac ?? [];
  }

  /** The leader election options, or undefined without leader election. */
  get leaderElection(): LeaderElectionOptions | undefined {
    return this.#options.leaderElection || undefined;
  }

  /**
   * True while this replica runs the handlers: always once running without leader election, else
   * while leading; when sharded, while it holds its shard Lease.
   */
  get leading(): boolean {
    if (this.#phase !== 'running') return false;
    if (this.#shard) return this.#shard.holding;
    return this.#leadership?.leading ?? true;
  }

  /** The client in use, once `run` has started. */
  get client(): KubeClient | undefined {
    return this.#client;
  }

  /**
   * Runs until `signal` aborts or `stop()` is called; see the module comment for the order of
   * things. Rejects when a startup handler fails or no client can be made.
   *
   * @example
   * ```ts
   * await new Operator({ registry }).run({ signal: AbortSignal.timeout(60_000) });
   * ```
   */
  run(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#done) throw new Error(`operator ${this.name} was already started; create a new Operator to run again`);
    const signal = options.signal;
    if (signal?.aborted) this.#stop.abort();
    signal?.addEventListener('abort', () => this.#stop.abort(), { once: true });
    this.#done = this.#run();
    return this.#done;
  }

  /**
   * Stops the operator; resolves when `run` has finished.
   *
   * @example
   * ```ts
   * await operator.stop();
   * ```
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#done?.catch(() => {});
  }

  /**
   * Calls `listener` for every Event the operator posts from now on; returns the function that
   * stops it. Tests read Events this way.
   *
   * @example
   * ```ts
   * const seen: PostedEvent[] = [];
   * const unsubscribe = operator.observeEvents((event) => seen.push(event));
   * ```
   */
  observeEvents(listener: (event: PostedEvent) => void): () => void {
    this.#eventTaps.add(listener);
    return () => this.#eventTaps.delete(listener);
  }

  /**
   * Resolves once every cache has completed its first list (and the operator is handling objects).
   *
   * @example
   * ```ts
   * void operator.run();
   * await operator.whenReady();
   * ```
   */
  whenReady(): Promise<void> {
    return this.#readyResolvers.promise;
  }

  /**
   * Resolves once this replica runs its handlers: at once without leader election, else when it
   * acquires the lease.
   *
   * @example
   * ```ts
   * void operator.run();
   * await operator.whenLeading();
   * ```
   */
  whenLeading(): Promise<void> {
    return this.#leadingResolvers.promise;
  }

  /**
   * True once every cache has listed and the operator is running, while no watch is presumed
   * stalled: ready means "my caches follow the server".
   *
   * @example
   * ```ts
   * healthz.add('ready', () => operator.ready());
   * ```
   */
  ready(): boolean {
    return this.#phase === 'running' && this.#reflectors().every((r) => r.store.isReady() && r.status().current);
  }

  /**
   * The operator's health, from its watches' status.
   *
   * @example
   * ```ts
   * const { healthy, resources } = operator.health();
   * ```
   */
  health(): OperatorHealth {
    const resources: Record<string, ReflectorStatus> = {};
    for (const runtime of this.#runtimes) resources[resourceName(runtime.resource)] = runtime.status();
    for (const [key, reflector] of this.#related?.entries() ?? []) resources[key] = reflector.status();
    if (this.#selection) resources['namespaces'] = this.#selection.reflector.status();
    const lost = this.#leadership?.lost ?? this.#shard?.lost;
    const state = lost ? lost.message : this.#failed ? `operator ${this.name} failed to start` : this.#phase === 'stopped' ? `operator ${this.name} is stopped` : undefined;
    const { problems, stale } = watchProblems(resources, state);
    const leaderElection = this.#leadership?.status();
    const shard = this.#shard;
    const sharding = shard ? { ring: shard.ring, shard: shard.name, holding: shard.holding, ...(shard.lost ? { lost: shard.lost.message } : {}) } : undefined;
    return {
      healthy: problems.length === 0,
      ready: this.ready(),
      stale,
      phase: this.#phase,
      resources,
      tasks: this.#runtimes.reduce((n, r) => n + r.tasks, 0),
      ...(leaderElection ? { leaderElection } : {}),
      ...(sharding ? { sharding } : {}),
      problems,
    };
  }

  /**
   * Runs the registered probes (results cached for `defaults.handlers.probeCacheMs`); a probe
   * that throws reports its error message.
   *
   * @example
   * ```ts
   * const results = await operator.probe(); // { queue: { pending: 3 } }
   * ```
   */
  async probe(): Promise<Record<string, unknown>> {
    const client = this.#client;
    const logger = this.#logger;
    if (!client || !logger) return {};
    return this.#probes.run(this.registry.probes, (id) =>
      operatorContext({ client, logger: logger.child({ probe: id }), signal: this.#stop.signal, recorder: this.#recorder ?? silentRecorder, metrics: this.#options.metrics }),
    );
  }

  async #run(): Promise<void> {
    this.#phase = 'starting';
    let ownsClient = false;
    let events: EventRecorder | undefined;
    try {
      const logger = (this.#logger = this.#options.logger ?? (await pinoLogger(this.name)));
      let client = this.#options.client;
      if (!client) {
        client = await login(this.registry, logger);
        // A token from a login handler expires: a 401 runs the handlers again (kopf re-logins).
        client?.reloginWith(relogin(this.registry, logger));
        if (!client) {
          client = await KubeClient.load({ kubeconfig: this.#options.kubeconfig, context: this.#options.context, logger, clock: this.#clock });
          ownsClient = true;
        }
      }
      this.#client = client;
      if (this.#options.tracing) {
        this.#tracing = await loadTracing(OPERON_VERSION);
        client.traceWith(this.#tracing.requests);
      }
      events = new EventRecorder({ client, component: this.name, logger, clock: this.#clock });
      const recorder = tapRecorder(events, (event) => {
        for (const tap of this.#eventTaps) tap(event);
      });
      this.#recorder = recorder;

      for (const activity of this.registry.startup) {
        if (this.#stop.signal.aborted) break;
        await runActivity(activity, 'startup', { client, logger, signal: this.#stop.signal, clock: this.#clock, recorder, metrics: this.#options.metrics });
      }
      const sharding = this.#options.sharding;
      if (sharding && this.#options.webhooks && !this.#stop.signal.aborted) {
        // Every replica assigns new objects at admission, from its own view of the ring.
        const view = (this.#ringView = new RingView({ client, ring: sharding.ring, namespace: this.#shardNamespace(client), clock: this.#clock, logger, virtualNodes: sharding.virtualNodes }));
        view.start(shardTimings(sharding).retryPeriodMs);
        addShardAssignment(this.registry, sharding.ring, (key) => view.ownerOf(key));
      }
      if (!this.#stop.signal.aborted) {
        // Its webhooks apply in the namespaces it serves, so a copy serving other namespaces never answers for these.
        const namespaceSelector = admissionScope(this.#options);
        this.#webhooks = await startWebhooks({ registry: this.registry, client, logger, clock: this.#clock, options: this.#options.webhooks, operatorName: this.name, namespaceSelector });
      }
      if (!this.#stop.signal.aborted) this.#start(client, logger, recorder);
      await new Promise<void>((resolve) => {
        if (this.#stop.signal.aborted) resolve();
        else this.#stop.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } catch (error) {
      this.#failed = true;
      this.#logger?.error({ err: error }, `operator ${this.name} failed to start`);
      throw error;
    } finally {
      this.#phase = 'stopping';
      await this.#shutdown(events);
      if (ownsClient) this.#client?.close();
      this.#phase = 'stopped';
    }
    const lost = this.#leadership?.lost ?? this.#shard?.lost;
    if (lost) throw lost;
  }

  #start(client: KubeClient, logger: Logger, recorder: Recorder): void {
    const scope: WatchScope = this.#options.allNamespaces || this.#options.namespaces === undefined ? {} : { namespaces: this.#options.namespaces };
    const selector = this.#options.namespaceSelector;
    const selection = (this.#selection = selector === undefined ? undefined : new NamespaceSelection({ client, logger, clock: this.#clock, labelSelector: selector, idleTimeoutMs: this.#options.watchIdleTimeoutMs }));
    const byKey = new Map<string, ResourceRuntime>();
    const metrics = this.#options.metrics;
    const sharding = this.#options.sharding;
    const election = this.#options.leaderElection || undefined;
    const shardNamespace = sharding ? this.#shardNamespace(client) : undefined;
    const shard = (this.#shard =
      sharding && shardNamespace !== undefined
        ? new ShardMember({ client, ring: sharding.ring, name: sharding.shard ?? defaultShardName(), namespace: shardNamespace, ...shardTimings(sharding), clock: this.#clock, logger })
        : undefined);
    const reducer = (this.#memoryReducer = new MemoryReducer({ clock: this.#clock, collect: reduceHeap, logger }));
    this.#runtimes.push(
      ...createRuntimes(this.registry, this.#options, {
        client,
        logger,
        clock: this.#clock,
        recorder,
        scope,
        stopping: this.#stop.signal,
        cacheOf: (resource) => this.#cacheOf(resource, byKey),
        tracing: this.#tracing,
        selection,
        shard,
        onCycle: () => reducer.cycled(),
        made: (runtime, label) => {
          if (metrics) this.#unwatchMetrics.push(metrics.watchMetrics(label, () => runtime.status()));
          byKey.set(resourceKey(runtime.resource), runtime);
        },
      }),
    );
    const related = (this.#related = new RelatedWatches({ client, logger, clock: this.#clock, scope, idleTimeoutMs: this.#options.watchIdleTimeoutMs }));
    for (const runtime of this.#runtimes) {
      for (const source of runtime.registration.sources(runtime.cache)) {
        // A shard watches only its own owned objects; related (`watches`) ones are not sharded.
        const owned = shard !== undefined && runtime.registration.owned.some((o) => resourceKey(o.resource) === resourceKey(source.resource));
        const cache = owned ? { ...source.cache, labelSelector: andSelector(source.cache.labelSelector, shard.selector) } : source.cache;
        runtime.follow(byKey.get(resourceKey(source.resource))?.reflector ?? related.reflectorFor(source.resource, cache), source);
      }
    }
    related.start();
    if (selection) {
      selection.onChange((namespace, selected) => {
        logger.info({ namespace }, selected ? 'namespace selected: its objects are handled' : 'namespace no longer selected: its objects are left alone');
        for (const runtime of this.#runtimes) runtime.enqueueNamespace(namespace);
      });
      void selection.reflector.start();
    }
    for (const runtime of this.#runtimes) runtime.startWatching();
    this.#phase = 'running';
    void Promise.all(this.#reflectors().map((r) => r.store.ready)).then(() => this.#readyResolvers.resolve());
    logger.info(
      { resources: this.#runtimes.map((r) => resourceName(r.resource)), related: [...related.entries()].map(([key]) => key), namespaces: scope.namespaces ?? 'all', ...(selector !== undefined ? { namespaceSelector: selector } : {}) },
      `operator ${this.name} is running`,
    );
    // Sharded, the election picks the replica that runs the sharder; every replica handles objects.
    const campaign = election ?? (sharding && shardNamespace !== undefined ? { lease: `${sharding.ring}-sharder`, namespace: shardNamespace, ...shardTimings(sharding) } : undefined);
    const leadership = new Leadership({
      election: campaign,
      client,
      clock: this.#clock,
      logger,
      ...(metrics && campaign ? { metrics: metrics.leaderElectionMetrics(campaign.lease) } : {}),
    });
    this.#leadership = leadership;
    const schedules = (this.#schedules = new Schedules(this.registry.schedules, {
      clock: this.#clock,
      logger,
      context: (signal, log) => operatorContext({ client, logger: log, signal, recorder: this.#recorder ?? silentRecorder, metrics: this.#options.metrics }),
    }));
    leadership.start({
      onLead: () => {
        if (this.#stop.signal.aborted) return;
        const status = leadership.status();
        if (sharding) {
          if (status) logger.info({ identity: status.identity, lease: status.lease }, `operator ${this.name} leads; starting the sharder of ring ${sharding.ring}`);
          this.#sharder = new Sharder({
            client,
            ring: sharding.ring,
            namespace: shardNamespace as string,
            resources: this.#runtimes.map((r) => ({ resource: r.resource, owned: r.registration.owned.map((o) => o.resource) })),
            scope,
            clock: this.#clock,
            logger,
            retryPeriodMs: shardTimings(sharding).retryPeriodMs,
            ...(sharding.syncPeriodMs !== undefined ? { syncPeriodMs: sharding.syncPeriodMs } : {}),
            ...(sharding.virtualNodes !== undefined ? { virtualNodes: sharding.virtualNodes } : {}),
            ...(metrics ? { metrics: metrics.shardingMetrics(sharding.ring) } : {}),
            idleTimeoutMs: this.#options.watchIdleTimeoutMs,
          });
          this.#sharder.start();
        } else {
          if (status) logger.info({ identity: status.identity, lease: status.lease }, `operator ${this.name} leads; starting its controllers`);
          for (const runtime of this.#runtimes) runtime.startControlling();
          this.#leadingResolvers.resolve();
        }
        schedules.start();
      },
      onLost: (error) => this.#lose(error),
    });
    shard?.start({
      onHeld: () => {
        if (this.#stop.signal.aborted) return;
        logger.info({ ring: shard.ring, shard: shard.name }, `operator ${this.name} holds its shard Lease; handling the objects of shard ${shard.name}`);
        for (const runtime of this.#runtimes) runtime.startControlling();
        this.#leadingResolvers.resolve();
      },
      onLost: (error) => this.#lose(error),
    });
  }

  /**
   * Asks for a handling cycle of an object, as if it had changed: for wake-ups from outside the
   * handlers (a webhook, a message, a timer of your own). The object is read from the cache when
   * its turn comes; an object that does not exist is skipped. Does nothing before the watches
   * start or for a resource this operator does not handle. Returns false for a resource this
   * operator does not handle.
   *
   * @example
   * ```ts
   * const operator = new Operator({ registry });
   * void operator.run({ signal });
   * onPriceAlert((coin) => operator.enqueue(cvcs, `btc-${coin}`, 'crypto'));
   * ```
   */
  enqueue(resource: Resource, name: string, namespace?: string): boolean {
    const runtime = this.#runtimes.find((r) => resourceKey(r.resource) === resourceKey(resource));
    if (runtime === undefined) return false;
    runtime.enqueue(keyOf(name, resource.namespaced ? namespace : undefined));
    return true;
  }

  /**
   * Posts an Event about any object with the operator's recorder (aggregated and rate-limited as
   * every Event it posts), from code outside the handlers. Returns false before the operator has
   * started (no client yet), when nothing can be posted.
   *
   * @example
   * ```ts
   * operator.event(node, 'Warning', 'PriceFeedDown', 'CoinGecko has not answered for 10 minutes');
   * ```
   */
  event(about: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): boolean {
    const recorder = this.#recorder;
    if (recorder === undefined) return false;
    if (type === 'Warning') recorder.warn(about, reason, message);
    else recorder.info(about, reason, message);
    return true;
  }

  /** The webhook server, when this operator serves admission handlers. */
  get webhooks(): WebhookRuntime | undefined {
    return this.#webhooks;
  }

  /** Webhooks serve on every replica, so they start before (and apart from) leader election. */
  /** Leadership lost (once, Leadership sees to it): stop every handler now and end `run` with the error. */
  #lose(error: LeadershipLostError): void {
    this.#logger?.error({ err: error, hint: error.hint }, `operator ${this.name} stops all handlers at once: ${error.message}`);
    this.#halting = Promise.all([...this.#runtimes.map((r) => r.halt(error)), this.#schedules?.stop({ wait: false }), this.#sharder?.stop()]).then(() => {});
    this.#stop.abort();
  }

  /** Where the shard Leases live: as given, else beside the leader election Lease, else the client's namespace. */
  #shardNamespace(client: KubeClient): string {
    return this.#options.sharding?.namespace ?? (this.#options.leaderElection || undefined)?.namespace ?? client.namespace;
  }

  #cacheOf(resource: Resource, runtimes: Map<string, ResourceRuntime>): ReadonlyStore<Stored> | undefined {
    const key = resourceKey(resource);
    return runtimes.get(key)?.reflector.store ?? this.#related?.get(resource)?.store;
  }

  #reflectors(): Reflector<Stored>[] {
    return [...this.#runtimes.map((r) => r.reflector), ...[...(this.#related?.entries() ?? [])].map(([, r]) => r), ...(this.#selection ? [this.#selection.reflector] : [])];
  }

  async #shutdown(events: EventRecorder | undefined): Promise<void> {
    const logger = this.#logger;
    if (this.#runtimes.length > 0) logger?.info(`operator ${this.name} is stopping`);
    // The elector keeps renewing while the controllers drain, as controller-runtime's does: a
    // shutdown grace longer than the lease must not let a standby start beside our handlers.
    if (this.#halting) await this.#halting;
    await Promise.all([...this.#runtimes.map((r) => r.stop()), this.#related?.stop(), this.#schedules?.stop(), this.#selection?.reflector.stop(), this.#sharder?.stop()]);
    this.#memoryReducer?.stop();
    await this.#webhooks?.stop();
    await this.#ringView?.stop();
    for (const unwatch of this.#unwatchMetrics.splice(0)) unwatch();
    if (events) {
      let cancel = (): void => {};
      await Promise.race([events.flush(), new Promise<void>((resolve) => (cancel = this.#clock.setTimer(5_000, resolve)))]);
      cancel();
    }
    const client = this.#client;
    if (client && logger && !this.#failed && !this.#leadership?.lost) {
      for (const activity of this.registry.cleanup) {
        try {
          await runActivity(activity, 'cleanup', { client, logger, signal: new AbortController().signal, clock: this.#clock, recorder: this.#recorder ?? silentRecorder, metrics: this.#options.metrics });
        } catch (error) {
          logger.error({ err: error, handler: activity.id }, `cleanup handler ${activity.id} failed`);
        }
      }
    }
    // Released only now, when no handler of this replica runs: its objects then move at once.
    const release = (this.#options.leaderElection && this.#options.leaderElection.releaseOnCancel) ?? defaults.leaderElection.releaseOnCancel;
    await Promise.all([this.#shard?.stop({ release }), this.#leadership?.stop()]);
    if (this.#runtimes.length > 0) logger?.info(`operator ${this.name} stopped`);
  }

}
