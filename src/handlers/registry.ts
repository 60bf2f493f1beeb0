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
import { defineResource, type CustomResource, type ObjectOf, type Resource, type ResourceDeclaration } from '../schema/resource.ts';
import type { VersionedResource } from '../schema/versions.ts';
import { mappedSource, ownerSource, type EventSource, type ObjectRef } from '../engine/sources.ts';
import { normalizeHandler } from './normalize.ts';
import type {
  SpecOf,
  ActivitySpec,
  ProbeSpec,
  ScheduleSpec,
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
  /**
   * Where Operon keeps its per-object state (diff base and handler progress): annotations, or
   * `status.operon` (`resource(X, { state: 'status' })`). Default: annotations.
   */
  state: StateLocation = 'annotations';
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
  of<K extends HandlerKind>(...kinds: K[]): Array<SpecOf<K>> {
    return this.handlers.filter((h): h is SpecOf<K> => (kinds as HandlerKind[]).includes(h.kind));
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
    return [...new Set(this.handlers.flatMap((h) => ((h.kind === 'field' || h.kind === 'update') && h.field !== undefined ? [h.field] : [])))];
  }
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
  /**
   * Where Operon keeps the state it needs per object: the last handled configuration (the diff
   * base) and the progress of handlers still running or retrying. Default: `'annotations'`.
   *
   * - `'annotations'`: `operon.dev/last-handled-configuration` and one annotation per handler in
   *   progress. Works with any resource and survives a restore that drops `status`; but a cycle
   *   that also writes status costs two requests (object and status subresource).
   * - `'status'`: `status.operon.lastHandledConfiguration` and `status.operon.progress`, written
   *   in the same request as the handler's status. The status schema must keep unknown fields
   *   under `operon` (declare `operon: Type.Optional(Type.Object({}, { additionalProperties: true }))`),
   *   or the API server prunes it; a backup restored without `status` makes every object look new,
   *   so create and field handlers run again and must be idempotent. An object handled before the
   *   switch keeps its annotation as its diff base until its next cause is done.
   */
  state?: StateLocation;
}

/** Where Operon keeps an object's state: see {@link ResourceOptions.state}. */
export type StateLocation = 'annotations' | 'status';

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
  if (options.state !== undefined) {
    if (options.state !== 'annotations' && options.state !== 'status') throw new TypeError(`${describe(declared)}: state must be 'annotations' or 'status', not ${JSON.stringify(options.state)}`);
    registration.state = options.state;
  }
  const add = (kind: HandlerKind, fn: (context: never) => unknown, opts: object, field?: string): string => {
    if (typeof fn !== 'function') throw new TypeError(`${describe(declared)}: the ${kind} handler must be a function`);
    const spec = normalizeHandler(kind, fn, opts, field);
    return registration.add(spec, (opts as { id?: string }).id !== undefined);
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
