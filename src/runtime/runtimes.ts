/**
 * One {@link ResourceRuntime} per handled resource of a registry, made from the operator's
 * options: the watch scope, progress storage, finalizer name, concurrency, metrics hooks,
 * tracing and namespace selection every resource shares. A resource with only admission handlers
 * gets none: the API server sends its requests, nothing is watched.
 */
import { maxConcurrency } from '../engine/concurrency.ts';
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import { resourceName } from '../client/paths.ts';
import type { Stored } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import type { Recorder } from '../handlers/recorder.ts';
import type { Registry } from '../handlers/registry.ts';
import type { Resource } from '../schema/resource.ts';
import { finalizerName } from '../state/finalizers.ts';
import { AnnotationProgressStorage, StatusProgressStorage } from '../state/progress.ts';
import type { WatchScope } from '../watch/scope.ts';
import type { ReadonlyStore } from '../watch/store.ts';
import type { NamespaceSelection } from './namespace-selection.ts';
import type { OperatorOptions } from './operator-options.ts';
import { ResourceRuntime, type ShardSide } from './resource.ts';
import type { Tracing } from './tracing.ts';

/** What the runtimes of one operator share besides its options. */
export interface RuntimeDeps {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly recorder: Recorder;
  readonly scope: WatchScope;
  /** Aborts when the operator stops. */
  readonly stopping: AbortSignal;
  /** The cache of another watched resource, for `ctx.cache.of`. */
  readonly cacheOf: (resource: Resource) => ReadonlyStore<Stored> | undefined;
  readonly tracing: Tracing | undefined;
  readonly selection: NamespaceSelection | undefined;
  /** This replica's shard, when sharded. */
  readonly shard?: ShardSide | undefined;
  /** Called when any runtime's handling cycle ends. */
  readonly onCycle?: () => void;
  /** Called with each runtime made, and its metrics label (`plural.group`). */
  readonly made?: (runtime: ResourceRuntime, label: string) => void;
}

/**
 * The runtimes of `registry`'s handled resources, in registration order.
 *
 * @example
 * ```ts
 * const runtimes = createRuntimes(registry, options, { client, logger, clock, recorder, scope, stopping, cacheOf, tracing, selection: undefined });
 * for (const runtime of runtimes) runtime.start();
 * ```
 */
export function createRuntimes(registry: Registry, options: OperatorOptions, deps: RuntimeDeps): ResourceRuntime[] {
  const annotationStorage = new AnnotationProgressStorage(options.prefix);
  const statusStorage = new StatusProgressStorage();
  const prefix = options.prefix ?? defaults.state.prefix;
  const { metrics } = options;
  const concurrency = options.concurrency ?? defaults.queue.concurrency;
  const { selection } = deps;
  const runtimes: ResourceRuntime[] = [];
  for (const registration of registry.resources.filter((r) => r.handlers.length > 0 || r.owned.length > 0 || r.related.length > 0 || r.admission.length === 0)) {
    // One label for the controller, its queue and its watch: `plural.group`, unique per resource.
    const label = resourceName(registration.resource);
    const runtime = new ResourceRuntime({
      registration,
      client: deps.client,
      logger: deps.logger,
      clock: deps.clock,
      recorder: deps.recorder,
      scope: deps.scope,
      concurrency,
      shutdownGraceMs: options.shutdownGraceMs ?? defaults.operator.shutdownGraceMs,
      // A resource whose state lives in status keeps its progress there too, whatever the operator's default.
      storage: options.progress === 'status' || registration.state === 'status' ? statusStorage : annotationStorage,
      prefix,
      finalizer: finalizerName(prefix),
      cacheOf: deps.cacheOf,
      stopping: deps.stopping,
      ...(deps.tracing ? { tracing: deps.tracing } : {}),
      ...(selection ? { inScope: (namespace: string | undefined) => selection.has(namespace) } : {}),
      ...(deps.shard ? { shard: deps.shard } : {}),
      ...(deps.onCycle ? { onCycle: deps.onCycle } : {}),
      ...(metrics
        ? { controllerMetrics: metrics.controllerMetrics(label, { maxConcurrentReconciles: maxConcurrency(concurrency) }), queueMetrics: metrics.queueMetrics(label), handlerRuns: metrics.handlerRuns(label) }
        : {}),
      ...(options.watchUnhealthyAfterMs !== undefined ? { unhealthyAfterMs: options.watchUnhealthyAfterMs } : {}),
      ...(options.watchIdleTimeoutMs !== undefined ? { idleTimeoutMs: options.watchIdleTimeoutMs } : {}),
    });
    deps.made?.(runtime, label);
    runtimes.push(runtime);
  }
  return runtimes;
}
