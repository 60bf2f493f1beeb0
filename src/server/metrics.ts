/**
 * Prometheus metrics with controller-runtime's names and labels, so the dashboards and alerts
 * written for Go operators work unchanged, plus Operon's watch health. Built on `prom-client`,
 * which is loaded only when metrics are enabled ({@link Metrics.load}).
 *
 * Guarantees:
 * - **Names and labels as controller-runtime** (`pkg/internal/controller/metrics`,
 *   `pkg/internal/metrics/workqueue.go`): `controller_runtime_reconcile_total{controller,result}`
 *   (pre-initialised to 0 for every result), `controller_runtime_reconcile_errors_total`,
 *   `controller_runtime_terminal_reconcile_errors_total`, `controller_runtime_reconcile_timeouts_total`,
 *   `controller_runtime_reconcile_time_seconds` (controller-runtime's buckets),
 *   `controller_runtime_active_workers`, `controller_runtime_max_concurrent_reconciles` (the
 *   upper bound when the limit adapts), `operon_concurrency_limit{controller}` (where an
 *   adaptive limit stands now), and
 *   `workqueue_{depth,adds_total,retries_total,queue_duration_seconds,work_duration_seconds}{name,controller}`
 *   (durations with client-go's `ExponentialBuckets(1e-8, 10, 12)`). A terminal error counts as
 *   `result="error"`, as in controller-runtime.
 * - **Leader election** as client-go names it: `leader_election_master_status{name}` (1 while
 *   leading) and `leader_election_slowpath_total{name}` (renewals that had to read the lease).
 * - **Watch health** per resource, sampled at scrape time from the reflector's `status()`:
 *   `operon_watch_relists_total`, `operon_watch_reconnects_total`,
 *   `operon_watch_last_event_age_seconds` (the stalest watch of the resource) and
 *   `operon_watch_healthy` (1 or 0).
 * - **One registry per {@link Metrics}**, never prom-client's global one, so two operators in one
 *   process (or tests) do not collide. Operators add their own metrics to it with
 *   {@link Metrics.counter}, {@link Metrics.gauge}, {@link Metrics.histogram}, or through
 *   {@link Metrics.registry} and {@link Metrics.prom} for anything else.
 * - Node's process metrics (`process_*`, `nodejs_*`: prom-client's default collectors, the
 *   counterpart of controller-runtime's process and Go collectors) unless `defaultMetrics: false`.
 *
 * Memory cost of `prom-client` 15.1.3, measured on Node 24.21 (x64 Linux) as the difference of
 * `process.memoryUsage()` around `await import('prom-client')`, each reading after `global.gc()`
 * (`node --expose-gc -e …`), 3 to 5 runs:
 * - into a bare process: +20.9 to +21.8 MB RSS, +2.0 MB V8 heap. Most of it is Node's own
 *   built-ins that prom-client pulls in (`cluster`, `http(s)`, `zlib`, `v8`, `perf_hooks`) and the
 *   first use of the module loader;
 * - into a process that already loaded `node:http`, `node:https`, `node:zlib` and pino, as an
 *   operator has: +6.6 to +7.9 MB RSS, +0.7 MB heap; +6.8 to +8.6 MB RSS, +0.9 MB heap once the
 *   default process metrics are registered and scraped.
 * Hence the lazy load: an operator without metrics never pays it.
 */
import type * as PromClientModule from 'prom-client';
import type { Counter, CounterConfiguration, Gauge, GaugeConfiguration, Histogram, HistogramConfiguration, Registry } from 'prom-client';
import { systemClock, type Clock } from '../base/clock.ts';
import type { ControllerMetrics, ReconcileOutcome } from '../engine/controller.ts';
import type { WorkQueueMetrics } from '../engine/queue.ts';
import type { ShardingMetrics } from '../sharding/metrics.ts';

/** Hooks for leader election; `LeaderElector` takes them (structurally the same as its `LeaderElectionMetrics`). */
export interface LeaderMetrics {
  leading(leading: boolean): void;
  slowpath(): void;
}

/** The `prom-client` module, as {@link Metrics.load} imports it. */
export type PromClient = typeof PromClientModule;

/** Options of {@link Metrics}. */
export interface MetricsOptions {
  /** Register Node's process metrics (`process_*`, `nodejs_*`). Default true. */
  defaultMetrics?: boolean;
  /** Time source for watch ages. Default: the system clock. */
  clock?: Clock;
}

/**
 * The part of a reflector's `status()` the watch metrics read; a `ReflectorStatus` fits.
 */
export interface WatchHealth {
  healthy: boolean;
  watches: ReadonlyArray<{ relists: number; reconnects: number; lastEventAt?: number }>;
}

/** A scrape response. */
export interface Exposition {
  contentType: string;
  body: string;
}

/** controller-runtime's `controller_runtime_reconcile_time_seconds` buckets. */
export const RECONCILE_TIME_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5,
  4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/** client-go's workqueue duration buckets: `ExponentialBuckets(10e-9, 10, 12)`, 10 ns to 1000 s. */
export const WORKQUEUE_DURATION_BUCKETS: readonly number[] = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));

/** controller-runtime's `result` label values. */
const RESULTS = ['success', 'error', 'requeue', 'requeue_after'] as const;

interface WatchSource {
  status: () => WatchHealth;
  relists: number;
  reconnects: number;
}

/**
 * The operator's metrics registry. Create it with {@link Metrics.load} (which imports prom-client)
 * and hand its adapters to the engine.
 *
 * @example
 * ```ts
 * const metrics = await Metrics.load();
 * const controller = new Controller({
 *   name: 'printers',
 *   reconcile,
 *   metrics: metrics.controllerMetrics('printers', { maxConcurrentReconciles: 8 }),
 *   queueMetrics: metrics.queueMetrics('printers'),
 * });
 * metrics.watchMetrics('printers.demo.operon.dev', () => reflector.status());
 * const requests = metrics.counter({ name: 'cvc_price_requests_total', help: 'Price API requests', labelNames: ['result'] });
 * requests.inc({ result: 'ok' });
 * ```
 */
export class Metrics {
  /** The prom-client module, for metric types beyond the helpers (Summary, custom collectors). */
  readonly prom: PromClient;
  /** The registry every Operon and user metric is on; `/metrics` serves it. */
  readonly registry: Registry;
  readonly #clock: Clock;
  readonly #reconcileTotal: Counter<'controller' | 'result'>;
  readonly #reconcileErrors: Counter<'controller'>;
  readonly #terminalErrors: Counter<'controller'>;
  readonly #reconcileTimeouts: Counter<'controller'>;
  readonly #reconcileTime: Histogram<'controller'>;
  readonly #handlerRuns: Counter<'resource' | 'handler' | 'result'>;
  readonly #activeWorkers: Gauge<'controller'>;
  readonly #maxConcurrent: Gauge<'controller'>;
  readonly #concurrencyLimit: Gauge<'controller'>;
  readonly #depth: Gauge<'name' | 'controller'>;
  readonly #adds: Counter<'name' | 'controller'>;
  readonly #retries: Counter<'name' | 'controller'>;
  readonly #queueDuration: Histogram<'name' | 'controller'>;
  readonly #workDuration: Histogram<'name' | 'controller'>;
  readonly #watches = new Map<string, WatchSource>();
  readonly #leaderStatus: Gauge<'name'>;
  readonly #leaderSlowpath: Counter<'name'>;

  /**
   * Loads prom-client and makes a registry with Operon's metrics. The only way prom-client gets
   * into the process: an operator without metrics never pays for it.
   *
   * @example
   * ```ts
   * const metrics = options.metrics ? await Metrics.load() : undefined;
   * ```
   */
  static async load(options: MetricsOptions = {}): Promise<Metrics> {
    const prom = await import('prom-client');
    return new Metrics(prom, options);
  }

  /**
   * Use {@link Metrics.load} unless prom-client is already imported.
   *
   * @example
   * ```ts
   * import * as prom from 'prom-client';
   * const metrics = new Metrics(prom, { defaultMetrics: false });
   * ```
   */
  constructor(prom: PromClient, options: MetricsOptions = {}) {
    this.prom = prom;
    this.#clock = options.clock ?? systemClock;
    const registry = new prom.Registry();
    this.registry = registry;
    if (options.defaultMetrics ?? true) prom.collectDefaultMetrics({ register: registry });
    const registers = [registry];
    const controller = ['controller'] as const;
    const queue = ['name', 'controller'] as const;

    this.#reconcileTotal = new prom.Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'] as const,
      registers,
    });
    this.#reconcileErrors = new prom.Counter({ name: 'controller_runtime_reconcile_errors_total', help: 'Total number of reconciliation errors per controller', labelNames: controller, registers });
    this.#terminalErrors = new prom.Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: controller,
      registers,
    });
    this.#reconcileTimeouts = new prom.Counter({
      name: 'controller_runtime_reconcile_timeouts_total',
      help: 'Total number of reconciliation timeouts per controller',
      labelNames: controller,
      registers,
    });
    this.#reconcileTime = new prom.Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: controller,
      buckets: [...RECONCILE_TIME_BUCKETS],
      registers,
    });
    // Per handler, not per controller: one resource's controller runs many handlers, and "which
    // handler keeps failing" is the question an alert needs answered (issue #13).
    this.#handlerRuns = new prom.Counter({
      name: 'operon_handler_runs_total',
      help: 'Handler attempts per resource, handler id and result (success, retry, failure)',
      labelNames: ['resource', 'handler', 'result'] as const,
      registers,
    });
    this.#activeWorkers = new prom.Gauge({ name: 'controller_runtime_active_workers', help: 'Number of currently used workers per controller', labelNames: controller, registers });
    this.#maxConcurrent = new prom.Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: controller,
      registers,
    });
    this.#concurrencyLimit = new prom.Gauge({
      name: 'operon_concurrency_limit',
      help: 'Reconciles allowed at once per controller now (moves between its bounds when adaptive)',
      labelNames: controller,
      registers,
    });
    this.#depth = new prom.Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: queue, registers });
    this.#adds = new prom.Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: queue, registers });
    this.#retries = new prom.Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: queue, registers });
    this.#queueDuration = new prom.Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: queue,
      buckets: [...WORKQUEUE_DURATION_BUCKETS],
      registers,
    });
    this.#workDuration = new prom.Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: queue,
      buckets: [...WORKQUEUE_DURATION_BUCKETS],
      registers,
    });

    this.#leaderStatus = new prom.Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
      labelNames: ['name'] as const,
      registers,
    });
    this.#leaderSlowpath = new prom.Counter({
      name: 'leader_election_slowpath_total',
      help: 'Total number of slow path exercised in renewing leader leases',
      labelNames: ['name'] as const,
      registers,
    });

    // Watch metrics are read from the reflectors at scrape time: nothing to update in between.
    const sources = this.#watches;
    const clock = this.#clock;
    new prom.Counter({
      name: 'operon_watch_relists_total',
      help: 'Lists started again after the first (410 Gone, expired continue token), per watched resource',
      labelNames: ['resource'] as const,
      registers,
      collect(this: Counter<'resource'>) {
        for (const [resource, source] of sources) {
          const total = sum(source.status().watches, (w) => w.relists);
          this.inc({ resource }, total >= source.relists ? total - source.relists : total);
          source.relists = total;
        }
      },
    });
    new prom.Counter({
      name: 'operon_watch_reconnects_total',
      help: 'Watches opened again from a resourceVersion (stream end, stall, error), per watched resource',
      labelNames: ['resource'] as const,
      registers,
      collect(this: Counter<'resource'>) {
        for (const [resource, source] of sources) {
          const total = sum(source.status().watches, (w) => w.reconnects);
          this.inc({ resource }, total >= source.reconnects ? total - source.reconnects : total);
          source.reconnects = total;
        }
      },
    });
    new prom.Gauge({
      name: 'operon_watch_last_event_age_seconds',
      help: 'Seconds since the stalest watch of the resource last received an event, bookmark or list page',
      labelNames: ['resource'] as const,
      registers,
      collect(this: Gauge<'resource'>) {
        this.reset();
        const now = clock.now();
        for (const [resource, source] of sources) {
          const times = source.status().watches.map((w) => w.lastEventAt).filter((t): t is number => t !== undefined);
          if (times.length > 0) this.set({ resource }, Math.max(0, (now - Math.min(...times)) / 1000));
        }
      },
    });
    new prom.Gauge({
      name: 'operon_watch_healthy',
      help: '1 when every watch of the resource is healthy, else 0',
      labelNames: ['resource'] as const,
      registers,
      collect(this: Gauge<'resource'>) {
        this.reset();
        for (const [resource, source] of sources) this.set({ resource }, source.status().healthy ? 1 : 0);
      },
    });
  }

  /**
   * The engine's `ControllerMetrics` hooks for one controller, feeding the
   * `controller_runtime_*` metrics.
   *
   * @example
   * ```ts
   * new Controller({ name: 'printers', reconcile, metrics: metrics.controllerMetrics('printers') });
   * ```
   */
  controllerMetrics(controller: string, options: { maxConcurrentReconciles?: number } = {}): ControllerMetrics {
    for (const result of RESULTS) this.#reconcileTotal.inc({ controller, result }, 0);
    this.#reconcileErrors.inc({ controller }, 0);
    this.#terminalErrors.inc({ controller }, 0);
    this.#reconcileTimeouts.inc({ controller }, 0);
    this.#activeWorkers.set({ controller }, 0);
    if (options.maxConcurrentReconciles !== undefined) this.#maxConcurrent.set({ controller }, options.maxConcurrentReconciles);
    return {
      reconciled: ({ outcome, durationMs, timedOut }) => {
        this.#reconcileTotal.inc({ controller, result: resultLabel(outcome) });
        if (outcome === 'error' || outcome === 'terminal_error') this.#reconcileErrors.inc({ controller });
        if (outcome === 'terminal_error') this.#terminalErrors.inc({ controller });
        if (timedOut) this.#reconcileTimeouts.inc({ controller });
        this.#reconcileTime.observe({ controller }, durationMs / 1000);
      },
      activeWorkers: (count) => this.#activeWorkers.set({ controller }, count),
      limit: (limit) => this.#concurrencyLimit.set({ controller }, limit),
    };
  }

  /**
   * Counts handler attempts of one resource into `operon_handler_runs_total`, by handler id and
   * result: `success`, `retry` (failed, will be retried) or `failure` (failed for good).
   *
   * @example
   * ```ts
   * const count = metrics.handlerRuns('printers.demo.operon.dev');
   * count('create-pod', 'retry');
   * ```
   */
  handlerRuns(resource: string): (handler: string, result: 'success' | 'retry' | 'failure') => void {
    return (handler, result) => this.#handlerRuns.inc({ resource, handler, result });
  }

  /**
   * The engine's `WorkQueueMetrics` hooks for one queue, feeding the `workqueue_*` metrics.
   * `name` and `controller` are both the controller's name unless told otherwise, as in
   * controller-runtime.
   *
   * @example
   * ```ts
   * new WorkQueue({ metrics: metrics.queueMetrics('printers') });
   * ```
   */
  queueMetrics(name: string, controller: string = name): WorkQueueMetrics {
    const labels = { name, controller };
    this.#depth.set(labels, 0);
    this.#adds.inc(labels, 0);
    this.#retries.inc(labels, 0);
    return {
      depth: (depth) => this.#depth.set(labels, depth),
      added: () => this.#adds.inc(labels),
      retried: () => this.#retries.inc(labels),
      queueLatency: (ms) => this.#queueDuration.observe(labels, ms / 1000),
      workDuration: (ms) => this.#workDuration.observe(labels, ms / 1000),
    };
  }

  /**
   * The leader elector's hooks for one lease, feeding `leader_election_master_status` (0 until it
   * leads) and `leader_election_slowpath_total`.
   *
   * @example
   * ```ts
   * new LeaderElector({ lock, metrics: metrics.leaderElectionMetrics('printer-operator') });
   * ```
   */
  leaderElectionMetrics(name: string): LeaderMetrics {
    this.#leaderStatus.set({ name }, 0);
    this.#leaderSlowpath.inc({ name }, 0);
    return {
      leading: (leading) => this.#leaderStatus.set({ name }, leading ? 1 : 0),
      slowpath: () => this.#leaderSlowpath.inc({ name }),
    };
  }

  /**
   * The sharder's hooks for one ring: `operon_shard_objects` (main objects per shard, `""` for
   * unassigned), `operon_shard_placements_total` (label writes by kind: assign, drain, move) and
   * `operon_shard_drain_seconds` (drain label to acknowledgement). Only the replica that runs the
   * sharder (the leader) reports them.
   *
   * @example
   * ```ts
   * new Sharder({ ..., metrics: metrics.shardingMetrics('printers') });
   * ```
   */
  shardingMetrics(ring: string): ShardingMetrics {
    const registers = [this.registry];
    const objects = new this.prom.Gauge({ name: 'operon_shard_objects', help: 'Objects of a shard ring per shard, as the sharder last counted them', labelNames: ['ring', 'shard'] as const, registers });
    const placements = new this.prom.Counter({ name: 'operon_shard_placements_total', help: 'Shard label writes of the sharder by kind (assign, drain, move)', labelNames: ['ring', 'kind'] as const, registers });
    const drains = new this.prom.Histogram({
      name: 'operon_shard_drain_seconds',
      help: 'Time from the drain label to the old shard letting the object go',
      labelNames: ['ring'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    for (const kind of ['assign', 'drain', 'move'] as const) placements.inc({ ring, kind }, 0);
    return {
      objects: (counts) => {
        objects.reset();
        for (const [shard, count] of counts) objects.set({ ring, shard }, count);
      },
      placed: (kind) => placements.inc({ ring, kind }),
      drained: (seconds) => drains.observe({ ring }, seconds),
    };
  }

  /**
   * Reports the watches of one resource in the `operon_watch_*` metrics, read from `status` at
   * every scrape. Returns a function that stops reporting it. Registering a resource again
   * replaces the earlier source.
   *
   * @example
   * ```ts
   * const stop = metrics.watchMetrics('printers.demo.operon.dev', () => reflector.status());
   * ```
   */
  watchMetrics(resource: string, status: () => WatchHealth): () => void {
    const source: WatchSource = { status, relists: 0, reconnects: 0 };
    this.#watches.set(resource, source);
    return () => {
      if (this.#watches.get(resource) === source) this.#watches.delete(resource);
    };
  }

  /**
   * A counter on this registry.
   *
   * @example
   * ```ts
   * const requests = metrics.counter({ name: 'cvc_price_requests_total', help: 'Price API requests', labelNames: ['result'] as const });
   * requests.inc({ result: 'ok' });
   * ```
   */
  counter<L extends string = string>(config: Omit<CounterConfiguration<L>, 'registers'>): Counter<L> {
    return new this.prom.Counter<L>({ ...config, registers: [this.registry] });
  }

  /**
   * A gauge on this registry.
   *
   * @example
   * ```ts
   * const price = metrics.gauge({ name: 'cvc_last_price', help: 'Last price seen', labelNames: ['coin'] as const });
   * price.set({ coin: 'btc' }, 64000);
   * ```
   */
  gauge<L extends string = string>(config: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
    return new this.prom.Gauge<L>({ ...config, registers: [this.registry] });
  }

  /**
   * A histogram on this registry.
   *
   * @example
   * ```ts
   * const latency = metrics.histogram({ name: 'cvc_price_request_seconds', help: 'Price API latency', buckets: [0.1, 0.5, 1, 5] });
   * latency.observe(0.27);
   * ```
   */
  histogram<L extends string = string>(config: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L> {
    return new this.prom.Histogram<L>({ ...config, registers: [this.registry] });
  }

  /**
   * The text exposition of every metric, for `/metrics`.
   *
   * @example
   * ```ts
   * const { contentType, body } = await metrics.exposition();
   * ```
   */
  async exposition(): Promise<Exposition> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function resultLabel(outcome: ReconcileOutcome): (typeof RESULTS)[number] {
  return outcome === 'terminal_error' ? 'error' : outcome;
}

function sum<T>(items: ReadonlyArray<T>, value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}
