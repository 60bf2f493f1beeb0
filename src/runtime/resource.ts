/**
 * One resource's machinery: a {@link Reflector} keeps its cache, an engine {@link Controller}
 * reconciles its keys, and each reconcile is one handling cycle of one object: kopf's data flow on
 * controller-runtime's engine.
 *
 * What each cycle does is decided by the pure planner ({@link plan}, lifecycle/plan.ts, with the
 * finalizer policy in lifecycle/finalizer.ts); this class performs it: it reads the freshest
 * known state of the object (cache, or our last write's result), writes finalizers and patches,
 * runs handlers, starts and stops timers and daemons, and keeps the per-object memory the plan
 * reads (resumed, optional deletions handled, reconcile retries).
 *
 * Guarantees beyond the engine's (one run per key, bounded concurrency):
 * - Echoes of our preconditioned writes do not enqueue (OwnWriteTracker); other changes always do.
 *   Keys from the initial list go in at low priority, so fresh changes overtake the startup flood.
 * - A change of an owned or related object enqueues the objects its event source maps it to
 *   ({@link ResourceRuntime.follow}).
 * - Event handlers see every change in order per object, run outside the reconcile (they never
 *   wait for it), and are never retried.
 * - Every failure of a handler is a log line naming object and handler, a Warning Event, and the
 *   message in the handler's progress record on the object.
 */
import type { Concurrency } from '../engine/concurrency.ts';
import { firstOf } from '../base/abort.ts';
import type { Clock } from '../base/clock.ts';
import { lazyChild, type Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import type { Stored } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { Controller, type ControllerMetrics, type ReconcileContext, type ReconcileResult } from '../engine/controller.ts';
import { objectKey, parseKey } from '../client/keys.ts';
import type { EventSource } from '../engine/sources.ts';
import { OwnWriteTracker, type EchoEventType } from './own-writes.ts';
import type { WorkQueueMetrics } from '../engine/queue.ts';
import { attempt } from '../handlers/execution.ts';
import type { Recorder } from '../handlers/recorder.ts';
import type { ResourceRegistration } from '../handlers/registry.ts';
import type { HandlerCache } from '../handlers/types.ts';
import { releaseOps } from '../lifecycle/finalizer.ts';
import { plan, plannerFacts, settle, type Plan, type Planner, type Settled } from '../lifecycle/plan.ts';
import type { Resource } from '../schema/resource.ts';
import { newPatch } from '../state/patch.ts';
import { isPaused } from '../state/pause.ts';
import type { ProgressStorage } from '../state/progress.ts';
import { Reflector, type ReflectorStatus } from '../watch/reflector.ts';
import type { WatchScope } from '../watch/scope.ts';
import { sourceFor } from '../watch/source.ts';
import type { ObjectChange, ReadonlyStore } from '../watch/store.ts';
import { call, HandlerContexts } from './contexts.ts';
import { EventHandlers } from './event-handlers.ts';
import { Reconcilers } from './reconcilers.ts';
import { andSelector, handlerCache, storeOptions, watchScope } from './cache-options.ts';
import { ObjectMemories } from './object-memory.ts';
import { PauseNotes } from './pause-notes.ts';
import { NO_SPAN, type CycleSpan, type Tracing } from './tracing.ts';
import { reportOutcome, type Reporter } from './report.ts';
import { runTask, type TaskBodyDeps } from './task-body.ts';
import { ObjectTasks } from './tasks.ts';
import { ObjectWriter } from './writer.ts';

/** What a resource runtime is built from; the operator supplies it. */
export interface ResourceRuntimeOptions {
  registration: ResourceRegistration;
  client: KubeClient;
  logger: Logger;
  clock: Clock;
  recorder: Recorder;
  scope: WatchScope;
  concurrency: Concurrency;
  shutdownGraceMs: number;
  storage: ProgressStorage;
  prefix: string;
  finalizer: string;
  /** The cache of another watched resource (owned ones), for `ctx.cache.of`. */
  cacheOf: (resource: Resource) => ReadonlyStore<Stored> | undefined;
  /** Aborts when the operator stops: the signal of event handlers. */
  stopping: AbortSignal;
  /** Metrics hooks of the engine controller and its queue. */
  controllerMetrics?: ControllerMetrics;
  queueMetrics?: WorkQueueMetrics;
  /** Counts each handler attempt by handler id and result (`operon_handler_runs_total`). */
  handlerRuns?: (handler: string, result: 'success' | 'retry' | 'failure') => void;
  /** The watch reports itself unhealthy after failing this long. Default: `defaults.watch.unhealthyAfterMs`. */
  unhealthyAfterMs?: number;
  /** A watch silent this long is presumed stalled. Default: `defaults.watch.idleTimeoutMs`. */
  idleTimeoutMs?: number;
  /** Traces each cycle in a span. Default: none. */
  tracing?: Tracing;
  /** Whether objects of a namespace are handled now (a namespace label selector). Default: all are. */
  inScope?: (namespace: string | undefined) => boolean;
  /** This replica's shard: watch only its objects and let drained ones go. Default: not sharded. */
  shard?: ShardSide;
  /** Called when a handling cycle ends (the operator's memory reducer counts them, memory-reducer.ts). */
  onCycle?: () => void;
}

/** What a resource runtime needs of its replica's shard (shard.ts). */
export interface ShardSide {
  /** The label selector of the shard's objects. */
  readonly selector: string;
  /** True when the sharder asked this shard to let the object go. */
  draining(object: Stored): boolean;
  /** Acknowledges the drain (removes the labels from this version of the object). */
  release(ref: Resource['ref'], object: Stored, signal: AbortSignal): Promise<void>;
}

/**
 * Watches one resource and runs its handlers.
 *
 * @example
 * ```ts
 * const runtime = new ResourceRuntime({ registration, client, logger, clock, recorder, scope: {}, concurrency: 8,
 *   shutdownGraceMs: 25_000, storage: new AnnotationProgressStorage(), prefix: 'operon.dev',
 *   finalizer: 'operon.dev/finalizer', cacheOf: () => undefined, stopping: signal });
 * runtime.start();
 * await runtime.stop();
 * ```
 */
export class ResourceRuntime {
  readonly registration: ResourceRegistration;
  readonly resource: Resource;
  readonly reflector: Reflector<Stored>;
  readonly controller: Controller;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #planner: Planner;
  readonly #reporter: Reporter;
  readonly #finalizer: string;
  readonly #graceMs: number;
  readonly #tracker: OwnWriteTracker;
  readonly #writer: ObjectWriter;
  readonly #tasks: ObjectTasks;
  readonly #memory = new ObjectMemories();
  readonly #lastChange = new Map<string, number>();
  readonly #pauses: PauseNotes;
  readonly #reconcilers: Reconcilers;
  readonly #tracing: Tracing | undefined;
  readonly #inScope: (namespace: string | undefined) => boolean;
  readonly #shard: ShardSide | undefined;
  readonly #onCycle: (() => void) | undefined;
  readonly #cache: HandlerCache<Stored>;
  readonly #contexts: HandlerContexts;
  readonly #events: EventHandlers;
  #initialListed = false;
  /**
   * Keys whose handling cycle is running, with the events of the object that came in meanwhile and
   * were not recognised as echoes. The watch can deliver the echo of the cycle's own write before
   * the write's response arrives, when the tracker cannot know it yet; such an event waits here
   * until the cycle ends (its writes recorded) and is asked about again. Without this, one object
   * in seven of a burst on the local control plane paid a second cycle that found nothing to do.
   * `null` while nothing is held: most cycles hold nothing, and need no list.
   */
  readonly #held = new Map<string, Array<{ type: EchoEventType; object: Stored; at: number }> | null>();
  /** True once {@link startControlling} ran: handlers run only then (under leader election, only while leading). */
  #controlling = false;
  /** Aborts every handler at once when the operator must stop working immediately (lease lost). */
  readonly #halt = new AbortController();

  constructor(options: ResourceRuntimeOptions) {
    this.registration = options.registration;
    this.resource = options.registration.resource;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ resource: this.resource.plural });
    const schemas = 'schemas' in this.resource ? (this.resource as { schemas: { status?: { properties?: Record<string, unknown> } } }).schemas : undefined;
    this.#reporter = { recorder: options.recorder, handlerRuns: options.handlerRuns };
    this.#planner = {
      registration: this.registration,
      storage: options.storage,
      finalizer: options.finalizer,
      prefix: options.prefix,
      statusConditions: schemas?.status?.properties?.['conditions'] !== undefined,
      probe: (body, spec) => this.#contexts.probe(body, spec),
      facts: plannerFacts(this.registration),
    };
    this.#finalizer = options.finalizer;
    this.#graceMs = options.shutdownGraceMs;
    this.#tracing = options.tracing;
    this.#inScope = options.inScope ?? (() => true);
    this.#shard = options.shard;
    this.#onCycle = options.onCycle;
    this.#pauses = new PauseNotes(options.recorder, options.prefix);
    this.#tracker = new OwnWriteTracker({ clock: this.#clock });
    const statusSubresource = 'hasStatus' in this.resource ? Boolean((this.resource as { hasStatus: boolean }).hasStatus) : true;
    this.#writer = new ObjectWriter({ client: options.client, ref: this.resource.ref, statusSubresource, tracker: this.#tracker, logger: this.#logger });
    this.reflector = new Reflector<Stored>({
      source: sourceFor<Stored>(options.client, this.resource.ref),
      namespaced: this.resource.namespaced,
      scope: this.#scope(options),
      store: storeOptions(this.registration.cache),
      name: this.resource.plural,
      logger: options.logger,
      clock: this.#clock,
      ...(options.unhealthyAfterMs !== undefined ? { unhealthyAfterMs: options.unhealthyAfterMs } : {}),
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    });
    this.reflector.subscribe((change) => this.#onChange(change));
    this.#cache = handlerCache(this.registration, this.reflector.store, options.cacheOf);
    this.#contexts = new HandlerContexts({
      resource: this.resource,
      client: options.client,
      cache: this.#cache,
      recorder: options.recorder,
      logger: this.#logger,
      clock: this.#clock,
      stopping: options.stopping,
      enqueue: (key) => this.controller.queue.add(key),
    });
    const signal = AbortSignal.any([options.stopping, this.#halt.signal]);
    this.#events = new EventHandlers(this.registration.of('event'), {
      contexts: this.#contexts,
      writer: this.#writer,
      logger: this.#logger,
      clock: this.#clock,
      signal,
      paused: (object) => isPaused(object, options.prefix),
    });
    this.controller = new Controller({
      name: this.resource.plural,
      reconcile: (key, context) => this.#reconcile(key, context),
      concurrency: options.concurrency,
      shutdownGraceMs: options.shutdownGraceMs,
      clock: this.#clock,
      logger: options.logger,
      ...(options.controllerMetrics ? { metrics: options.controllerMetrics } : {}),
      ...(options.queueMetrics ? { queueMetrics: options.queueMetrics } : {}),
    });
    this.#reconcilers = new Reconcilers({
      registration: this.registration,
      contexts: this.#contexts,
      writer: this.#writer,
      reporter: this.#reporter,
      storage: options.storage,
      clock: this.#clock,
      statusConditions: this.#planner.statusConditions,
    });
    const taskDeps: TaskBodyDeps = {
      latest: (key) => {
        const { name, namespace } = parseKey(key);
        return this.#writer.latest(key, this.reflector.store.get(name, namespace));
      },
      contexts: this.#contexts,
      writer: this.#writer,
      reporter: this.#reporter,
      clock: this.#clock,
      halted: () => this.#halt.signal.aborted,
    };
    this.#tasks = new ObjectTasks(
      {
        run: (spec, key, uid, signal, state) => runTask(taskDeps, spec, key, uid, signal, state),
        lastChangeAt: (uid) => this.#lastChange.get(uid),
        exited: (key) => this.enqueue(key),
      },
      { clock: this.#clock, logger: this.#logger },
    );
  }

  /**
   * Starts watching and reconciling.
   *
   * @example
   * ```ts
   * runtime.start();
   * await runtime.reflector.store.ready;
   * ```
   */
  start(): void {
    this.startWatching();
    this.startControlling();
  }

  /**
   * Starts the watch only: the cache fills and changed keys wait in the queue, but no handler
   * runs. A standby replica stays here, so it can take over with a warm cache.
   *
   * @example
   * ```ts
   * runtime.startWatching();
   * await runtime.reflector.store.ready; // ready, not yet handling
   * ```
   */
  startWatching(): void {
    void this.reflector.store.ready.then(() => {
      this.#initialListed = true;
    });
    void this.reflector.start();
  }

  /**
   * Starts handling: the queued keys (every object the watch has seen) are reconciled, and event
   * handlers run for changes from now on. Events seen before are not replayed to event handlers,
   * which are best-effort by contract.
   *
   * @example
   * ```ts
   * elector.start({ onStartedLeading: () => runtime.startControlling(), onLost });
   * ```
   */
  startControlling(): void {
    if (this.#halt.signal.aborted) return;
    this.#controlling = true;
    this.controller.start();
  }

  /**
   * Stops all work at once: running handlers' signals abort now, timers and daemons are aborted,
   * no grace period. For a leader that lost its lease: another replica may already be working.
   * Resolves when the runs have settled (a handler ignoring its signal delays that).
   *
   * @example
   * ```ts
   * await runtime.halt(error);
   * ```
   */
  async halt(reason: Error): Promise<void> {
    this.#controlling = false;
    this.#halt.abort(reason);
    await Promise.all([this.reflector.stop(), this.controller.stop({ graceMs: 0 }), this.#tasks.stopAll(0, reason)]);
  }

  /**
   * Stops watching, lets running cycles finish within the grace period, stops timers and daemons.
   *
   * @example
   * ```ts
   * await runtime.stop();
   * ```
   */
  async stop(): Promise<void> {
    await this.reflector.stop();
    await Promise.all([this.controller.stop({ graceMs: this.#graceMs }), this.#tasks.stopAll(this.#graceMs)]);
    await this.#events.drain();
  }

  /**
   * Asks for a cycle of `key` (an owned object changed, a daemon exited).
   *
   * @example
   * ```ts
   * runtime.enqueue('shop/printer-1');
   * ```
   */
  enqueue(key: string): void {
    this.controller.queue.add(key);
  }

  /** Asks for a cycle of every cached object of `namespace` (it came into or went out of the selection). */
  enqueueNamespace(namespace: string): void {
    for (const object of this.reflector.store.list(namespace)) this.controller.queue.add(`${namespace}/${object.metadata.name}`);
  }

  /**
   * The health of this resource's watches.
   *
   * @example
   * ```ts
   * if (!runtime.status().healthy) logger.warn('watch failing');
   * ```
   */
  status(): ReflectorStatus {
    return this.reflector.status();
  }

  /**
   * Follows an event source: each change of its resource (from `reflector`, that resource's
   * watch) wakes the keys the source maps it to. A mapping that throws is logged and wakes
   * nothing; the watch goes on.
   *
   * @example
   * ```ts
   * runtime.follow(secretsReflector, mappedSource(secrets, (secret) => [{ name: 'app', namespace: secret.metadata?.namespace }]));
   * ```
   */
  follow(reflector: Reflector<Stored>, source: EventSource): void {
    reflector.subscribe((change) => {
      try {
        for (const key of source.toKeys({ object: change.object, old: change.old })) this.controller.queue.add(key);
      } catch (error) {
        this.#logger.warn({ err: error, source: source.resource.plural, object: objectKey(change.object) }, `mapping a ${source.resource.kind} change to ${this.resource.kind} objects failed; it wakes none`);
      }
    });
  }

  /** This resource's cache, as handlers read it (`of` reaches owned and related resources). */
  get cache(): HandlerCache<Stored> {
    return this.#cache;
  }

  /** Timers and daemons running now. */
  get tasks(): number {
    return this.#tasks.size;
  }

  /** The watch scope: the operator's, the resource's selectors, and a shard's own label. */
  #scope(options: ResourceRuntimeOptions): WatchScope {
    const scope = watchScope(options.scope, this.registration.cache);
    return options.shard ? { ...scope, labelSelector: andSelector(scope.labelSelector, options.shard.selector) } : scope;
  }

  #onChange(change: ObjectChange<Stored>): void {
    const object = change.object;
    const key = objectKey(object);
    if (key === undefined) return;
    const uid = object.metadata.uid;
    const type = change.type === 'added' ? 'ADDED' : change.type === 'modified' ? 'MODIFIED' : 'DELETED';
    const echo = this.#tracker.isEcho(type, object);
    this.#writer.observe(key, type === 'DELETED' ? undefined : object);
    // A running cycle of the key decides about this event once its writes are recorded.
    const held = !echo && type !== 'DELETED' && this.#held.has(key);
    if (type === 'DELETED') {
      // The deletion queues the key now; what was held for it is moot.
      if (this.#held.has(key)) this.#held.set(key, null);
      this.#lastChange.delete(uid);
      this.#tasks.forget(uid);
      this.#memory.forget(uid);
      this.#reconcilers.forget(uid);
      this.#pauses.forget(uid);
    } else if (held) {
      const list = this.#held.get(key) ?? [];
      list.push({ type, object, at: this.#clock.now() });
      this.#held.set(key, list);
    } else if (!echo) {
      this.#lastChange.set(uid, this.#clock.now());
    }
    if (!this.#inScope(object.metadata.namespace)) return;
    if (this.#controlling) this.#events.dispatch(key, type, object, change.old);
    if (!echo && !held) this.#enqueue(key);
  }

  #enqueue(key: string): void {
    this.controller.queue.add(key, { priority: this.#initialListed ? 'normal' : 'low' });
  }

  /**
   * The cycle of `key` has ended and its writes are recorded: an event held meanwhile that is the
   * echo of one of them is dropped (the tracker's safety argument holds as for any echo), any
   * other queues the key again, as it would have when it came.
   */
  #release(key: string): void {
    const held = this.#held.get(key);
    this.#held.delete(key);
    if (!held) return;
    let changed = false;
    for (const { type, object, at } of held) {
      if (this.#tracker.isEcho(type, object)) continue;
      this.#lastChange.set(object.metadata.uid, at);
      changed = true;
    }
    if (changed) this.#enqueue(key);
  }

  // The handling cycle: the plan decides (lifecycle/plan.ts), this performs it.

  async #reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    // Not AbortSignal.any: see firstOf. Nothing outside the cycle keeps this signal (a handler gets
    // its own, which stops following it when its attempt ends), so releasing it afterwards is safe.
    const run = firstOf(context.signal, this.#halt.signal);
    const rc = { ...context, signal: run.signal };
    this.#held.set(key, null);
    try {
      const tracing = this.#tracing;
      if (tracing === undefined) return await this.#handle(key, rc, NO_SPAN);
      return await tracing.cycle(this.resource.plural, context.namespace, context.name, async (span) => {
        const result = await this.#handle(key, rc, span);
        if (result?.requeueAfter !== undefined) span.set({ 'operon.requeue_after_ms': result.requeueAfter });
        return result;
      });
    } finally {
      this.#release(key);
      run.release();
      this.#onCycle?.();
    }
  }

  async #handle(key: string, rc: ReconcileContext, span: CycleSpan): Promise<ReconcileResult> {
    let body = this.#writer.latest(key, this.reflector.store.get(rc.name, rc.namespace));
    if (body !== undefined && !this.#inScope(rc.namespace)) {
      // Its namespace went out of the selection: its tasks stop, nothing else changes.
      this.#tasks.stopObject(body.metadata.uid);
      return undefined;
    }
    if (body !== undefined && this.#shard?.draining(body)) return this.#drain(this.#shard, body, rc);
    // A finalizer write changes the object: plan again from the write's result. At most one add
    // or remove precedes the handlers; the bound only keeps a server that ignored the patch from
    // spinning this loop (the engine retries the key with backoff instead).
    for (let steps = 0; body !== undefined && !rc.signal.aborted; steps++) {
      if (steps > 2) throw new Error(`the finalizer of ${rc.key} did not change as patched; retrying the object later`);
      const uid = body.metadata.uid;
      const next = plan(this.#planner, body, this.#memory.of(uid, this.#tasks.daemonsRunning(uid)), this.#clock.now());
      this.#pauses.note(body, next.kind === 'paused', rc.logger);
      if (span !== NO_SPAN) span.set(next.kind === 'run' ? { 'operon.plan': next.kind, 'operon.cause': next.cause.reason, 'operon.handler': next.due.selected.spec.id } : { 'operon.plan': next.kind });
      switch (next.kind) {
        case 'paused':
          this.#tasks.stopObject(uid);
          return undefined;
        case 'idle':
          if (next.stopTasks) this.#tasks.stopObject(uid);
          return undefined;
        case 'finalizer':
          if (next.stopTasks) this.#tasks.stopObject(uid);
          body = await this.#writer.json(body, next.ops, rc.signal);
          rc.logger.debug(next.note);
          if (next.step === 'release') return undefined;
          continue;
        case 'await-daemons':
          this.#tasks.stopObject(uid);
          rc.logger.debug({ daemons: next.daemons }, 'waiting for daemons to exit before handling the deletion');
          return { requeueAfter: next.requeueAfterMs };
        default:
          return this.#advance(key, body, next, rc);
      }
    }
    return undefined;
  }

  /**
   * Lets a drained object go to its new shard. This is a cycle, so no other cycle of the object
   * runs; its timers and daemons are stopped and must have ended before the labels go. Nothing
   * is forgotten here: the label-selected watch reports the object gone once the labels are off.
   */
  async #drain(shard: ShardSide, body: Stored, rc: ReconcileContext): Promise<ReconcileResult> {
    const uid = body.metadata.uid;
    this.#tasks.stopObject(uid);
    if (this.#tasks.unfinished(uid) > 0) return { requeueAfter: defaults.handlers.daemonStopPollMs };
    await shard.release(this.resource.ref, body, rc.signal);
    return undefined;
  }

  /** Performs a plan of the cause: runs its due handler, or finishes it, or waits. */
  async #advance(key: string, body: Stored, next: Extract<Plan, { kind: 'run' | 'wait' | 'finish' }>, rc: ReconcileContext): Promise<ReconcileResult> {
    const uid = body.metadata.uid;
    if (next.tasks.kind === 'stop') this.#tasks.stopObject(uid);
    else this.#tasks.ensure(key, uid, next.tasks.specs);
    if (next.cause.created) this.#memory.resumed(uid);
    if (next.kind === 'wait') return { requeueAfter: next.requeueAfterMs };

    let after: Stored | undefined;
    if (next.kind === 'finish') {
      if (next.diffBaseHashed) this.#memory.warnHashed(body.metadata.uid, rc.logger);
      after = await this.#writer.apply(body, next.patch, rc.signal);
    } else {
      const settled = await this.#runDue(body, next, rc);
      if (settled === undefined) return undefined;
      if (settled.diffBaseHashed) this.#memory.warnHashed(body.metadata.uid, rc.logger);
      after = await this.#writer.apply(body, settled.patch, rc.signal);
      if (after !== undefined && !settled.causeDone) return { requeueAfter: settled.requeueAfterMs };
    }
    if (after === undefined) return undefined;
    if (next.tasks.kind === 'ensure') {
      this.#memory.resumed(uid);
      return this.#reconcilers.run(after, rc);
    }
    // A handled deletion: the finalizer goes. Without it (an unheld deletion) the optional delete
    // handlers ran once in this process: nothing on the object can record that.
    const ops = releaseOps(after, this.#finalizer);
    if (ops) {
      await this.#writer.json(after, ops, rc.signal);
      rc.logger.debug('finalizer removed: deletion handled');
    }
    this.#memory.deletionHandled(uid, ops !== undefined);
    return undefined;
  }

  /** Runs the plan's due handler once; undefined when the attempt was aborted. */
  async #runDue(body: Stored, next: Extract<Plan, { kind: 'run' }>, rc: ReconcileContext): Promise<Settled | undefined> {
    const { spec, old, new: current, diff } = next.due.selected;
    const reason = next.cause.reason;
    const logger = lazyChild(rc.logger, { handler: spec.id });
    const extra = { cause: reason, old, new: current, diff, ...(spec.kind === 'field' ? { field: spec.field } : {}) };
    const patch = newPatch();
    const { outcome, record } = await attempt(
      spec,
      (signal) => call(spec, this.#contexts.build({ body, spec, patch, signal, retry: next.record.retries, startedAt: new Date(next.record.started), logger }, extra)),
      { record: next.record, clock: this.#clock, signal: rc.signal },
    );
    if (outcome.kind === 'aborted') return undefined;
    reportOutcome(this.#reporter, body, spec, outcome, logger, reason, record.retries);
    return settle(this.#planner, body, next, { outcome, next: record, patch }, this.#clock.now());
  }
}
