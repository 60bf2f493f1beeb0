/**
 * The shapes users meet: the context every handler receives (one typed object, never keyword
 * magic), the options of each handler kind, and the normalised handler record the registry keeps.
 * Types flow from the resource: for `resource({ spec: Type.Object({ text: Type.String() }) })`,
 * `ctx.spec.text` is a `string` and `ctx.patch.status` takes the declared status fields.
 */
import type { Counter, CounterConfiguration, Gauge, GaugeConfiguration, Histogram, HistogramConfiguration } from 'prom-client';
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import type { KubeObject, ObjectMeta, Stored } from '../client/types.ts';
import type { ObjectOf, Resource } from '../schema/resource.ts';
import type { Diff } from '../state/diff.ts';
import type { FieldPath } from '../state/fields.ts';
import type { ObjectPatch } from '../state/patch.ts';
import type { ReadonlyStore } from '../watch/store.ts';
import type { Duration } from './duration.ts';
import type { MetaFilter, ValueFilter } from './filters.ts';

/** Read access to the operator's caches: the handled resource's, and those of owned resources. */
export interface HandlerCache<T extends KubeObject> {
  /** An object of the handled resource from the cache. */
  get(name: string, namespace?: string): Stored<T> | undefined;
  /** Objects of the handled resource, all or one namespace's. */
  list(namespace?: string): Stored<T>[];
  /** The cache of an owned resource (declared with `owns`). Throws for resources not watched. */
  of<R extends Resource>(resource: R): ReadonlyStore<Stored<ObjectOf<R>>>;
  /** Objects of the handled resource filed under `value` in index `name` (declared in `cache({ indexes })`). */
  byIndex(name: string, value: string): Stored<T>[];
}

/** What a `watches` mapping function gets besides the related object. */
export interface RelatedContext<T extends KubeObject> {
  /** The handled resource's cache (and, through `of`, those of owned and related resources). */
  readonly cache: HandlerCache<T>;
}

/** The part of an object a diff covers: spec (and other top-level fields), labels, annotations. */
export type EssenceOf<T extends KubeObject> = {
  /** The object's spec. */
  spec?: T['spec'];
  /** Only the labels and annotations: the rest of the metadata changes on every write. */
  metadata?: {
    /** The object's labels. */
    labels?: Record<string, string>;
    /** The object's annotations, without Operon's own. */
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
};

/** What every handler of an object gets. */
export interface ObjectContext<T extends KubeObject> {
  /** The object as last seen (for daemons: always the latest cached state). */
  readonly body: Stored<T>;
  /** `body.spec`, or `{}` when the object has none. */
  readonly spec: NonNullable<T['spec']>;
  /** `body.status`, or `{}` when the object has none. */
  readonly status: Partial<NonNullable<T['status']>> & Record<string, unknown>;
  /** `body.metadata`. */
  readonly meta: ObjectMeta;
  /** `body.metadata.name`. */
  readonly name: string;
  /** Absent for cluster-scoped objects. */
  readonly namespace: string | undefined;
  /** `body.metadata.uid`: tells a recreated object from the one before it. */
  readonly uid: string;
  /** `body.metadata.labels`, or `{}`. */
  readonly labels: Readonly<Record<string, string>>;
  /** `body.metadata.annotations`, or `{}`. */
  readonly annotations: Readonly<Record<string, string>>;
  /** Collects changes; they are sent as one merge patch per endpoint when the handler is done. */
  readonly patch: ObjectPatch<T>;
  /**
   * Bound to the object's namespace and name, and the handler's id. As with pino, its methods need
   * the logger as `this`: pass `(e) => logger.error({ err: e }, 'failed')` as a callback, not
   * `logger.error` itself.
   */
  readonly logger: Logger;
  /** The operator's client, for reads and writes of other objects. */
  readonly client: KubeClient;
  /** The watched objects, read from memory: this resource's and the owned resources'. */
  readonly cache: HandlerCache<T>;
  /** Aborts on the handler's timeout, on shutdown, and for daemons when the object goes away. */
  readonly signal: AbortSignal;
  /** Attempts made before this one in this cause (0 on the first). */
  readonly retry: number;
  /** When the first attempt of this handler in this cause started. */
  readonly startedAt: Date;
  /** The handler's id; its return value goes to `status[id]`. */
  readonly id: string;
  /** The handled resource. */
  readonly resource: Resource;
  /** Posts a `Normal` Event about `about` (default: this object). */
  info(reason: string, message: string, about?: KubeObject): void;
  /** Posts a `Warning` Event about `about` (default: this object). */
  warn(reason: string, message: string, about?: KubeObject): void;
  /** Posts a `Warning` Event with the error's message about `about` (default: this object). */
  exception(reason: string, error: unknown, about?: KubeObject): void;
  /**
   * Asks for a handling cycle of another object of this resource, by name (and namespace,
   * default this object's), as if it had changed: e.g. a parent waking its siblings. For this
   * object itself, a reconcile handler returns `{ requeueAfter }` instead.
   */
  enqueue(name: string, namespace?: string): void;
}

/** The causes that reach changing handlers. */
export type ChangeCause = 'create' | 'update' | 'delete' | 'resume';

/** The context of create, update, delete and resume handlers. */
export interface ChangeContext<T extends KubeObject> extends ObjectContext<T> {
  /** Why the handler runs: `resume` when the operator starts and finds the object unchanged. */
  readonly cause: ChangeCause;
  /** The last handled essence; undefined on creation (and past the annotation size limit). */
  readonly old: EssenceOf<T> | undefined;
  /** The current essence. */
  readonly new: EssenceOf<T>;
  /** What changed from `old` to `new`, kopf-style. */
  readonly diff: Diff;
}

/** The context of a field handler: old, new and diff reduced to the field. */
export interface FieldContext<T extends KubeObject, V = unknown> extends ObjectContext<T> {
  /** The cause in which the field changed. */
  readonly cause: ChangeCause;
  /** The watched field, as given to `onField` (e.g. `spec.text`). */
  readonly field: string;
  /** The field's last handled value; undefined when it was absent. */
  readonly old: V | undefined;
  /** The field's current value; undefined when it is gone. */
  readonly new: V | undefined;
  /** What changed inside the field, with paths relative to it. */
  readonly diff: Diff;
}

/** The context of an event handler: one raw watch change. */
export interface EventContext<T extends KubeObject> extends ObjectContext<T> {
  /** The watch event's type. */
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The previous cached state, for MODIFIED and DELETED. */
  readonly old: Stored<T> | undefined;
}

/** The context of a level-based reconcile handler. */
export type ReconcileHandlerContext<T extends KubeObject> = ObjectContext<T>;

/** The context of a timer handler. */
export type TimerContext<T extends KubeObject> = ObjectContext<T>;

/** The context of a daemon: `signal` aborts when the object is deleted or the operator stops. */
export interface DaemonContext<T extends KubeObject> extends ObjectContext<T> {
  /** Sends what was collected in `patch` so far, now. The rest is sent when the daemon exits. */
  flush(): Promise<void>;
}

/** What a reconcile handler may return. */
export type ReconcileReturn =
  | {
      /** Reconcile again after this long, even if nothing changes (controller-runtime's RequeueAfter). */
      requeueAfter?: Duration;
    }
  | undefined
  | void;

/** What user handler functions look like, by context. */
export type HandlerFn<C> = (context: C) => unknown;

/** Filters shared by all resource handlers. */
export interface FilterOptions<T extends KubeObject> {
  /** Labels that must match: a value, PRESENT, ABSENT or a predicate per key. */
  labels?: MetaFilter;
  /** Annotations that must match, as `labels`. */
  annotations?: MetaFilter;
  /** A field (`spec.mode`) that must satisfy `value` (default: be present; for updates: change). */
  field?: string;
  /** With `field`: a value, PRESENT, ABSENT or a predicate. */
  value?: ValueFilter;
  /** Any other condition, evaluated on the context before the handler runs. */
  when?: (context: ObjectContext<T>) => boolean;
}

/** Retry and error behaviour of a handler. */
export interface ErrorOptions {
  /**
   * Retries after the first attempt before the handler fails for good (so `retries: 2` means at
   * most 3 attempts). Default: unlimited.
   */
  retries?: number;
  /** Time from the first attempt after which the handler fails for good. Default: none. */
  timeout?: Duration;
  /**
   * Delay between retries after ordinary errors: a fixed duration, or exponential settings.
   * Default: `defaults.handlers.backoff*` (1 s doubling to 60 s).
   */
  backoff?:
    | Duration
    | {
        /** The first delay. */
        initial: Duration;
        /** The longest delay. */
        max: Duration;
        /** Each delay is the previous one times this. Default 2. */
        factor?: number;
      };
  /**
   * What an ordinary error (neither TemporaryError nor PermanentError) means: retry with backoff
   * (`'temporary'`, default), fail for good (`'permanent'`), or count as success (`'ignored'`).
   */
  errors?: 'temporary' | 'permanent' | 'ignored';
}

/** Options of most resource handlers. */
export interface HandlerOptions<T extends KubeObject> extends FilterOptions<T>, ErrorOptions {
  /** Stable id: the progress key and `status[id]`. Default: derived from kind, function name and field. */
  id?: string;
}

/** Options of delete handlers. */
export interface DeleteOptions<T extends KubeObject> extends HandlerOptions<T> {
  /** True: run when seen deleting, but add no finalizer for it (deletion may not wait). */
  optional?: boolean;
}

/** Options of resume handlers. */
export interface ResumeOptions<T extends KubeObject> extends HandlerOptions<T> {
  /** Also resume objects already being deleted. Default false. */
  deleted?: boolean;
}

/** Options of event handlers: filters and an id; event handlers are never retried. */
export interface EventOptions<T extends KubeObject> extends FilterOptions<T> {
  /** Stable id, for logs and metrics. Default: derived from kind and function name. */
  id?: string;
}

/** Options of timers. */
export interface TimerOptions<T extends KubeObject> extends HandlerOptions<T> {
  /** Time between runs: from the end of one run to the start of the next, or a fixed grid with `sharp`. */
  interval: Duration;
  /** Wait before the first run after the object is seen. Default: `interval`. */
  initialDelay?: Duration;
  /** Run only when the object has not changed for this long. */
  idle?: Duration;
  /** Keep to a fixed grid from the first run instead of counting from the end of each run. */
  sharp?: boolean;
}

/** Options of daemons. */
export interface DaemonOptions<T extends KubeObject> extends HandlerOptions<T> {
  /** Wait before starting. Default: none. */
  initialDelay?: Duration;
  /**
   * After its signal aborts, how long the daemon may take to return before Operon stops waiting
   * (kopf's `cancellation_timeout`); a deletion waits for it that long at most. Default:
   * `defaults.handlers.daemonCancellationTimeoutMs` (60 s).
   */
  cancellationTimeout?: Duration;
}

/**
 * How a resource is watched and cached (controller-runtime's cache options by object; kopf's
 * indexes). Set with `resource.cache(...)` for a handled resource, or in `owns` and `watches`.
 */
export interface CacheOptions<T extends KubeObject> {
  /**
   * Only objects with these labels are listed, watched and cached (a server-side selector: the
   * others never reach the operator, nor its memory). A selector string (`tier in (a,b)`) or
   * `{ key: value }`. Default: every object.
   */
  labelSelector?: string | Readonly<Record<string, string>>;
  /** As `labelSelector`, for fields the API server can select on (`metadata.name`, `status.phase` of Pods). */
  fieldSelector?: string | Readonly<Record<string, string>>;
  /**
   * Applied to each object before it is cached, after Operon's own (which drops managedFields
   * and kubectl's last-applied annotation), to save memory: keep only what handlers read. Must
   * keep `metadata`. Handlers see the transformed object.
   */
  transform?: ObjectFn<T, Stored<T>>;
  /**
   * Named indexes of the cache (kopf's `@kopf.index`): each function gives the values an object
   * is filed under; `ctx.cache.byIndex(name, value)` (or `ctx.cache.of(kind).byIndex`) returns
   * the objects filed under `value`, without a scan.
   */
  indexes?: Readonly<Record<string, ObjectFn<T, readonly string[]>>>;
}

/**
 * A function of a cached object. Declared through a method so that its parameter is checked
 * bivariantly: cache options written for `Stored<ConfigMap>` then fit where a registry keeps
 * options of any object, as handler functions do.
 */
export type ObjectFn<T extends KubeObject, R> = {
  /** Called with one cached object. */
  fn(object: Stored<T>): R;
}['fn'];

/** Cache options of a resource the operator watches but does not handle (`owns`, `watches`). */
export interface RelatedCacheOptions<T extends KubeObject> extends CacheOptions<T> {
  /**
   * Watch metadata only (`PartialObjectMetadata`: names, labels, annotations, ownerReferences;
   * no spec, no status), for a kind whose changes only need to wake their owner: a fraction of
   * the memory per object. `ctx.cache.of(kind)` then holds metadata only. Default false.
   */
  metadataOnly?: boolean;
}

/** Options of `owns`. */
export interface OwnsOptions<T extends KubeObject = KubeObject> extends RelatedCacheOptions<T> {
  /** Map through every ownerReference of this resource's kind, not only the controller one. */
  everyOwner?: boolean;
}

/** The kinds of resource handlers. */
export type HandlerKind = 'create' | 'update' | 'delete' | 'resume' | 'field' | 'event' | 'reconcile' | 'timer' | 'daemon';

/** A handler as the registry keeps it: options normalised and checked. */
export type HandlerSpec = ChangeHandlerSpec | DeleteHandlerSpec | ResumeHandlerSpec | TimerHandlerSpec | DaemonHandlerSpec;

/** The handler record of kind `K`. */
export type SpecOf<K extends HandlerKind> = K extends 'delete'
  ? DeleteHandlerSpec
  : K extends 'resume'
    ? ResumeHandlerSpec
    : K extends 'timer'
      ? TimerHandlerSpec
      : K extends 'daemon'
        ? DaemonHandlerSpec
        : ChangeHandlerSpec;

/** Timers and daemons: the handlers that run as tasks of an object. */
export type TaskHandlerSpec = TimerHandlerSpec | DaemonHandlerSpec;

/** Create, update, field, event and reconcile handlers: the options every handler has. */
export interface ChangeHandlerSpec extends HandlerSpecBase {
  readonly kind: 'create' | 'update' | 'field' | 'event' | 'reconcile';
}

/** A delete handler. */
export interface DeleteHandlerSpec extends HandlerSpecBase {
  readonly kind: 'delete';
  /** No finalizer for this one: it runs when a deletion is seen, best effort. */
  readonly optional: boolean;
}

/** A resume handler. */
export interface ResumeHandlerSpec extends HandlerSpecBase {
  readonly kind: 'resume';
  /** Also for objects being deleted. */
  readonly deleted: boolean;
}

/** A timer. */
export interface TimerHandlerSpec extends HandlerSpecBase {
  readonly kind: 'timer';
  /** From the end of one run to the start of the next (or the `sharp` grid's step). */
  readonly intervalMs: number;
  /** Before the first run; undefined: one interval. */
  readonly initialDelayMs: number | undefined;
  /** Runs only once the object has not changed for this long. */
  readonly idleMs: number | undefined;
  /** Keep to a fixed grid from the first run. */
  readonly sharp: boolean;
}

/** A daemon. */
export interface DaemonHandlerSpec extends HandlerSpecBase {
  readonly kind: 'daemon';
  /** Before it starts. */
  readonly initialDelayMs: number | undefined;
  /** How long a stopped daemon is waited for; undefined: the default. */
  readonly cancellationTimeoutMs: number | undefined;
}

/** What every handler record has. */
export interface HandlerSpecBase {
  readonly kind: HandlerKind;
  readonly id: string;
  /** The user's function; contexts differ by kind, the runtime passes the right one. */
  readonly fn: (context: never) => unknown;
  readonly labels: MetaFilter | undefined;
  readonly annotations: MetaFilter | undefined;
  /** `field` as given (`spec.text`), and split. */
  readonly field: string | undefined;
  readonly fieldPath: FieldPath | undefined;
  readonly hasValue: boolean;
  readonly value: unknown;
  readonly when: ((context: ObjectContext<KubeObject>) => boolean) | undefined;
  readonly retries: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly backoff: { initialMs: number; maxMs: number; factor: number };
  readonly errors: 'temporary' | 'permanent' | 'ignored';
}

/** Context of operator-level handlers (startup, cleanup, probes). */
export interface OperatorContext {
  /** The operator's client. */
  readonly client: KubeClient;
  /** The operator's logger. */
  readonly logger: Logger;
  /** Aborts when the operator stops. */
  readonly signal: AbortSignal;
  /**
   * The operator's Prometheus registry, for metrics of your own, when the operator serves
   * metrics (`operon run --metrics-address`, or the `metrics` option); undefined otherwise.
   * Create them in a startup handler and keep them where your handlers see them.
   */
  readonly metrics: MetricFactory | undefined;
  /** Posts a `Normal` Event about any object (from startup or cleanup code, outside resource handlers). */
  info(about: KubeObject, reason: string, message: string): void;
  /** Posts a `Warning` Event about any object. */
  warn(about: KubeObject, reason: string, message: string): void;
}

/**
 * Makes metrics on the operator's registry, exported on `/metrics` beside Operon's own (the
 * server's `Metrics` is one).
 */
export interface MetricFactory {
  /** A counter (`..._total`). */
  counter<L extends string = string>(config: Omit<CounterConfiguration<L>, 'registers'>): Counter<L>;
  /** A gauge. */
  gauge<L extends string = string>(config: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L>;
  /** A histogram. */
  histogram<L extends string = string>(config: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L>;
}

/** Context of login handlers, which run before any client exists. */
export interface LoginContext {
  /** The operator's logger. */
  readonly logger: Logger;
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

/** A probe: its result is part of the operator's health report. */
export interface ProbeSpec {
  readonly id: string;
  readonly fn: (context: OperatorContext) => unknown;
}
