/**
 * Every default Operon uses, in one place, each with the reason it has this value and where the
 * value comes from. Options elsewhere say "default: {@link defaults}.x" and never repeat the number.
 *
 * This module imports nothing: every layer may read it.
 *
 * @example
 * ```ts
 * import { defaults } from 'operon-k8s';
 * console.log(defaults.watch.timeoutSeconds); // 290
 * ```
 */
export const defaults = {
  /** The Kubernetes client: requests, retries, rate limits. */
  client: {
    /**
     * Timeout of one ordinary (non-watch) request, in milliseconds. client-go has no default;
     * kubectl's `--request-timeout` is 0. 30 s is kube-rs' old read timeout and is long enough for
     * a paginated LIST page of 500 objects on a busy API server while still unsticking dead sockets.
     */
    requestTimeoutMs: 30_000,
    /**
     * Retries of an idempotent request (GET, LIST, DELETE with preconditions, PUT with a
     * resourceVersion) on a network error, 429, 500, 502, 503 or 504. client-go retries 429/5xx up
     * to 10 times; kube-rs 4.x up to 15 with server-suggested delays. 5 keeps a broken call from
     * hiding for minutes while covering an API server restart (about 10 s here).
     */
    maxRetries: 5,
    /** First retry delay; doubles per attempt with full jitter. kube-rs `RetryPolicy::default` starts at 500 ms. */
    retryBaseDelayMs: 200,
    /** Cap on one retry delay when the server gives no Retry-After. kube-rs default policy caps at 5 s. */
    retryMaxDelayMs: 5_000,
    /** Cap on a server's Retry-After we honour: APF's own maximum is 32 s (`maxRetryAfter`). */
    retryAfterMaxMs: 32_000,
    /**
     * Keep-alive sockets per API server, for requests and for watches each (they have a pool each,
     * so open watches never hold a request back). Node's Agent default is unlimited; 64 bounds FDs
     * under a burst.
     */
    maxSockets: 64,
    /**
     * An idle pooled socket is closed after this long. The kube-apiserver closes idle connections
     * after 90 s (`IdleTimeout` in k8s.io/apiserver secure serving) and load balancers often sooner;
     * reusing a socket the server is closing fails a request that was never processed. Closing
     * ours first avoids that race at the cost of an occasional extra TLS handshake. When the event
     * loop was blocked past this (synchronous work in a handler), the transport drops such sockets
     * itself before the next request, since the pool's own timer could not run.
     */
    idleSocketTimeoutMs: 30_000,
    /**
     * How long a cached exec-plugin credential without an expiry is trusted before the plugin is
     * run again. kubectl caches until a 401; we also re-run on a 401, so this is only a safety net.
     */
    execCredentialTtlMs: 10 * 60_000,
    /** Re-read interval of token files (ServiceAccount projected tokens rotate). client-go: 60 s. */
    tokenFileRereadMs: 60_000,
    /** Field manager for server-side apply when the user names none. */
    fieldManager: 'operon',
    /**
     * An exec-plugin credential is refreshed this long before its `expirationTimestamp`, so a token
     * does not expire between being attached and being checked (a wasted 401 round trip). client-go
     * refreshes only at expiry and relies on the 401; a few seconds of clock skew make that visible.
     */
    execCredentialExpiryMarginMs: 10_000,
    /**
     * An exec plugin that has not answered in this long is killed and the request fails. client-go
     * has no limit (its plugins may be interactive); an operator is never interactive, and a hung
     * plugin would otherwise stall every request. Cloud plugins (aws, gke) answer in about a second.
     */
    execTimeoutMs: 60_000,
    /** Poll interval of `waitForCrdEstablished`; the API server establishes a CRD in well under a second. */
    crdPollIntervalMs: 250,
    /**
     * How long `waitForCrdEstablished` waits by default. Establishing takes well under a second on
     * a healthy API server; a minute covers a busy one without hiding a CRD that never will be.
     */
    crdEstablishTimeoutMs: 60_000,
  },
  /** Watches: reconnects, health, relists. */
  watch: {
    /**
     * Server-side watch timeout. kube-rs sends 290 s and documents that it must stay under 295 s
     * (kubernetes/kubernetes#6513); a server-side close is the healthy path and resumes cheaply.
     */
    timeoutSeconds: 290,
    /**
     * A watch stream that delivers nothing (not even a bookmark) for this long is presumed stalled:
     * reconnected, logged at warn, and the operator is not ready until a watch answers again. The
     * API server's watch cache sends a bookmark every 60 s to watches that ask for them (measured
     * on the local plane, kube-apiserver 1.36: 60.1 s apart), so 90 s is one and a half intervals:
     * a quiet but healthy watch is never torn down, and a black-holed connection (accepted, never
     * answered) is noticed within a minute and a half instead of five. kopf uses 70 s; kube-rs
     * timeout + 5 s (295 s), which let a stale cache pass every probe for five minutes (issue #17).
     */
    idleTimeoutMs: 90_000,
    /** LIST page size. client-go and kube-rs both use 500. */
    pageSize: 500,
    /** Reconnect backoff: client-go's reflector and kube-rs `DefaultBackoff` use 800 ms → 30 s, ×2, jitter. */
    backoffInitialMs: 800,
    /** The reconnect backoff's cap. */
    backoffMaxMs: 30_000,
    /** The reconnect backoff's growth per attempt. */
    backoffFactor: 2,
    /** The backoff resets after the watch has been healthy this long (client-go/kube-rs: 2 min). */
    backoffResetMs: 120_000,
    /**
     * A watcher that has not been able to (re)establish its watch for this long reports itself
     * unhealthy, so liveness fails instead of leaving a zombie. Five capped backoff rounds.
     */
    unhealthyAfterMs: 150_000,
    /** Ask for the streaming initial list (`sendInitialEvents`); falls back to LIST when refused. Beta in 1.34+. */
    streamingList: false,
  },
  /** The per-object work queue. */
  queue: {
    /** Per-object failure backoff: client-go's ItemExponentialFailureRateLimiter uses 5 ms → 1000 s. */
    failureBaseDelayMs: 5,
    /** The per-object failure backoff's cap. */
    failureMaxDelayMs: 1_000_000,
    /**
     * Objects processed at once per resource: adaptive between these bounds (see
     * `engine/concurrency.ts`). controller-runtime defaults to a fixed 1, kube-rs to unbounded
     * (kube-rs#1473 calls that a footgun). The right number depends on the API server's speed,
     * which an operator cannot know in advance: on this project's benchmark a burst of 10,000 new
     * objects left them waiting 12.5 s (p99) at a fixed 8 and 0.46 s with this limit. It starts
     * at 8, rises while objects wait, and falls back when the server answers 429, 5xx or not at
     * all. A number instead (`--concurrency 16`) fixes it.
     */
    concurrency: {
      /**
       * The adaptive limit starts here and never goes below: the fixed default of earlier
       * versions. It adapts because the right number depends on the API server (see above and
       * `engine/concurrency.ts`); `--concurrency N` fixes it instead.
       */
      min: 8,
      /** The adaptive limit's ceiling: the client's socket pool (`client.maxSockets`); more runs in flight would only wait for a socket. */
      max: 64,
    },
    /**
     * The adaptive limit is multiplied by this when runs fail on an overloaded server (429, 5xx,
     * timeouts): TCP's multiplicative decrease, gentler than its halving because one round of
     * runs here is a few requests, not a window of packets.
     */
    adaptiveBackoff: 0.75,
    /**
     * How long a record of the operator's own write waits for its watch echo (see
     * `runtime/own-writes.ts`). An echo normally arrives within milliseconds; a minute covers a slow
     * or reconnecting watch. A record whose echo never comes (the object left the watch's label
     * selector, the watch relisted) then expires, and an expired record only costs one extra run.
     */
    ownWriteTtlMs: 60_000,
    /**
     * Objects with pending own-write records kept at most; the oldest go first. Bounds memory when
     * echoes stop arriving, at a few hundred bytes per object. Far above the writes in flight of a
     * healthy operator.
     */
    ownWriteMaxObjects: 10_000,
  },
  /** What Operon stores on the objects. */
  state: {
    /**
     * Prefix of every annotation Operon keeps on handled objects (progress, diff base) and of its
     * finalizer. kopf uses `kopf.zalando.org`; a domain of our own keeps the two from reading each
     * other's state when both handle one object.
     */
    prefix: 'operon.dev',
    /**
     * The API server refuses an object whose annotations total more than 256 KiB (keys and values,
     * `TotalAnnotationSizeLimitB` in apimachinery). The full diff base is stored only while all
     * annotations, it included, stay below this: 256 KiB minus 32 KiB left for progress records,
     * other controllers and the user. Past it the diff base is stored as hashes (see `state/essence.ts`).
     */
    annotationBudgetBytes: 256 * 1024 - 32 * 1024,
  },
  /** How failures are logged. */
  logging: {
    /**
     * A handler or reconcile failing on an error that usually heals by itself (the API server
     * unreachable, a 5xx, a 429) is logged at warn for this many retries, then at error. With the
     * default backoffs five retries span 15-30 s: longer than an API server restart (about 10 s
     * here), so a restart that healed writes no error line (it wrote 57 before, issue #17), and a
     * fault that lasts still does. Other errors are logged at error from the first attempt.
     */
    transientRetriesAtWarn: 5,
  },
  /** Handlers: retries, backoff, timers, daemons. */
  handlers: {
    /**
     * Delay of a `TemporaryError` thrown without one. kopf's hard-coded default is 60 s: a handler
     * that asks to be retried later rarely means "in a second".
     */
    temporaryDelayMs: 60_000,
    /**
     * Retries of a handler failing with an ordinary error: exponential from 1 s, doubling, capped
     * at 60 s (kopf's flat `default_backoff`). Starting low heals the common transient failure (a
     * child not yet visible, a 409) in a second; the cap keeps a broken handler from hammering
     * the API server. Retries are unlimited unless a handler sets `retries`, as in kopf.
     */
    backoffInitialMs: 1_000,
    /** The handler retry backoff's cap. */
    backoffMaxMs: 60_000,
    /** The handler retry backoff's growth per attempt. */
    backoffFactor: 2,
    /**
     * While a deleted object's daemons have not yet exited after their signal aborted, the
     * deletion is looked at again this often. Daemons that honour their signal exit within it.
     */
    daemonStopPollMs: 1_000,
    /**
     * How long a daemon whose signal aborted (its object is being deleted, or the operator
     * stops) may take to return before Operon stops waiting for it: a daemon that ignores its
     * signal must not hold a deletion forever. Then a warning names it and the deletion goes on;
     * its function may still be running. kopf's `cancellation_timeout` waits forever by default;
     * a minute covers a graceful close of connections, and a daemon can ask for more.
     */
    daemonCancellationTimeoutMs: 60_000,
    /** Probe results are reused for this long, as kopf's `probing_max_age` (10 s). */
    probeCacheMs: 10_000,
    /**
     * The operator's name when none is given: `source.component` of its Events, the `controller`
     * of its log lines. Named after the framework so `kubectl describe` says who wrote the Event.
     */
    operatorName: 'operon',
  },
  /** The operator process. */
  operator: {
    /**
     * On SIGTERM, running handlers get this long to finish before their AbortSignal fires.
     * Kubernetes' terminationGracePeriodSeconds default is 30 s; we leave 5 s to exit cleanly.
     */
    shutdownGraceMs: 25_000,
  },
  /** Memory: given back after a burst of work (runtime/memory-reducer.ts), kept small while idle (cli/jit.ts). */
  memory: {
    /**
     * Handling cycles that make a burst worth a full garbage collection afterwards. A cycle of the
     * CVC operator allocates about 43 KB, so 1,000 cycles are some 40 MiB of garbage; below that
     * V8's own collections keep up, and an operator handling a change now and then never pays for
     * a full collection. Operon's own measure (docs/performance.md), no anchor has this.
     */
    reduceAfterCycles: 1_000,
    /**
     * Quiet time after the last cycle before that collection. In a burst, cycles end milliseconds
     * apart (one waits for one write at most), so 2 s without any means the queue is empty; a
     * wrong guess costs one collection more, at most one per `reduceAfterCycles` cycles, and
     * waiting longer only keeps the burst's memory longer. (V8's own memory reducer first looks
     * after 8 s, `--gc-memory-reducer-start-delay-ms`, and then finds the burst's allocation rate.)
     */
    reduceQuietMs: 2_000,
    /**
     * When `operon run` turns on V8's optimizing compilers (Maglev, TurboFan): `lazy` at the
     * operator's first busy second (`busyCpuMs` within `busyWindowMs`), `eager` from the start, as
     * plain `node` does (cli/jit.ts). Lazy, since an idle CVC operator then holds 66 MiB instead of
     * 72, and the bursts measured (1,000 and 10,000 CVCs, 1,000 Printers, restart, alternated)
     * cost no more CPU than eager (docs/performance.md, "Idle: optimizing compilers on demand").
     * controller-runtime and kopf have no counterpart: Go compiles ahead of time, and CPython, kopf's,
     * has no JIT unless built with its experimental one.
     */
    jit: 'lazy',
    /**
     * With `jit: 'lazy'`, `operon run` starts with V8's optimizing compilers (Maglev, TurboFan) off and turns them on
     * for good once the operator uses this much CPU within one `busyWindowMs` (cli/jit.ts).
     * Loading an operator's modules is enough calls to wake both, and an operator that then has
     * nothing to do keeps them and their output resident: about 6 MiB of an idle operator's 71
     * (docs/performance.md, "Idle: optimizing compilers on demand"). 100 ms in a second is a tenth
     * of a core: the idle CVC operator stayed below it (20 s, no `busy` log line), a burst of
     * 1,500 CVCs crossed it within 1.4 s (331 ms in its first window), so the compilers come on
     * within a second or two of real work. Operon's own measure; no anchor has this.
     */
    busyCpuMs: 100,
    /** The window `busyCpuMs` is measured over; also how late, at most, the compilers come on. */
    busyWindowMs: 1_000,
  },
  /** The helpers for handler authors: Events, conditions. */
  kits: {
    /**
     * A repeat of the same Event (same object, type, reason and message) within this long of its
     * last occurrence bumps `count` and `lastTimestamp` of the posted Event instead of creating a
     * new one. client-go's EventCorrelator aggregates over 10 minutes
     * (`defaultAggregateIntervalInSeconds = 600`); the API server keeps Events for 1 h
     * (`--event-ttl`), so a later repeat starts a fresh Event rather than patching one that may be gone.
     */
    eventAggregationWindowMs: 10 * 60_000,
    /** Recent Events and per-object spam buckets remembered, each an LRU. client-go: `maxLruCacheEntries = 4096`. */
    eventCacheSize: 4096,
    /** Posts per object allowed in a burst. client-go's `EventSourceObjectSpamFilter`: `defaultSpamBurst = 25`. */
    eventSpamBurst: 25,
    /** One more post per object is allowed every this long. client-go: `defaultSpamQPS = 1/300` (one per 5 min). */
    eventSpamRefillMs: 5 * 60_000,
    /**
     * An Event's message is cut to this many UTF-8 bytes: the API's `NoteLengthLimit` (1 KiB,
     * `pkg/apis/core/validation/events.go`), enforced for events.k8s.io Events and core Events with
     * an `eventTime`. Legacy core Events are not checked, but kopf and client-go's events library
     * cut at 1024 too, and a longer message only clutters `kubectl describe`.
     */
    eventMessageMaxBytes: 1024,
    /** A failing Event post is logged at most once per this long, with the count of the ones not logged. */
    eventFailureLogIntervalMs: 60_000,
    /**
     * Conditions kept in one list. Conditions are keyed by type, and types normally come from a
     * fixed set (Deployment has 3); the bound keeps `.status` small should types ever be made up
     * at run time (objects are limited to about 1.5 MiB by etcd).
     */
    maxConditions: 32,
  },
  /** Leader election (controller-runtime's timings). */
  leaderElection: {
    /**
     * How long a lease stays valid for the other candidates after they last saw it change: a
     * standby takes over at most this long after the leader stopped renewing. controller-runtime
     * (`pkg/leaderelection`, `defaultLeaseDuration`) uses 15 s; client-go requires it to exceed
     * the renew deadline.
     */
    leaseDurationMs: 15_000,
    /**
     * A leader that has not renewed its lease for this long stops all its controllers at once and
     * the process exits non-zero. controller-runtime's `defaultRenewDeadline` is 10 s: it stays
     * below the lease duration, so the old leader has stopped 5 s before a standby may take over.
     */
    renewDeadlineMs: 10_000,
    /**
     * Pause between attempts to acquire or renew. controller-runtime's `defaultRetryPeriod` is
     * 2 s; acquire attempts are jittered by client-go's `JitterFactor` 1.2 (2 s to 4.4 s), so
     * standbys do not hit the API server in lockstep.
     */
    retryPeriodMs: 2_000,
    /**
     * Whether a leader that stops gracefully gives its lease up (holder cleared), so a standby
     * takes over within a retry period instead of waiting out the lease duration on every rolling
     * update. controller-runtime's `LeaderElectionReleaseOnCancel` defaults to false because Go
     * managers may release while the binary is still running controllers. Operon releases only
     * after every controller has drained and every timer and daemon has been stopped (see
     * `runtime/operator.ts`), which is the condition controller-runtime names for turning it on.
     */
    releaseOnCancel: true,
  },
  /** Sharding (`operon run --shard-ring`): several active replicas, each handling its share of the objects. */
  sharding: {
    /**
     * Tokens each shard places on the hash ring. With 100 (the reference sharder's, timebertt's
     * kubernetes-controller-sharding), three shards get their share within a few percent, while
     * building the ring (100 × shards hashes) stays far below a millisecond.
     */
    virtualNodes: 100,
    /**
     * How long a shard Lease stays valid after the sharder last saw it change. The shard's objects
     * move after two durations without renewal (the reference's "uncertain" state). 15 s is
     * leader election's duration, as in the reference, which reuses client-go's elector for it.
     */
    leaseDurationMs: 15_000,
    /**
     * A shard that has not renewed its Lease for this long stops handling at once and exits
     * non-zero, as a leader does (the same 10 s): it has stopped long before the sharder may take
     * its Lease (two durations).
     */
    renewDeadlineMs: 10_000,
    /** Pause between renewals of a shard Lease, and between the sharder's reads of the Leases: leader election's 2 s. */
    retryPeriodMs: 2_000,
    /**
     * The sharder re-checks every object this often even when nothing changed, to repair anything
     * a lost event or a failed write left behind. The reference sharder syncs every 5 min.
     */
    syncPeriodMs: 5 * 60_000,
    /** A dead shard's Lease is deleted this long after it died, so Leases of replicas long gone do not pile up. The reference waits 1 min. */
    orphanAfterMs: 60_000,
    /**
     * Label writes (assign, drain, move) the sharder has in flight at once. The reference allows
     * 100 concurrent moves; more would only queue at the API server's priority and fairness.
     */
    concurrentWrites: 100,
    /** The holder the sharder writes into a shard Lease it takes from a shard that stopped renewing (fencing it). */
    sharderIdentity: 'operon-sharder',
  },
  /** Admission handlers (`validate`, `mutate`) and their webhook configurations. */
  admission: {
    /**
     * Operations a validate or mutate handler intercepts when it names none. CREATE and UPDATE
     * are where objects get their content; DELETE and CONNECT are opt-in, as in controller-gen's
     * `+kubebuilder:webhook` markers most operators use.
     */
    operations: ['CREATE', 'UPDATE'] as readonly ('CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT')[],
    /**
     * `Fail` is the API server's own default: a policy that is not enforced while the operator is
     * down is not a policy. Handlers that only advise (warnings, soft defaults) should pass `Ignore`.
     */
    failurePolicy: 'Fail' as 'Fail' | 'Ignore',
    /**
     * The API server's v1 default (10 s; v1beta1 had 30). Pepr uses 10 s; kopf 30 s, which holds a
     * `kubectl apply` for half a minute when a replica hangs.
     */
    timeoutSeconds: 10,
    /**
     * Largest request body read, in bytes. The API server refuses request bodies above 3 MiB
     * (`MaxRequestBodyBytes`), and an AdmissionReview carries the object and the old object, so
     * twice that plus the envelope. controller-runtime caps at 7 MiB for the same reason.
     */
    maxBodyBytes: 7 * 1024 * 1024,
  },
  /** The HTTPS webhook server and the certificates Operon manages for it. */
  webhooks: {
    /** controller-runtime's webhook port, so Services and NetworkPolicies written for kubebuilder fit. */
    port: 9443,
    /**
     * Keep-alive sockets are held this long. The API server reuses connections for up to 90 s;
     * Node's 5 s default made it send requests on sockets Node was closing (Pepr #3056).
     */
    keepAliveTimeoutMs: 90_000,
    /** Time allowed for a request's headers; the API server's longest webhook timeout is 30 s (Pepr uses 32 s). */
    headersTimeoutMs: 32_000,
    /** Lifetime of the self-managed CA. One year: a rotated CA must be re-injected into every configuration, so it is rare. */
    caLifetimeMs: 365 * 24 * 3_600_000,
    /** Lifetime of a serving certificate: cert-manager's default Certificate duration (90 days). */
    servingLifetimeMs: 90 * 24 * 3_600_000,
    /**
     * A certificate is replaced when less than this fraction of its lifetime is left. cert-manager
     * renews at 2/3 of the duration (1/3 left); the same leaves weeks to notice a failing rotation.
     */
    renewFraction: 1 / 3,
    /**
     * How often each replica re-reads the certificate Secret and checks expiry. controller-runtime's
     * certwatcher polls every 10 s; a minute keeps a GET per replica cheap, and rotation starts
     * weeks before expiry, so a replica picking up a new certificate a minute late loses nothing.
     */
    checkIntervalMs: 60_000,
  },
  /** The health and metrics server. */
  server: {
    /**
     * Where a `HealthServer` listens, as `host:port`. An empty host means every interface (`::`
     * and `0.0.0.0`): kubelet probes connect to the pod IP, so a loopback-only default would fail
     * every probe in a pod. Port 8081 is kubebuilder's `--health-probe-bind-address`; metrics go on
     * a server of their own at 8080, controller-runtime's metrics port (`operon run
     * --metrics-address :8080`, as deploy/ does).
     */
    bindAddress: ':8081',
    /**
     * A health check that has not answered in this long counts as failed. It is below the kubelet's
     * default probe `timeoutSeconds` of 1 s, so the probe gets an answer naming the slow check
     * instead of timing out with no explanation.
     */
    checkTimeoutMs: 800,
  },
  /** What `operon init` names a new project's example resource when no flag says otherwise. */
  init: {
    /** A group that reads as an example and is valid as it is: replace it with a domain you own. */
    group: 'example.com',
    /** The example resource: an `Echo` copies `spec.message` into its status. */
    kind: 'Echo',
    /** A new API is not yet stable: Kubernetes' versioning convention (and kubebuilder's tutorials) start at v1alpha1. */
    version: 'v1alpha1',
  },
  /** The testing kit (`operon-k8s/testing`). */
  testing: {
    /**
     * How long a test file's end waits for each namespace `cluster.namespace()` made to be gone.
     * The namespace controller removes a namespace's objects in a few seconds; an object holding
     * the finalizer of an operator the test has already stopped never goes, and after this the
     * kit says so and moves on rather than hanging the test run.
     */
    namespaceDeleteTimeoutMs: 60_000,
  },
} as const;

/** The type of {@link defaults}. */
export type Defaults = typeof defaults;
