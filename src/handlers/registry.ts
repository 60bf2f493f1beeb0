/**
 * Where handlers are registered: a {@link Registry} holds, per resource, its handlers and the
 * resources it owns, plus the operator-level handlers (startup, cleanup, probes, login).
 * {@link resource} declares a resource (or takes a built-in) and gives it `onCreate`, `onUpdate`,
 * … methods that register into the default registry (kopf's global registry) or a given one.
 *
 * Guarantees:
 * - Every handler has a stable id: the explicit `id`, or `<kind>[.<function name>][/<field>]`
 *   (`create`, `create.printPod`, `field/spec.text`); a second handler deriving the same id gets
 *   `-2`, `-3` in registration order, so ids are stable as long as the code is. An explicit id used
 *   twice for one resource throws, since two handlers would share one progress record.
 * - Options are checked at registration: a bad duration, field path or retry count throws then,
 *   not when the handler would first run.
 * - Handlers of one resource run in registration order.
 */
import type { KubeObject, Stored } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { defineResource, type CustomResource, type ObjectOf, type Resource, type ResourceDeclaration } from '../schema/resource.ts';
import type { VersionedResource } from '../schema/versions.ts';
import { parseFieldPath } from '../state/fields.ts';
import { mappedSource, ownerSource, type EventSource, type ObjectRef } from '../engine/sources.ts';
import { optionalDuration, parseDuration, type Duration } from './duration.ts';
import type {
  CacheOptions,
  RelatedCacheOptions,
  HandlerCache,
  RelatedContext,
  ChangeContext,
  DaemonContext,
  DaemonOptions,
  DeleteOptions,
  EventContext,
  EventOptions,
  FieldContext,
  HandlerFn,
  HandlerKind,
  HandlerOptions,
  HandlerSpec,
  LoginContext,
  OperatorContext,
  OwnsOptions,
  ReconcileHandlerContext,
  ReconcileReturn,
  ResumeOptions,
  TimerContext,
  TimerOptions,
} from './types.ts';
import type { KubeClient } from '../client/client.ts';
import { normalizeAdmission } from '../admission/options.ts';
import type { AdmissionOptions, AdmissionSpec, MutateFn, ValidateFn } from '../admission/types.ts';

/** A resource this one owns: its objects' changes wake their owners. */
export interface OwnedResource {
  readonly resource: Resource;
  readonly everyOwner: boolean;
  /** How it is watched and cached. */
  readonly cache: RelatedCacheOptions<Stored>;
}

/** A related resource (`watches`): its objects' changes wake the objects `map` names. */
export interface RelatedResource {
  readonly resource: Resource;
  /** How it is watched and cached. */
  readonly cache: RelatedCacheOptions<Stored>;
  readonly map: (object: Stored, context: RelatedContext<Stored>) => Iterable<ObjectRef | KubeObject> | undefined;
}

/**
 * The handlers of one resource, in registration order, and the resources it owns.
 *
 * @example
 * ```ts
 * const registration = registry.for(Printer);
 * registration.of('create', 'update').map((h) => h.id); // ['create', 'update']
 * ```
 */
export class ResourceRegistration {
  readonly resource: Resource;
  readonly handlers: HandlerSpec[] = [];
  readonly owned: OwnedResource[] = [];
  /** Resources declared with `watches`. */
  readonly related: RelatedResource[] = [];
  /** How this resource is watched and cached (`cache(...)`). */
  cache: CacheOptions<Stored> = {};
  /** Validate and mutate handlers, served by the webhook server on every replica. */
  readonly admission: AdmissionSpec[] = [];
  readonly #explicit = new Set<string>();

  constructor(resource: Resource) {
    this.resource = resource;
  }

  /**
   * Adds a handler; returns its id.
   *
   * @example
   * ```ts
   * registration.add(normalizeHandler('create', fn, {}));
   * ```
   */
  add(spec: HandlerSpec, explicitId: boolean): string {
    let id = spec.id;
    if (explicitId) {
      if (this.#explicit.has(id) || this.handlers.some((h) => h.id === id)) {
        throw new Error(`${describe(this.resource)}: a handler with id "${id}" is already registered; give each handler its own id`);
      }
      this.#explicit.add(id);
    } else {
      for (let n = 2; this.handlers.some((h) => h.id === id) || this.#explicit.has(id); n++) id = `${spec.id}-${n}`;
    }
    this.handlers.push({ ...spec, id });
    return id;
  }

  /**
   * Handlers of the given kinds, in registration order.
   *
   * @example
   * ```ts
   * registration.of('timer', 'daemon');
   * ```
   */
  of(...kinds: HandlerKind[]): HandlerSpec[] {
    return this.handlers.filter((h) => kinds.includes(h.kind));
  }

  /**
   * Every source that wakes this resource's objects besides their own changes: owned resources
   * through their ownerReferences, related ones through their `watches` mapping. `cache` is this
   * resource's, for the mappings to look objects up in.
   *
   * @example
   * ```ts
   * for (const source of registration.sources(cache)) reflectorOf(source.resource).subscribe((c) => enqueueAll(source.toKeys(c)));
   * ```
   */
  sources(cache: HandlerCache<Stored>): Array<EventSource & { readonly cache: RelatedCacheOptions<Stored> }> {
    const { group, kind, namespaced } = this.resource;
    return [
      ...this.owned.map((o) => ({ ...ownerSource(o.resource, { group, kind, namespaced }, { everyOwner: o.everyOwner }), cache: o.cache })),
      ...this.related.map((r) => ({ ...mappedSource(r.resource, (object) => r.map(object as Stored, { cache })), cache: r.cache })),
    ];
  }

  /** Fields named by field handlers and field filters: they join the essence and its hashes. */
  get fields(): string[] {
    return [...new Set(this.handlers.filter((h) => h.kind === 'field' || (h.field !== undefined && h.kind === 'update')).map((h) => h.field as string))];
  }
}

/** A startup or cleanup handler. */
export interface ActivitySpec {
  readonly id: string;
  readonly fn: (context: OperatorContext) => unknown;
  readonly retries: number | undefined;
  readonly backoffMs: number;
}

/** An operator-level schedule, normalised. */
export interface ScheduleSpec {
  readonly id: string;
  readonly fn: (context: OperatorContext) => unknown;
  readonly intervalMs: number;
  readonly initialDelayMs: number;
}

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

/** A probe: its result is part of the operator's health report. */
export interface ProbeSpec {
  readonly id: string;
  readonly fn: (context: OperatorContext) => unknown;
}

/**
 * Everything an operator runs: resource handlers and operator-level handlers.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const printers = resource(PrinterDecl, { registry });
 * printers.onCreate(async ({ spec }) => {});
 * await new Operator({ registry }).run({ signal });
 * ```
 */
export class Registry {
  readonly #resources = new Map<string, ResourceRegistration>();
  /** The {@link onStartup} handlers, in registration order. */
  readonly startup: ActivitySpec[] = [];
  /** The {@link onCleanup} handlers, in registration order. */
  readonly cleanup: ActivitySpec[] = [];
  /** The {@link probe} functions, in registration order. */
  readonly probes: ProbeSpec[] = [];
  /** Operator-level schedules: run by the leader only. */
  readonly schedules: ScheduleSpec[] = [];
  /** Kinds whose conversion webhook this operator serves ({@link serveConversion}), in registration order. */
  readonly conversions: VersionedResource[] = [];
  /** The {@link onLogin} functions, in registration order; the first one's client is used. */
  readonly login: Array<(context: LoginContext) => KubeClient | Promise<KubeClient>> = [];

  /** Registered resources, in first-registration order. */
  get resources(): ResourceRegistration[] {
    return [...this.#resources.values()];
  }

  /**
   * The registration of `resource`, created on first use.
   *
   * @example
   * ```ts
   * registry.for(Printer).handlers.length;
   * ```
   */
  for(resource: Resource): ResourceRegistration {
    const key = resourceKey(resource);
    let registration = this.#resources.get(key);
    if (!registration) this.#resources.set(key, (registration = new ResourceRegistration(resource)));
    return registration;
  }
}

/** The registry `resource()` and `onStartup()` use when none is given (kopf's global registry). */
export const defaultRegistry = new Registry();

/**
 * `group/version/plural`: one registration per served resource.
 *
 * @example
 * ```ts
 * resourceKey(builtin('v1', 'Pod')); // '/v1/pods'
 * ```
 */
export function resourceKey(resource: Pick<Resource, 'group' | 'version' | 'plural'>): string {
  return `${resource.group}/${resource.version}/${resource.plural}`;
}

function describe(resource: Resource): string {
  return `${resource.kind} (${resourceKey(resource)})`;
}

/**
 * The handler methods a resource gains from {@link resource}. Each registers a handler and
 * returns its id.
 */
export interface ResourceHandlers<T extends KubeObject> {
  /** Runs once when an object is first seen without a diff base (created, or first matched). */
  onCreate(fn: HandlerFn<ChangeContext<T>>, options?: HandlerOptions<T>): string;
  /** Runs when the essence differs from the last handled one; `old`, `new`, `diff` tell how. */
  onUpdate(fn: HandlerFn<ChangeContext<T>>, options?: HandlerOptions<T>): string;
  /** Runs when the object is being deleted; adds the finalizer unless `optional`. */
  onDelete(fn: HandlerFn<ChangeContext<T>>, options?: DeleteOptions<T>): string;
  /** Runs once per operator process for objects that existed before it started. */
  onResume(fn: HandlerFn<ChangeContext<T>>, options?: ResumeOptions<T>): string;
  /** Runs when `field` changed (creation included, when the field is set). */
  onField<V = unknown>(field: string, fn: HandlerFn<FieldContext<T, V>>, options?: HandlerOptions<T>): string;
  /** Runs for every watch change, never retried; errors are logged and ignored. */
  onEvent(fn: HandlerFn<EventContext<T>>, options?: EventOptions<T>): string;
  /** A level-based reconcile: runs on every change of the object or its children, and on requeue. */
  reconcile(fn: (context: ReconcileHandlerContext<T>) => ReconcileReturn | Promise<ReconcileReturn>, options?: HandlerOptions<T>): string;
  /**
   * Runs every `interval` while the object exists.
   *
   * @example
   * ```ts
   * holdings.timer(value, { id: 'refresh', interval: '60s' });
   * ```
   */
  timer(fn: HandlerFn<TimerContext<T>>, options: TimerOptions<T>): string;
  /** @deprecated The options-first order of Operon 0.1; use `timer(fn, options)`, as every other registration. */
  timer(options: TimerOptions<T>, fn: HandlerFn<TimerContext<T>>): string;
  /** One long-running function per object; its `signal` aborts on deletion and on stop. */
  daemon(fn: HandlerFn<DaemonContext<T>>, options?: DaemonOptions<T>): string;
  /** Changes of `child` objects whose controller ownerReference points here wake their owner. */
  owns<R extends Resource>(child: R, options?: OwnsOptions<Stored<ObjectOf<R>>>): void;
  /**
   * How this resource is watched and cached: server-side label and field selectors (objects
   * outside them never reach the operator), a transform that trims what is kept, and named
   * indexes for `ctx.cache.byIndex` (kopf's `@kopf.index`). Call it once, before the operator runs.
   *
   * @example
   * ```ts
   * cvcs.cache({ labelSelector: { team: 'payments' }, indexes: { coin: (cvc) => [cvc.spec.coin] } });
   * cvcs.reconcile(({ cache, spec }) => cache.byIndex('coin', spec.coin).length);
   * ```
   */
  cache(options: CacheOptions<T>): void;
  /**
   * Changes of `related` objects wake the objects of this resource that `map` returns, as
   * references or as the objects themselves (controller-runtime's `Watches` with a map
   * function). `map` sees each change's new and old state, and this resource's cache. The
   * related resource is watched (and cached: `ctx.cache.of(related)` reads it), and
   * `operon rbac` grants `get`, `list` and `watch` on it.
   *
   * @example
   * ```ts
   * // A Secret referenced by name from `spec.secretName` wakes every app that names it.
   * apps.watches(builtin('v1', 'Secret'), (secret, { cache }) =>
   *   cache.list(secret.metadata.namespace).filter((app) => app.spec?.secretName === secret.metadata.name));
   * ```
   */
  watches<R extends Resource>(
    related: R,
    map: (object: Stored<ObjectOf<R>>, context: RelatedContext<T>) => Iterable<ObjectRef | KubeObject> | undefined,
    options?: RelatedCacheOptions<Stored<ObjectOf<R>>>,
  ): void;
  /**
   * A validating admission webhook (kopf's `on.validate`): return or throw a rejection to refuse
   * the write at `kubectl apply` time. Returns the handler id.
   *
   * @example
   * ```ts
   * printers.validate(({ object }) => (object?.spec?.text.includes('\0') ? 'text must not contain NUL' : undefined));
   * ```
   */
  validate(fn: ValidateFn<T>, options?: AdmissionOptions): string;
  /**
   * A mutating admission webhook (kopf's `on.mutate`): change `context.object`; Operon sends the
   * JSONPatch. Returns the handler id.
   *
   * @example
   * ```ts
   * printers.mutate(({ object }) => { object!.spec!.copies ??= 1; });
   * ```
   */
  mutate(fn: MutateFn<T>, options?: AdmissionOptions): string;
}

/** Options of {@link resource}. */
export interface ResourceOptions {
  /** Default: {@link defaultRegistry}. */
  registry?: Registry;
}

/**
 * Declares a custom resource (as `defineResource`) or takes an existing one (a `builtin`), and
 * returns it with handler methods registering into the default registry or `options.registry`.
 *
 * @example
 * ```ts
 * export const printers = resource({ group: 'operon.dev', version: 'v1', kind: 'Printer',
 *   spec: Type.Object({ text: Type.String() }), status: Type.Object({ pod: Type.Optional(Type.String()) }) });
 * printers.onCreate(async ({ spec, patch }) => { patch.status.pod = `print-${spec.text}`; });
 * const pods = resource(builtin('v1', 'Pod'));
 * pods.onEvent(({ type, name }) => console.log(type, name));
 * ```
 */
export function resource<const D extends ResourceDeclaration>(
  declaration: D,
  options?: ResourceOptions,
): CustomResource<D> & ResourceHandlers<Stored<ObjectOf<CustomResource<D>>>>;
export function resource<R extends Resource>(existing: R, options?: ResourceOptions): R & ResourceHandlers<Stored<ObjectOf<R>>>;
export function resource(input: ResourceDeclaration | Resource, options: ResourceOptions = {}): Resource & ResourceHandlers<Stored<KubeObject>> {
  const declared: Resource = 'ref' in input ? input : defineResource(input);
  const registration = (options.registry ?? defaultRegistry).for(declared);
  const add = (kind: HandlerKind, fn: (context: never) => unknown, opts: object, field?: string): string => {
    if (typeof fn !== 'function') throw new TypeError(`${describe(declared)}: the ${kind} handler must be a function`);
    const spec = normalizeHandler(kind, fn, opts, field);
    return registration.add(spec, (opts as LooseOptions).id !== undefined);
  };
  const methods: ResourceHandlers<Stored<KubeObject>> = {
    onCreate: (fn, o = {}) => add('create', fn, o),
    onUpdate: (fn, o = {}) => add('update', fn, o),
    onDelete: (fn, o = {}) => add('delete', fn, o),
    onResume: (fn, o = {}) => add('resume', fn, o),
    onField: (field, fn, o = {}) => add('field', fn as (context: never) => unknown, o, field),
    onEvent: (fn, o = {}) => add('event', fn, o),
    reconcile: (fn, o = {}) => add('reconcile', fn, o),
    timer: (a: HandlerFn<TimerContext<Stored<KubeObject>>> | TimerOptions<Stored<KubeObject>>, b: HandlerFn<TimerContext<Stored<KubeObject>>> | TimerOptions<Stored<KubeObject>>) =>
      typeof a === 'function' ? add('timer', a, b as TimerOptions<Stored<KubeObject>>) : add('timer', b as HandlerFn<TimerContext<Stored<KubeObject>>>, a),
    daemon: (fn, o = {}) => add('daemon', fn, o),
    owns: (child, o = {}) => {
      if (!registration.owned.some((x) => resourceKey(x.resource) === resourceKey(child))) {
        const { everyOwner, ...cache } = o;
        registration.owned.push({ resource: child, everyOwner: everyOwner ?? false, cache: cache as RelatedCacheOptions<Stored> });
      }
    },
    cache: (o) => {
      registration.cache = o as CacheOptions<Stored>;
    },
    watches: (related, map, o = {}) => {
      if (registration.related.some((x) => resourceKey(x.resource) === resourceKey(related))) {
        throw new Error(`${describe(registration.resource)} already watches ${describe(related)}; map every reference in one function`);
      }
      registration.related.push({ resource: related, map: map as RelatedResource['map'], cache: o as RelatedCacheOptions<Stored> });
    },
    validate: (fn, o) => addAdmission(registration, normalizeAdmission('validate', fn as ValidateFn, o)),
    mutate: (fn, o) => addAdmission(registration, normalizeAdmission('mutate', fn as MutateFn, o)),
  };
  return Object.freeze(Object.assign(Object.create(null) as object, declared, methods)) as Resource & ResourceHandlers<Stored<KubeObject>>;
}

function addAdmission(registration: ResourceRegistration, spec: AdmissionSpec): string {
  if (registration.admission.some((a) => a.type === spec.type && a.id === spec.id)) {
    throw new Error(`${describe(registration.resource)}: a ${spec.type} handler with id "${spec.id}" is already registered; give each its own id`);
  }
  registration.admission.push(spec);
  return spec.id;
}

/**
 * A handler's default id: `<kind>[.<function name>][/<field>]`.
 *
 * @example
 * ```ts
 * deriveId('create', 'printPod');          // 'create.printPod'
 * deriveId('field', '', 'spec.text');      // 'field/spec.text'
 * ```
 */
export function deriveId(kind: HandlerKind, functionName: string, field?: string): string {
  // Bound functions are named "bound fn"; anonymous ones "" (or the variable they are assigned to).
  const name = functionName.replace(/^bound /, '').trim();
  return `${kind}${name ? `.${name}` : ''}${field ? `/${field}` : ''}`;
}

/**
 * Checks and normalises a handler's options into a {@link HandlerSpec}.
 *
 * @example
 * ```ts
 * normalizeHandler('timer', fn, { interval: '30s' }).intervalMs; // 30_000
 * ```
 */
export function normalizeHandler(kind: HandlerKind, fn: (context: never) => unknown, input: object, field?: string): HandlerSpec {
  const options = input as LooseOptions;
  const fieldName = field ?? options.field;
  const fieldPath = fieldName === undefined ? undefined : parseFieldPath(fieldName);
  const id = options.id ?? deriveId(kind, fn.name, field);
  if (id.trim() === '') throw new RangeError('a handler id must not be empty');
  if (options.retries !== undefined && (!Number.isInteger(options.retries) || options.retries < 0)) {
    throw new RangeError(`handler ${id}: retries must be a non-negative integer, got ${options.retries}`);
  }
  const backoff = normalizeBackoff(options.backoff, id);
  const timer = kind === 'timer' ? options : undefined;
  if (timer && timer.interval === undefined) throw new RangeError(`timer ${id}: an interval is required, e.g. { interval: '60s' }`);
  const intervalMs = timer ? parseDuration(timer.interval as Duration, `timer ${id} interval`) : undefined;
  if (intervalMs === 0) throw new RangeError(`timer ${id}: the interval must be above 0`);
  return {
    kind,
    id,
    fn,
    labels: options.labels,
    annotations: options.annotations,
    field: fieldName,
    fieldPath,
    hasValue: 'value' in options,
    value: options.value,
    when: options.when,
    retries: options.retries,
    timeoutMs: optionalDuration(options.timeout, `handler ${id} timeout`),
    backoff,
    errors: options.errors ?? 'temporary',
    optional: options.optional === true,
    deleted: options.deleted === true,
    intervalMs,
    initialDelayMs: optionalDuration(options.initialDelay, `handler ${id} initialDelay`),
    cancellationTimeoutMs: optionalDuration(options.cancellationTimeout, `daemon ${id} cancellationTimeout`),
    idleMs: timer ? optionalDuration(timer.idle, `timer ${id} idle`) : undefined,
    sharp: timer?.sharp === true,
  };
}

function normalizeBackoff(backoff: HandlerOptions<KubeObject>['backoff'], id: string): HandlerSpec['backoff'] {
  if (backoff === undefined) {
    return { initialMs: defaults.handlers.backoffInitialMs, maxMs: defaults.handlers.backoffMaxMs, factor: defaults.handlers.backoffFactor };
  }
  if (typeof backoff === 'number' || typeof backoff === 'string') {
    const ms = parseDuration(backoff, `handler ${id} backoff`);
    return { initialMs: ms, maxMs: ms, factor: 1 };
  }
  const initialMs = parseDuration(backoff.initial, `handler ${id} backoff.initial`);
  const maxMs = parseDuration(backoff.max, `handler ${id} backoff.max`);
  if (maxMs < initialMs) throw new RangeError(`handler ${id}: backoff.max must not be below backoff.initial`);
  return { initialMs, maxMs, factor: backoff.factor ?? 2 };
}

/** Every option of every handler kind, as the normaliser reads them. */
type LooseOptions = Omit<DeleteOptions<KubeObject> & ResumeOptions<KubeObject>, 'when'> & {
  when?: HandlerSpec['when'];
  interval?: Duration;
  initialDelay?: Duration;
  idle?: Duration;
  sharp?: boolean;
  cancellationTimeout?: Duration;
};

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
