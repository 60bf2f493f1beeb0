/**
 * Every default Operon uses, in one place, each with the reason it has this value and where the
 * value comes from. Options elsewhere say "default: {@link defaults}.x" and never repeat the number.
 *
 * This module imports nothing: every layer may read it.
 *
 * @example
 * ```ts
 * import { defaults } from 'operon';
 * console.log(defaults.watch.timeoutSeconds); // 290
 * ```
 */
export const defaults = {
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
    /** Keep-alive sockets per API server. Node's Agent default is unlimited; 64 bounds FDs under a burst. */
    maxSockets: 64,
    /**
     * An idle pooled socket is closed after this long. The kube-apiserver closes idle connections
     * after 90 s (`IdleTimeout` in k8s.io/apiserver secure serving) and load balancers often sooner;
     * reusing a socket the server is closing fails a request that was never processed. Closing
     * ours first avoids that race at the cost of an occasional extra TLS handshake.
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
  watch: {
    /**
     * Server-side watch timeout. kube-rs sends 290 s and documents that it must stay under 295 s
     * (kubernetes/kubernetes#6513); a server-side close is the healthy path and resumes cheaply.
     */
    timeoutSeconds: 290,
    /**
     * A watch stream that delivers nothing (not even a bookmark) for this long is presumed stalled
     * and reconnected. The server sends a bookmark about every 60 s and 2 s before its timeout;
     * kube-rs uses timeout + 5 s, kopf 70 s. We take the larger, kube-rs', so a quiet but healthy
     * watch is never torn down.
     */
    idleTimeoutMs: 295_000,
    /** LIST page size. client-go and kube-rs both use 500. */
    pageSize: 500,
    /** Reconnect backoff: client-go's reflector and kube-rs `DefaultBackoff` use 800 ms → 30 s, ×2, jitter. */
    backoffInitialMs: 800,
    backoffMaxMs: 30_000,
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
  queue: {
    /** Per-object failure backoff: client-go's ItemExponentialFailureRateLimiter uses 5 ms → 1000 s. */
    failureBaseDelayMs: 5,
    failureMaxDelayMs: 1_000_000,
    /**
     * Objects processed at once. controller-runtime defaults to 1, kube-rs to unbounded (kube-rs#1473
     * calls that a footgun). Handlers mostly wait on the network, so a small bound gives throughput
     * without flooding the API server.
     */
    concurrency: 8,
    /**
     * How long a record of the operator's own write waits for its watch echo (see
     * `engine/own-writes.ts`). An echo normally arrives within milliseconds; a minute covers a slow
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
  operator: {
    /**
     * On SIGTERM, running handlers get this long to finish before their AbortSignal fires.
     * Kubernetes' terminationGracePeriodSeconds default is 30 s; we leave 5 s to exit cleanly.
     */
    shutdownGraceMs: 25_000,
  },
} as const;

/** The type of {@link defaults}. */
export type Defaults = typeof defaults;
