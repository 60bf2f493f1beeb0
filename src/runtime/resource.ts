/**
 * One resource's machinery: a {@link Reflector} keeps its cache, an engine {@link Controller}
 * reconciles its keys, and each reconcile is one handling cycle of one object: kopf's data flow on
 * controller-runtime's engine.
 *
 * A cycle, for the freshest known state of the object (cache, or our last write's result):
 * 1. An object no handler's label/annotation filters match is left alone (kopf's stealth mode),
 *    and a finalizer of ours on it is removed.
 * 2. Being deleted: stop its timers and daemons and wait for the daemons to exit, run the delete
 *    handlers one per cycle, then remove the finalizer with a `test`ed JSON patch.
 * 3. Otherwise: add the finalizer if a non-optional delete handler or a daemon applies (or remove
 *    it if none does any more), make its timers and daemons match the filters, detect the cause
 *    and run **one** due handler of it; its changes, its result and its progress go out together
 *    (status subresource, then the object). More due handlers → an immediate requeue; handlers
 *    waiting on a delay → a requeue at the earliest. So a success is on the object before the next
 *    handler starts: a crash re-runs at most the handler that was running (kopf's lifecycle).
 * 4. When every handler of the cause is done, progress is purged and the diff base stored in the
 *    same patch; then the level-based reconcile handlers run, and their `requeueAfter` is honoured.
 *
 * Guarantees beyond the engine's (one run per key, bounded concurrency):
 * - Echoes of our preconditioned writes do not enqueue (OwnWriteTracker); other changes always do.
 *   Keys from the initial list go in at low priority, so fresh changes overtake the startup flood.
 * - A change of an owned object enqueues its owner (controller ownerReference).
 * - Event handlers see every change in order per object, run outside the reconcile (they never
 *   wait for it), and are never retried.
 * - Every failure of a handler is a log line naming object and handler, a Warning Event, and the
 *   message in the handler's progress record on the object.
 */
import { firstOf } from '../base/abort.ts';
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import type { KubeObject, Stored } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { Controller, type ControllerMetrics, type ReconcileContext, type ReconcileResult } from '../engine/controller.ts';
import { isRetryable } from '../client/errors.ts';
import { objectKey } from '../engine/keys.ts';
import { OwnWriteTracker } from '../engine/own-writes.ts';
import type { WorkQueueMetrics } from '../engine/queue.ts';
import { detectCause, keepsDiffBase, matchesMeta, matchesObject, selectHandlers, type Reason, type SelectedHandler } from '../handlers/causes.ts';
import { objectContext } from '../handlers/context.ts';
import { parseDuration } from '../handlers/duration.ts';
import { attempt, messageOf, startRecord, waitFor, type Outcome } from '../handlers/execution.ts';
import type { Recorder } from '../handlers/recorder.ts';
import type { ResourceRegistration } from '../handlers/registry.ts';
import type { HandlerCache, HandlerSpec, ObjectContext, ReconcileReturn } from '../handlers/types.ts';
import type { Resource } from '../schema/resource.ts';
import { compareWithDiffBase, diffBaseKey, encodeDiffBase, essenceOf, readDiffBase, type Comparison } from '../state/essence.ts';
import { addFinalizerOps, hasFinalizer, removeFinalizerOps } from '../state/finalizers.ts';
import { newPatch, type ObjectPatch } from '../state/patch.ts';
import { isDone, type ProgressRecord, type ProgressStorage } from '../state/progress.ts';
import { Reflector, type ReflectorStatus } from '../watch/reflector.ts';
import type { WatchScope } from '../watch/scope.ts';
import { sourceFor } from '../watch/source.ts';
import type { ObjectChange, ReadonlyStore } from '../watch/store.ts';
import { setCondition, type Condition } from '../kits/conditions.ts';
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
  concurrency: number;
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
  /** The watch reports itself unhealthy after failing this long. Default: {@link defaults}.watch.unhealthyAfterMs. */
  unhealthyAfterMs?: number;
  /** A watch silent this long is presumed stalled. Default: {@link defaults}.watch.idleTimeoutMs. */
  idleTimeoutMs?: number;
}

interface CycleResult {
  done: boolean;
  requeueAfter?: number;
  body: Stored;
}

interface Pending {
  readonly selected: SelectedHandler;
  readonly record: ProgressRecord | undefined;
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
  readonly #client: KubeClient;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #recorder: Recorder;
  /** Whether the status schema declares `conditions`, where `HandlerFailing` goes. */
  readonly #statusConditions: boolean;
  readonly #handlerRuns: ((handler: string, result: 'success' | 'retry' | 'failure') => void) | undefined;
  readonly #storage: ProgressStorage;
  readonly #prefix: string;
  readonly #finalizer: string;
  readonly #cacheOf: ResourceRuntimeOptions['cacheOf'];
  readonly #stopping: AbortSignal;
  readonly #graceMs: number;
  readonly #tracker: OwnWriteTracker;
  readonly #writer: ObjectWriter;
  readonly #tasks: ObjectTasks;
  readonly #keepsDiffBase: boolean;
  readonly #fields: string[];
  /** Objects (uid) whose resume handlers are done, or that were created, in this process. */
  readonly #resumed = new Set<string>();
  /** Objects (uid) deleted without our finalizer whose optional delete handlers already ran. */
  readonly #deletedUnheld = new Set<string>();
  /** Optional delete handlers exist (fixed once running; read on every cycle). */
  readonly #optionalDelete: boolean;
  readonly #lastChange = new Map<string, number>();
  readonly #eventChains = new Map<string, Promise<void>>();
  readonly #hashedWarned = new Set<string>();
  /**
   * In-memory retry state of reconcile handlers, by `uid/id`: attempts so far, when the first
   * began, when the next is due (never, once failed for good), and the generation that failed. A cycle before `dueAt` skips the
   * handler unless the spec changed (a new generation), as controller-runtime runs a changed object
   * at once. Without the due time, the watch event of the operator's own failure-record write (often
   * delivered before that write's reply, so the own-write filter cannot know it) ran the handler
   * again at once: seven attempts in 40 ms, and `retries` spent in a blink (issue #13).
   */
  readonly #reconcileRetries = new Map<string, { retries: number; startedAt: number; dueAt?: number; generation?: number }>();
  readonly #cache: HandlerCache<Stored>;
  #initialListed = false;
  /** True once {@link startControlling} ran: handlers run only then (under leader election, only while leading). */
  #controlling = false;
  /** Aborts every handler at once when the operator must stop working immediately (lease lost). */
  readonly #halt = new AbortController();

  constructor(options: ResourceRuntimeOptions) {
    this.registration = options.registration;
    this.resource = options.registration.resource;
    this.#client = options.client;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ resource: this.resource.plural });
    this.#recorder = options.recorder;
    const schemas = 'schemas' in this.resource ? (this.resource as { schemas: { status?: { properties?: Record<string, unknown> } } }).schemas : undefined;
    this.#statusConditions = schemas?.status?.properties?.['conditions'] !== undefined;
    this.#handlerRuns = options.handlerRuns;
    this.#storage = options.storage;
    this.#prefix = options.prefix;
    this.#finalizer = options.finalizer;
    this.#cacheOf = options.cacheOf;
    this.#stopping = options.stopping;
    this.#graceMs = options.shutdownGraceMs;
    this.#keepsDiffBase = keepsDiffBase(this.registration);
    this.#fields = this.registration.fields;
    this.#optionalDelete = this.registration.of('delete').some((spec) => spec.optional);
    this.#tracker = new OwnWriteTracker({ clock: this.#clock });
    const statusSubresource = 'hasStatus' in this.resource ? Boolean((this.resource as { hasStatus: boolean }).hasStatus) : true;
    this.#writer = new ObjectWriter({ client: this.#client, ref: this.resource.ref, statusSubresource, tracker: this.#tracker, logger: this.#logger });
    this.reflector = new Reflector<Stored>({
      source: sourceFor<Stored>(this.#client, this.resource.ref),
      namespaced: this.resource.namespaced,
      scope: options.scope,
      name: this.resource.plural,
      logger: options.logger,
      clock: this.#clock,
      ...(options.unhealthyAfterMs !== undefined ? { unhealthyAfterMs: options.unhealthyAfterMs } : {}),
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    });
    this.reflector.subscribe((change) => this.#onChange(change));
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
    this.#tasks = new ObjectTasks(
      {
        run: (spec, key, uid, signal, state) => this.#runTask(spec, key, uid, signal, state),
        lastChangeAt: (uid) => this.#lastChange.get(uid),
        exited: (key) => this.enqueue(key),
      },
      { clock: this.#clock, logger: this.#logger },
    );
    const store = this.reflector.store;
    this.#cache = {
      get: (name, namespace) => store.get(name, namespace),
      list: (namespace) => store.list(namespace),
      of: <R extends Resource>(resource: R) => {
        const found = this.#cacheOf(resource);
        if (!found) throw new Error(`${resource.kind} is not watched by this operator; declare it with ${this.resource.kind}.owns(...)`);
        return found as never;
      },
    };
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
    await Promise.all(this.#eventChains.values());
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

  /** Timers and daemons running now. */
  get tasks(): number {
    return this.#tasks.size;
  }

  // ---------------------------------------------------------------------------------------------
  // Watch changes

  async #onChange(change: ObjectChange<Stored>): Promise<void> {
    const object = change.object;
    const key = objectKey(object);
    if (key === undefined) return;
    const uid = object.metadata.uid;
    const type = change.type === 'added' ? 'ADDED' : change.type === 'modified' ? 'MODIFIED' : 'DELETED';
    const echo = this.#tracker.isEcho(type, object);
    this.#writer.observe(key, type === 'DELETED' ? undefined : object);
    if (type === 'DELETED') {
      this.#lastChange.delete(uid);
      this.#tasks.forget(uid);
      this.#resumed.delete(uid);
      for (const k of this.#reconcileRetries.keys()) if (k.startsWith(`${uid}/`)) this.#reconcileRetries.delete(k);
      this.#hashedWarned.delete(uid);
    } else if (!echo) {
      this.#lastChange.set(uid, this.#clock.now());
    }
    if (this.#controlling) this.#queueEventHandlers(key, type, object, change.old);
    if (!echo) this.controller.queue.add(key, { priority: this.#initialListed ? 'normal' : 'low' });
  }

  #queueEventHandlers(key: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Stored, old: Stored | undefined): void {
    const specs = this.registration.of('event');
    if (specs.length === 0) return;
    const previous = this.#eventChains.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.#runEventHandlers(specs, type, object, old))
      .catch((error: unknown) => this.#logger.error({ err: error, key }, 'event handlers failed unexpectedly'));
    this.#eventChains.set(key, next);
    void next.finally(() => {
      if (this.#eventChains.get(key) === next) this.#eventChains.delete(key);
    });
  }

  async #runEventHandlers(specs: HandlerSpec[], type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Stored, old: Stored | undefined): Promise<void> {
    for (const spec of specs) {
      if (!matchesObject(spec, { body: object, contextFor: (s) => this.#probeContext(object, s) })) continue;
      const patch = newPatch();
      const logger = this.#objectLogger(object, spec.id);
      try {
        const context = this.#context(object, spec, patch, AbortSignal.any([this.#stopping, this.#halt.signal]), 0, new Date(this.#clock.now()), logger, { type, old });
        const result = await (spec.fn as (c: ObjectContext<Stored>) => unknown)(context);
        if (result !== undefined) patch.status[spec.id] = result;
      } catch (error) {
        logger.warn({ err: error }, `event handler ${spec.id} failed; event handlers are not retried`);
      }
      if (type !== 'DELETED') {
        try {
          await this.#writer.apply(object, patch);
        } catch (error) {
          logger.warn({ err: error }, `event handler ${spec.id}: applying its patch failed`);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The handling cycle

  async #reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    // Not AbortSignal.any: see firstOf. Nothing outside the cycle keeps this signal (a handler gets
    // its own, which stops following it when its attempt ends), so releasing it afterwards is safe.
    const run = firstOf(context.signal, this.#halt.signal);
    try {
      return await this.#handle(key, { ...context, signal: run.signal });
    } finally {
      run.release();
    }
  }

  async #handle(key: string, rc: ReconcileContext): Promise<ReconcileResult> {
    if (rc.signal.aborted) return undefined;
    const body = this.#writer.latest(key, this.reflector.store.get(rc.name, rc.namespace));
    if (body === undefined) return undefined;
    const uid = body.metadata.uid;
    const deleting = Boolean(body.metadata.deletionTimestamp);

    if (!this.registration.handlers.some((spec) => spec.kind !== 'event' && matchesMeta(spec, { body }))) {
      this.#tasks.stopObject(uid);
      const ops = removeFinalizerOps(body, this.#finalizer);
      if (ops) await this.#writer.json(body, ops, rc.signal);
      return undefined;
    }
    if (deleting) return this.#deleting(body, rc);

    let current: Stored | undefined = body;
    const needs = this.#needsFinalizer(current);
    const ops = needs ? addFinalizerOps(current, this.#finalizer) : removeFinalizerOps(current, this.#finalizer);
    if (ops) {
      current = await this.#writer.json(current, ops, rc.signal);
      if (current === undefined) return undefined;
      rc.logger.debug(needs ? 'finalizer added' : 'finalizer removed: no handler needs it');
    }
    this.#tasks.ensure(key, uid, this.#matchingTasks(current));

    const cycle = await this.#cycle(current, rc);
    if (cycle === undefined) return undefined;
    if (!cycle.done) return cycle.requeueAfter === undefined ? undefined : { requeueAfter: cycle.requeueAfter };
    return this.#runReconcilers(cycle.body, rc);
  }

  async #deleting(body: Stored, rc: ReconcileContext): Promise<ReconcileResult> {
    const uid = body.metadata.uid;
    const running = this.#tasks.stopObject(uid);
    const held = hasFinalizer(body, this.#finalizer);
    // Without our finalizer only optional delete handlers run (best effort), and once per object
    // in this process: nothing on the object records that they ran while another finalizer holds it.
    if (!held && (this.#deletedUnheld.has(uid) || !this.#optionalDelete)) return undefined;
    if (running > 0) {
      rc.logger.debug({ daemons: running }, 'waiting for daemons to exit before handling the deletion');
      return { requeueAfter: defaults.handlers.daemonStopPollMs };
    }
    const cycle = await this.#cycle(body, rc);
    if (cycle === undefined) return undefined;
    if (!cycle.done) return cycle.requeueAfter === undefined ? undefined : { requeueAfter: cycle.requeueAfter };
    const ops = removeFinalizerOps(cycle.body, this.#finalizer);
    if (ops) {
      await this.#writer.json(cycle.body, ops, rc.signal);
      rc.logger.debug('finalizer removed: deletion handled');
    }
    if (!held) {
      this.#deletedUnheld.add(uid);
      // Bounded: the oldest entries go first (a Set iterates in insertion order).
      if (this.#deletedUnheld.size > 10_000) this.#deletedUnheld.delete(this.#deletedUnheld.values().next().value as string);
    }
    this.#resumed.delete(uid);
    return undefined;
  }

  /** Detects the cause and runs one due handler of it; finishes the cause when all are done. */
  async #cycle(body: Stored, rc: ReconcileContext): Promise<CycleResult | undefined> {
    const uid = body.metadata.uid;
    const base = this.#keepsDiffBase ? readDiffBase(body, this.#prefix) : undefined;
    const comparison = base ? compareWithDiffBase(base, essenceOf(body, { prefix: this.#prefix, extraFields: this.#fields }), this.#fields) : undefined;
    const resumePending = !this.#resumed.has(uid);
    const reason = detectCause({
      deleting: Boolean(body.metadata.deletionTimestamp),
      hasFinalizer: hasFinalizer(body, this.#finalizer),
      comparison,
      neverHandled: base?.kind === 'none',
      resumePending,
      optionalDelete: this.#optionalDelete,
    });
    if (reason === 'free') return { done: true, body };
    // Creation never mixes with resume: an object created under this process needs no resuming.
    if (reason === 'create') this.#resumed.add(uid);
    const selected = selectHandlers(this.registration, reason, {
      body,
      comparison,
      resumePending: resumePending && reason !== 'create',
      contextFor: (spec) => this.#probeContext(body, spec),
    });
    const all: Pending[] = selected.map((s) => ({ selected: s, record: this.#storage.fetch(body, s.spec.id, reason) }));
    const pending = all.filter((p) => !isDone(p.record));
    const failed = (extra?: [string, ProgressRecord]): Array<[string, ProgressRecord]> => [
      ...all.filter((p) => p.record?.failure).map((p): [string, ProgressRecord] => [p.selected.spec.id, p.record as ProgressRecord]),
      ...(extra && extra[1].failure ? [extra] : []),
    ];

    const patch = newPatch();
    if (pending.length === 0) {
      this.#finishCause(body, patch, reason, comparison, rc.logger, failed());
      const after = await this.#writer.apply(body, patch, rc.signal);
      if (after === undefined) return undefined;
      if (reason !== 'delete') this.#resumed.add(uid);
      return { done: true, body: after };
    }

    const now = this.#clock.now();
    const due = pending.find((p) => waitFor(p.record, now) === 0);
    if (due === undefined) return { done: false, requeueAfter: Math.min(...pending.map((p) => waitFor(p.record, now))), body };

    const { spec } = due.selected;
    const record = due.record ?? startRecord(reason, now);
    const logger = rc.logger.child({ handler: spec.id });
    const extra = {
      cause: reason,
      old: due.selected.old,
      new: due.selected.new,
      diff: due.selected.diff,
      ...(spec.kind === 'field' ? { field: spec.field } : {}),
    };
    const { outcome, record: next } = await attempt(
      spec,
      (signal) => (spec.fn as (c: ObjectContext<Stored>) => unknown)(this.#context(body, spec, patch, signal, record.retries, new Date(record.started), logger, extra)),
      { record, clock: this.#clock, signal: rc.signal },
    );
    if (outcome.kind === 'aborted') return { done: false, body };
    this.#report(body, spec, outcome, logger, reason, next.retries);
    this.#failingCondition(body, patch, spec, outcome);
    if (outcome.kind === 'success' && outcome.result !== undefined) patch.status[spec.id] = outcome.result;
    this.#storage.store(patch, spec.id, next);

    const others = pending.filter((p) => p !== due);
    const causeDone = isDone(next) && others.length === 0;
    if (causeDone) this.#finishCause(body, patch, reason, comparison, rc.logger, failed([spec.id, next]));
    const after = await this.#writer.apply(body, patch, rc.signal);
    if (after === undefined) return undefined;
    if (causeDone) {
      if (reason !== 'delete') this.#resumed.add(uid);
      return { done: true, body: after };
    }
    const later = this.#clock.now();
    const waits = others.map((p) => waitFor(p.record, later));
    if (!isDone(next)) waits.push(waitFor(next, later));
    return { done: false, requeueAfter: Math.min(...waits), body: after };
  }

  /**
   * Ends a cause: progress is purged, except that permanent failures stay readable on the object
   * (as records of purpose `failed`, which no cause reads back) until the next cause ends; and the
   * diff base is stored.
   */
  #finishCause(
    body: Stored,
    patch: ObjectPatch<KubeObject>,
    reason: Reason,
    comparison: Comparison | undefined,
    logger: Logger,
    failed: Array<[string, ProgressRecord]>,
  ): void {
    this.#storage.purge(body, patch, 'reconcile');
    for (const [id, record] of failed) this.#storage.store(patch, id, { ...record, purpose: 'failed', delayed: undefined });
    if (!this.#keepsDiffBase || comparison === undefined || reason === 'delete') return;
    const base = readDiffBase(body, this.#prefix);
    if (base.kind !== 'none' && comparison.diff.length === 0) return;
    const { value, hashed } = encodeDiffBase(comparison.new, body, { fields: this.#fields, prefix: this.#prefix });
    patch.metadata.annotations[diffBaseKey(this.#prefix)] = value;
    if (hashed && !this.#hashedWarned.has(body.metadata.uid)) {
      this.#hashedWarned.add(body.metadata.uid);
      logger.warn(
        { annotationBudgetBytes: defaults.state.annotationBudgetBytes },
        'the object is too large to keep its last handled state in an annotation; storing hashes instead, so update handlers get a coarse diff without old values',
      );
    }
  }

  async #runReconcilers(body: Stored, rc: ReconcileContext): Promise<ReconcileResult> {
    const specs = this.registration.of('reconcile').filter((spec) => matchesObject(spec, { body, contextFor: (s) => this.#probeContext(body, s) }));
    if (specs.length === 0) return undefined;
    const uid = body.metadata.uid;
    const patch = newPatch();
    let requeueAfter: number | undefined;
    const soonest = (ms: number): void => {
      requeueAfter = requeueAfter === undefined ? ms : Math.min(requeueAfter, ms);
    };
    for (const spec of specs) {
      const retryKey = `${uid}/${spec.id}`;
      const now = this.#clock.now();
      let state = this.#reconcileRetries.get(retryKey);
      // A handler that failed for good starts over when the spec changes, with its retries anew.
      if (state?.dueAt === Infinity && state.generation !== body.metadata.generation) state = undefined;
      state ??= { retries: 0, startedAt: now };
      if (state.dueAt !== undefined && state.dueAt > now && state.generation === body.metadata.generation) {
        if (Number.isFinite(state.dueAt)) soonest(state.dueAt - now);
        continue;
      }
      const record: ProgressRecord = { purpose: 'reconcile', started: new Date(state.startedAt).toISOString(), retries: state.retries };
      const logger = rc.logger.child({ handler: spec.id });
      const { outcome, record: next } = await attempt(
        spec,
        (signal) => (spec.fn as (c: ObjectContext<Stored>) => unknown)(this.#context(body, spec, patch, signal, state.retries, new Date(state.startedAt), logger)),
        { record, clock: this.#clock, signal: rc.signal },
      );
      if (outcome.kind === 'aborted') return undefined;
      this.#report(body, spec, outcome, logger, 'reconcile', next.retries);
      this.#failingCondition(body, patch, spec, outcome);
      if (outcome.kind === 'success') {
        this.#reconcileRetries.delete(retryKey);
        if (this.#storage.fetch(body, spec.id, 'reconcile')) this.#storage.remove(patch, spec.id);
        const asked = (outcome.result as ReconcileReturn)?.requeueAfter;
        if (asked !== undefined) soonest(parseDuration(asked, `reconcile ${spec.id} requeueAfter`));
      } else {
        this.#storage.store(patch, spec.id, next);
        if (outcome.kind === 'retry') {
          const dueAt = this.#clock.now() + outcome.delayMs;
          this.#reconcileRetries.set(retryKey, { retries: next.retries, startedAt: state.startedAt, dueAt, ...(body.metadata.generation !== undefined ? { generation: body.metadata.generation } : {}) });
          soonest(outcome.delayMs);
        } else {
          // Failed for good: not run again for this generation, whatever else wakes the object
          // (its own failure-record write did, and started the retries over).
          this.#reconcileRetries.set(retryKey, { retries: next.retries, startedAt: state.startedAt, dueAt: Infinity, ...(body.metadata.generation !== undefined ? { generation: body.metadata.generation } : {}) });
        }
      }
    }
    await this.#writer.apply(body, patch, rc.signal);
    return requeueAfter === undefined ? undefined : { requeueAfter };
  }

  // ---------------------------------------------------------------------------------------------
  // Timers and daemons

  async #runTask(spec: HandlerSpec, key: string, uid: string, signal: AbortSignal, state: { retries: number; startedAt: number }): Promise<Outcome> {
    const first = this.#latest(key);
    if (first === undefined || first.metadata.uid !== uid) return { kind: 'aborted', error: new Error('the object is gone') };
    let last = first;
    const bodyOf = (): Stored => {
      const now = this.#latest(key);
      if (now !== undefined && now.metadata.uid === uid) last = now;
      return last;
    };
    const patch = newPatch();
    const logger = this.#objectLogger(first, spec.id);
    const flush = async (): Promise<void> => {
      const taken = takePatch(patch);
      await this.#writer.apply(bodyOf(), taken);
    };
    const record: ProgressRecord = { purpose: spec.kind, started: new Date(state.startedAt).toISOString(), retries: state.retries };
    const extra = spec.kind === 'daemon' ? { flush } : {};
    const { outcome } = await attempt(
      spec,
      (s) => (spec.fn as (c: ObjectContext<Stored>) => unknown)(this.#context(bodyOf, spec, patch, s, state.retries, new Date(state.startedAt), logger, extra)),
      { record, clock: this.#clock, signal },
    );
    if (outcome.kind !== 'aborted' || spec.kind === 'daemon') this.#report(bodyOf(), spec, outcome, logger, spec.kind, state.retries + 1);
    if (outcome.kind === 'success' && outcome.result !== undefined) patch.status[spec.id] = outcome.result;
    try {
      await this.#writer.apply(bodyOf(), patch);
    } catch (error) {
      logger.warn({ err: error }, `${spec.kind} ${spec.id}: applying its patch failed`);
    }
    return outcome;
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  #latest(key: string): Stored | undefined {
    const slash = key.indexOf('/');
    const cached = slash < 0 ? this.reflector.store.get(key) : this.reflector.store.get(key.slice(slash + 1), key.slice(0, slash));
    return this.#writer.latest(key, cached);
  }

  #needsFinalizer(body: Stored): boolean {
    return this.registration.handlers.some(
      (spec) => ((spec.kind === 'delete' && !spec.optional) || spec.kind === 'daemon') && matchesObject(spec, { body, contextFor: (s) => this.#probeContext(body, s) }),
    );
  }

  #matchingTasks(body: Stored): HandlerSpec[] {
    return this.registration.of('timer', 'daemon').filter((spec) => matchesObject(spec, { body, contextFor: (s) => this.#probeContext(body, s) }));
  }

  #objectLogger(body: Stored, handler: string): Logger {
    const { name, namespace } = body.metadata;
    return this.#logger.child(namespace ? { namespace, name, handler } : { name, handler });
  }

  #context<X extends object>(
    body: Stored | (() => Stored),
    spec: HandlerSpec,
    patch: ObjectPatch<KubeObject>,
    signal: AbortSignal,
    retry: number,
    startedAt: Date,
    logger: Logger,
    extra?: X,
  ): ObjectContext<Stored> & X {
    return objectContext<Stored, X>(
      {
        body,
        id: spec.id,
        patch: patch as ObjectPatch<Stored>,
        logger,
        client: this.#client,
        cache: this.#cache,
        recorder: this.#recorder,
        resource: this.resource,
        signal,
        retry,
        startedAt,
      },
      extra,
    );
  }

  /** The context a `when` filter sees: the object, with a throwaway patch. */
  #probeContext(body: Stored, spec: HandlerSpec): ObjectContext<KubeObject> {
    return this.#context(body, spec, newPatch(), this.#stopping, 0, new Date(this.#clock.now()), this.#logger) as unknown as ObjectContext<KubeObject>;
  }

  /**
   * Shows a failing handler where `kubectl get` sees it: the condition `HandlerFailing` (True,
   * reason the handler id in CamelCase, message its last error) on resources whose status declares
   * `conditions`, set False again when that handler succeeds. Written in the cycle's own patch,
   * merged into conditions the handler itself set, so it costs no extra request. Resources without
   * `conditions` in their status keep the Warning Events and the progress annotation only.
   */
  #failingCondition(body: Stored, patch: ObjectPatch<KubeObject>, spec: HandlerSpec, outcome: Outcome): void {
    if (!this.#statusConditions || outcome.kind === 'aborted') return;
    const status = patch.status as { conditions?: Condition[] };
    const current = status.conditions ?? (body.status as { conditions?: Condition[] } | undefined)?.conditions;
    const reason = conditionReason(spec.id);
    const failing = current?.find((c) => c.type === HANDLER_FAILING);
    let next: Condition[] | undefined;
    if (outcome.kind === 'success') {
      if (failing?.status !== 'True' || failing.reason !== reason) return;
      next = setCondition(current, { type: HANDLER_FAILING, status: 'False', reason, message: `handler ${spec.id} succeeded` }, this.#clock.now());
    } else {
      next = setCondition(current, { type: HANDLER_FAILING, status: 'True', reason, message: `handler ${spec.id}: ${messageOf(outcome.error)}`.slice(0, 32_768) }, this.#clock.now());
    }
    if (next !== current) status.conditions = next;
  }

  /**
   * Logs an attempt's outcome and posts its Event. A retry's Event message leaves out the attempt
   * and the delay (they are in the log line), so repeats of one failure aggregate into one Event
   * whose count grows instead of a new Event per attempt. A retried failure that is likely to heal
   * by itself (the API server unreachable, 5xx, 429) logs at warn until it has been retried
   * `defaults.logging.transientRetriesAtWarn` times, then at error: an alert on error lines
   * should not page for an API server restart that healed in seconds.
   */
  #report(body: Stored, spec: HandlerSpec, outcome: Outcome, logger: Logger, cause: string, retries: number): void {
    const quiet = spec.kind === 'timer' || spec.kind === 'reconcile';
    if (outcome.kind !== 'aborted') this.#handlerRuns?.(spec.id, outcome.kind);
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
        this.#recorder.warn(body, 'HandlerRetrying', `handler ${spec.id} failed and will be retried: ${messageOf(outcome.error)}`);
        return;
      }
      case 'failure': {
        const message = `handler ${spec.id} failed permanently: ${messageOf(outcome.error)}`;
        logger.error({ err: outcome.error, cause }, message);
        this.#recorder.warn(body, 'HandlerFailed', message);
        return;
      }
      case 'aborted':
        logger.info({ cause }, `handler ${spec.id} stopped`);
        return;
    }
  }
}

/** The condition a failing handler sets; see `#failingCondition`. */
const HANDLER_FAILING = 'HandlerFailing';

/** A handler id as a condition reason (CamelCase, letters and digits): `spec.text` → `SpecText`. */
function conditionReason(id: string): string {
  const words = id.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const reason = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return /^[A-Za-z]/.test(reason) ? reason : `Handler${reason}`;
}

/** Moves a patch's content into a new patch and leaves the original empty, in place. */
function takePatch(patch: ObjectPatch<KubeObject>): ObjectPatch<KubeObject> {
  const taken = { ...patch } as ObjectPatch<KubeObject>;
  for (const key of Object.keys(patch)) delete patch[key];
  Object.assign(patch, newPatch());
  return taken;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${ms}ms`;
}
