/**
 * The shapes of the {@link Operator}'s API: its options (every default named where it is
 * declared), its health report, its phases, and the Events it lets callers observe.
 */
import type { Concurrency } from '../engine/concurrency.ts';
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import type { KubeObject } from '../client/types.ts';
import type { Registry } from '../handlers/registry.ts';
import type { RbacRule } from '../manifests/rbac.ts';
import type { Metrics } from '../server/metrics.ts';
import type { ReflectorStatus } from '../watch/reflector.ts';
import type { WebhookOptions } from './webhooks.ts';

/** An Event the operator posted, as seen by {@link OperatorOptions.onEvent}. */
export interface PostedEvent {
  /** The object the Event is about. */
  object: KubeObject;
  /** `Warning` for problems, `Normal` for everything else. */
  type: 'Normal' | 'Warning';
  /** A CamelCase reason, e.g. `PodCreated`. */
  reason: string;
  /** The message for a human. */
  message: string;
}

/**
 * Leader election of an {@link Operator}: the Lease `namespace/lease` decides which replica runs
 * the handlers. Timings default to {@link operon-k8s!defaults}.leaderElection (controller-runtime's).
 */
export interface LeaderElectionOptions {
  /** The Lease's name; every replica of one operator uses the same. */
  lease: string;
  /** The Lease's namespace, usually the operator's own. */
  namespace: string;
  /** This replica's identity. Default: host (pod) name and a random suffix. */
  identity?: string;
  /** How long the Lease stays valid without a renewal. Default: {@link operon-k8s!defaults}.leaderElection.leaseDurationMs (15 s). */
  leaseDurationMs?: number;
  /** A leader that could not renew for this long stops. Default: {@link operon-k8s!defaults}.leaderElection.renewDeadlineMs (10 s). */
  renewDeadlineMs?: number;
  /** Pause between attempts to acquire or renew. Default: {@link operon-k8s!defaults}.leaderElection.retryPeriodMs (2 s). */
  retryPeriodMs?: number;
  /** Give the Lease up on a graceful stop. Default: {@link operon-k8s!defaults}.leaderElection.releaseOnCancel (true). */
  releaseOnCancel?: boolean;
}

/**
 * Sharding of an {@link Operator}: every replica handles objects at once, each its own share. Each
 * replica holds a shard Lease labelled with the ring; a consistent-hash ring over the live shards
 * assigns each object (a label), and the replica that wins leader election moves objects between
 * shards with a drain protocol, so no object is handled by two replicas at once. See
 * `docs/concepts/sharding.md`; timings default to {@link operon-k8s!defaults}.sharding.
 */
export interface ShardingOptions {
  /** The ring's name: one per operator, the same on every replica; part of the object labels' keys. */
  ring: string;
  /** Where the shard Leases live. Default: the leader election Lease's namespace, else the client's. */
  namespace?: string;
  /** This replica's shard name (its Lease's name). Default: the host (pod) name and a random suffix. */
  shard?: string;
  /** Default: {@link operon-k8s!defaults}.sharding.leaseDurationMs (15 s). */
  leaseDurationMs?: number;
  /** Default: {@link operon-k8s!defaults}.sharding.renewDeadlineMs (10 s). */
  renewDeadlineMs?: number;
  /** Default: {@link operon-k8s!defaults}.sharding.retryPeriodMs (2 s). */
  retryPeriodMs?: number;
  /** Default: {@link operon-k8s!defaults}.sharding.virtualNodes (100). */
  virtualNodes?: number;
  /** Default: {@link operon-k8s!defaults}.sharding.syncPeriodMs (5 min). */
  syncPeriodMs?: number;
}

/** Where an operator stands in its shard ring, in {@link OperatorHealth}. */
export interface ShardingStatus {
  /** The ring's name. */
  ring: string;
  /** This replica's shard name. */
  shard: string;
  /** True while this replica holds its shard Lease and handles its objects. */
  holding: boolean;
  /** Why the shard Lease was lost, once it was. */
  lost?: string;
}

/** Where an operator stands in leader election, in {@link OperatorHealth}. */
export interface LeaderElectionStatus {
  /** The Lease, `namespace/name`. */
  lease: string;
  /** This replica's identity. */
  identity: string;
  /** True while this replica holds the Lease and runs the handlers. */
  leading: boolean;
  /** The holder last seen on the Lease. */
  holder?: string;
  /** Why leadership was lost, once it was. */
  lost?: string;
}

/** The version tracing names (`operon-k8s` tracer); kept with package.json's by the packaging test. */
export const OPERON_VERSION = '0.1.0';

/** Options of an {@link Operator}. */
export interface OperatorOptions {
  /**
   * OpenTelemetry traces: a span per handling cycle (plan, handler, requeue as attributes) with a
   * child span per API request, through `@opentelemetry/api`. The process registers the SDK and
   * exporter (without one, spans are no-ops); `@opentelemetry/api` is loaded only when this is on.
   * Default false.
   */
  tracing?: boolean;
  /** Default: the default registry that `resource()` and `onStartup()` fill. */
  registry?: Registry;
  /** Default: from a login handler, else loaded as kubectl does (`kubeconfig`, `context`). */
  client?: KubeClient;
  /** The kubeconfig file to load the client from. Default: `$KUBECONFIG`, `~/.kube/config`, in-cluster. */
  kubeconfig?: string;
  /** The kubeconfig context to use. Default: the file's current context. */
  context?: string;
  /** Namespaces to serve: names or globs (`team-*`), `!` to exclude. Default: all namespaces. */
  namespaces?: string | readonly string[];
  /** Serve all namespaces (the default; given for clarity next to `namespaces`). */
  allNamespaces?: boolean;
  /**
   * Serve the namespaces whose labels match this selector (`'team=a'`, `{ 'operon.dev/watch':
   * 'true' }`), followed while the operator runs: labelling a namespace brings its objects in,
   * unlabelling it stops their handling. Resources are then watched in all namespaces (objects
   * of unselected ones are cached, not handled); needs `list`/`watch` on namespaces. Default:
   * none (every namespace `namespaces` allows).
   */
  namespaceSelector?: string | Readonly<Record<string, string>>;
  /** Default: a pino logger named after the operator, created when `run` starts. */
  logger?: Logger;
  /** Time for timers, backoff and leases. Default: the system clock; tests pass a `ManualClock`. */
  clock?: Clock;
  /**
   * Objects handled at once per resource: a number fixes it, `{ min, max }` lets it adapt
   * between the two to how fast the API server answers. Default:
   * {@link operon-k8s!defaults}.queue.concurrency, adaptive from 8 to 64.
   */
  concurrency?: Concurrency;
  /** Names the operator in logs and Events. Default: {@link operon-k8s!defaults}.handlers.operatorName. */
  name?: string;
  /** Where handler progress is kept. Default `'annotations'`. */
  progress?: 'annotations' | 'status';
  /** Prefix of Operon's annotations and finalizer. Default: {@link operon-k8s!defaults}.state.prefix. */
  prefix?: string;
  /** Default: {@link operon-k8s!defaults}.operator.shutdownGraceMs. */
  shutdownGraceMs?: number;
  /** Called for every Event the operator posts (tests read Events this way). */
  onEvent?: (event: PostedEvent) => void;
  /**
   * Run the handlers only while holding this Lease. Default: no leader election (one replica).
   * With `sharding`, it elects the replica that runs the sharder instead (default Lease
   * `<ring>-sharder` with the sharding timings).
   */
  leaderElection?: LeaderElectionOptions | false;
  /** Share the objects among all replicas (`operon run --shard-ring`). Default: off. */
  sharding?: ShardingOptions;
  /** Report controller, queue, watch and leader-election metrics here (`Metrics.load()`). */
  metrics?: Metrics;
  /** A watch failing this long turns `health()` unhealthy. Default: {@link operon-k8s!defaults}.watch.unhealthyAfterMs. */
  watchUnhealthyAfterMs?: number;
  /**
   * A watch that delivers nothing, not even a bookmark, this long is presumed stalled: reconnected,
   * logged at warn, and the operator is not ready until it is answered again.
   * Default: {@link operon-k8s!defaults}.watch.idleTimeoutMs.
   */
  watchIdleTimeoutMs?: number;
  /**
   * RBAC rules the handlers need beyond what the registrations show (`operon rbac` adds them):
   * writes to owned resources other than create, reads of resources not watched, and so on.
   */
  rbac?: readonly RbacRule[];
  /**
   * Serve the registry's validate and mutate handlers over HTTPS, on every replica (leader or
   * not). Required when any are registered; see `docs/concepts/admission.md`.
   */
  webhooks?: WebhookOptions;
}

/** The state of an operator's lifecycle. */
export type OperatorPhase = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** What {@link Operator.health} reports. */
export interface OperatorHealth {
  /** False once any watch has been failing for `defaults.watch.unhealthyAfterMs`, or after a failed start. */
  healthy: boolean;
  /** True once every cache has completed its first list, while every watch is current. */
  ready: boolean;
  /** Why `ready` is false because a cache may be stale, one line per watch (empty otherwise). */
  stale: string[];
  /** Where the operator is in its life: idle → starting → running → stopping → stopped. */
  phase: OperatorPhase;
  /** Per watched resource (`plural.group`), its watches. */
  resources: Record<string, ReflectorStatus>;
  /** Timers and daemons running. */
  tasks: number;
  /** Present when leader election is on. */
  leaderElection?: LeaderElectionStatus;
  /** Present when sharding is on. */
  sharding?: ShardingStatus;
  /** Why `healthy` is false, one line per cause (empty when healthy). */
  problems: string[];
}
