/**
 * Leader election on a `coordination.k8s.io/v1` Lease, with client-go's algorithm
 * (`tools/leaderelection`) and controller-runtime's defaults ({@link defaults}.leaderElection):
 * of all replicas running the same operator, one leads and runs the controllers; the others keep
 * their caches warm and take over when the leader is gone.
 *
 * Guarantees:
 * - **Clock-skew tolerant expiry.** A lease held by another candidate counts as expired only when
 *   the candidate has seen no change of the Lease for its `leaseDurationSeconds`, measured on the
 *   candidate's own clock from the moment *it observed* the last change ({@link decideLease}).
 *   `renewTime` written by another machine is never compared with the local clock.
 * - **Optimistic concurrency.** Every write is a create (fails if the Lease exists) or a replace
 *   carrying the resourceVersion that was read, so two candidates can never both win one round.
 * - **A leader that cannot renew stops.** When no renewal has succeeded for `renewDeadlineMs`
 *   (measured from when the last successful renewal was *sent*, so a request that hangs counts
 *   against it, and a process paused with SIGSTOP notices on its first timer after waking), or
 *   when it sees another holder, `onLost` is called at once. `renewDeadlineMs < leaseDurationMs`
 *   leaves the old leader `leaseDurationMs - renewDeadlineMs` to stop before any standby may
 *   take over. client-go measures the deadline from the start of a renew round (a retry period
 *   after the last success); measuring from the last success is stricter by up to one period.
 * - **Release only when asked.** {@link LeaderElector.stop} with `release: true` clears the holder
 *   (client-go's `ReleaseOnCancel`, with `leaseDurationSeconds: 1`), so a standby takes over within
 *   its retry period. The caller decides when that is safe: the Operator releases only after its
 *   controllers have drained.
 *
 * Caveat, shared with every lease-based election: leadership is a belief with a deadline, not a
 * fence. A process that is paused between checking its lease and writing can write after it lost;
 * the renew deadline and handler abort signals narrow that window, they cannot close it.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sleep, systemClock, type Clock } from '../base/clock.ts';
import { silentLogger, type Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import { isApiError } from '../client/errors.ts';
import type { KubeObject, ResourceRef } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { canonical, decideLease, microTime, type LeaseRecord, type ObservedLease, type StoredLease } from './lease.ts';

export { decideLease, microTime, type LeaseDecision, type LeaseRecord, type ObservedLease, type StoredLease } from './lease.ts';

/** The Lease resource (`coordination.k8s.io/v1`, namespaced). */
export const LEASES_RESOURCE: ResourceRef = Object.freeze({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespaced: true });


/**
 * Where the lease lives. {@link kubeLeaseLock} is the real one; tests use an in-memory store with
 * the same conflict rules.
 */
export interface LeaseLock {
  /** `namespace/name`, for logs. */
  readonly description: string;
  /** The current lease, or undefined when it does not exist. */
  get(signal: AbortSignal): Promise<StoredLease | undefined>;
  /** Creates the lease; rejects when it already exists. Resolves with the new resourceVersion. */
  create(record: LeaseRecord, signal: AbortSignal): Promise<string>;
  /** Replaces the lease if it still has `resourceVersion`; rejects on a conflict. Resolves with the new resourceVersion. */
  update(record: LeaseRecord, resourceVersion: string, signal: AbortSignal): Promise<string>;
}

interface LeaseObject extends KubeObject {
  spec?: LeaseRecord;
}

/**
 * The Lease `namespace/name` through the API server.
 *
 * @example
 * ```ts
 * const lock = kubeLeaseLock(client, { name: 'printer-operator', namespace: 'operators' });
 * const shard = kubeLeaseLock(client, { name: 'replica-1', namespace: 'operators', labels: { 'sharding.operon.dev/ring': 'printers' } });
 * ```
 */
export function kubeLeaseLock(client: KubeClient, lease: { name: string; namespace: string; timeoutMs?: number; labels?: Readonly<Record<string, string>> }): LeaseLock {
  const { name, namespace, labels } = lease;
  const timeoutMs = lease.timeoutMs ?? defaults.leaderElection.renewDeadlineMs;
  // Labels are written with every create and replace, so a Lease always carries them (a shard
  // Lease's ring label is how the sharder finds it).
  const body = (record: LeaseRecord, resourceVersion?: string): LeaseObject => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(labels ? { labels: { ...labels } } : {}), ...(resourceVersion ? { resourceVersion } : {}) },
    spec: record,
  });
  return {
    description: `${namespace}/${name}`,
    async get(signal) {
      try {
        const found = await client.get<LeaseObject>(LEASES_RESOURCE, name, { namespace, signal, timeoutMs });
        return { record: found.spec ?? {}, resourceVersion: found.metadata.resourceVersion };
      } catch (error) {
        if (isApiError(error, 'NotFound')) return undefined;
        throw error;
      }
    },
    async create(record, signal) {
      const created = await client.create<LeaseObject>(LEASES_RESOURCE, body(record), { namespace, signal, timeoutMs });
      return created.metadata.resourceVersion;
    },
    async update(record, resourceVersion, signal) {
      const replaced = await client.replace<LeaseObject>(LEASES_RESOURCE, body(record, resourceVersion), { namespace, signal, timeoutMs });
      return replaced.metadata.resourceVersion;
    },
  };
}

/**
 * The identity controller-runtime uses: the host name (a pod's name, in a pod) and a random
 * suffix, so two processes on one host (or a restarted pod) never share an identity.
 *
 * @example
 * ```ts
 * defaultIdentity(); // 'printer-operator-7d9c5-x2x8q_3f0c…'
 * ```
 */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

/** Why a leader stopped leading: it could not renew in time, or it saw another holder. */
export class LeadershipLostError extends Error {
  /** Always `'LeadershipLostError'`. */
  override readonly name = 'LeadershipLostError';
  /** The lease, `namespace/name`. */
  readonly lease: string;
  /** What to do about it. */
  readonly hint: string;
  constructor(lease: string, message: string, options?: { cause?: unknown }) {
    super(`leader election lost: ${message}`, options);
    this.lease = lease;
    this.hint =
      'the process stops so that it can be restarted and stand by again; check that the operator may get and update ' +
      `leases in its namespace (operon rbac) and that the API server is reachable`;
  }
}

/** Hooks for leader-election metrics (`leader_election_master_status`, `leader_election_slowpath_total`). */
export interface LeaderElectionMetrics {
  leading?(leading: boolean): void;
  /** A renewal had to read the lease first (the fast path's update was refused). */
  slowpath?(): void;
}

/** Options of a {@link LeaderElector}. */
export interface LeaderElectorOptions {
  /** Reads and writes the Lease (e.g. {@link kubeLeaseLock}). */
  lock: LeaseLock;
  /** Default: the host name (the Pod's name in a cluster), `_` and a random UUID, unique per process. */
  identity?: string;
  /** Default: {@link defaults}.leaderElection.leaseDurationMs. */
  leaseDurationMs?: number;
  /** Default: {@link defaults}.leaderElection.renewDeadlineMs. */
  renewDeadlineMs?: number;
  /** Default: {@link defaults}.leaderElection.retryPeriodMs. */
  retryPeriodMs?: number;
  /** Time for renewals and expiry. Default: the system clock. */
  clock?: Clock;
  /** Where transitions are logged. Default: none. */
  logger?: Logger;
  /** Hooks for the leader-election metrics. Default: none. */
  metrics?: LeaderElectionMetrics;
  /** Jitter source in [0, 1); injectable for tests. */
  random?: () => number;
}

/** What the elector tells its user. */
export interface LeaderCallbacks {
  /** This candidate now leads: start the controllers. */
  onStartedLeading(): void;
  /** This candidate led and can no longer be sure it does: stop working at once. */
  onLost(error: LeadershipLostError): void;
  /** Another (or this) identity was seen holding the lease. */
  onNewLeader?(identity: string): void;
}

/** client-go's `JitterFactor`: acquire attempts wait between 1× and 2.2× the retry period. */
const JITTER_FACTOR = 1.2;

/**
 * Campaigns for a lease and keeps it renewed while leading.
 *
 * @example
 * ```ts
 * const elector = new LeaderElector({ lock: kubeLeaseLock(client, { name: 'printers', namespace: 'ops' }), logger });
 * elector.start({
 *   onStartedLeading: () => controllers.forEach((c) => c.start()),
 *   onLost: (error) => { logger.error({ err: error }, error.message); process.exit(1); },
 * });
 * // on SIGTERM, once the controllers have drained:
 * await elector.stop({ release: true });
 * ```
 */
export class LeaderElector {
  /** This candidate's identity, written to the Lease as its holder. */
  readonly identity: string;
  /** The timings in effect, after defaults. */
  readonly leaseDurationMs: number;
  /** The timings in effect, after defaults. */
  readonly renewDeadlineMs: number;
  /** The timings in effect, after defaults. */
  readonly retryPeriodMs: number;
  readonly #lock: LeaseLock;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: LeaderElectionMetrics;
  readonly #random: () => number;
  readonly #stop = new AbortController();
  #observed: ObservedLease | undefined;
  /** resourceVersion of our own last successful write, for the fast-path renewal. */
  #ownVersion: string | undefined;
  #leading = false;
  #lost: LeadershipLostError | undefined;
  #lastError: unknown;
  #loop: Promise<void> | undefined;
  /** Aborts the request in flight when the renew deadline passes. */
  #request: AbortController | undefined;
  #cancelDeadline: (() => void) | undefined;

  constructor(options: LeaderElectorOptions) {
    this.identity = options.identity ?? defaultIdentity();
    this.leaseDurationMs = options.leaseDurationMs ?? defaults.leaderElection.leaseDurationMs;
    this.renewDeadlineMs = options.renewDeadlineMs ?? defaults.leaderElection.renewDeadlineMs;
    this.retryPeriodMs = options.retryPeriodMs ?? defaults.leaderElection.retryPeriodMs;
    validateTimings(this.leaseDurationMs, this.renewDeadlineMs, this.retryPeriodMs);
    if (this.identity === '') throw new RangeError('leader election needs a non-empty identity');
    this.#lock = options.lock;
    this.#clock = options.clock ?? systemClock;
    this.#logger = (options.logger ?? silentLogger).child({ lease: options.lock.description, identity: this.identity });
    this.#metrics = options.metrics ?? {};
    this.#random = options.random ?? Math.random;
  }

  /** True while this candidate holds the lease and has renewed it within the deadline. */
  get leading(): boolean {
    return this.#leading;
  }

  /** The holder last seen on the lease (this identity while leading). */
  get holder(): string | undefined {
    const holder = this.#observed?.record.holderIdentity;
    return holder ? holder : undefined;
  }

  /** Set once leadership was lost; the elector does not campaign again. */
  get lost(): LeadershipLostError | undefined {
    return this.#lost;
  }

  /** The lease, `namespace/name`. */
  get lease(): string {
    return this.#lock.description;
  }

  /**
   * Starts campaigning: tries to acquire every retry period (jittered) until it leads, then
   * renews every retry period until {@link stop} or a loss.
   *
   * @example
   * ```ts
   * elector.start({ onStartedLeading: startControllers, onLost: (err) => halt(err) });
   * ```
   */
  start(callbacks: LeaderCallbacks): void {
    if (this.#loop) throw new Error('the leader elector is already started');
    this.#loop = this.#run(callbacks).catch((error: unknown) => this.#logger.error({ err: error }, 'leader election failed unexpectedly'));
  }

  /**
   * Stops campaigning and renewing. With `release`, a leader that has not lost clears the holder
   * so a standby takes over at once; call it only when this process no longer does leader work.
   *
   * @example
   * ```ts
   * await elector.stop({ release: true });
   * ```
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.#stop.abort();
    this.#request?.abort();
    this.#cancelDeadline?.();
    await this.#loop;
    const wasLeading = this.#leading;
    this.#setLeading(false);
    if (!options.release || !wasLeading || this.#lost || this.#ownVersion === undefined) return;
    const now = this.#clock.now();
    const record: LeaseRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: this.#observed?.record.leaseTransitions ?? 0,
    };
    try {
      await this.#lock.update(record, this.#ownVersion, AbortSignal.timeout(this.renewDeadlineMs));
      this.#logger.info('released the lease');
    } catch (error) {
      // A conflict means someone else wrote it: it is not ours to release any more.
      this.#logger.warn({ err: error }, 'could not release the lease; standbys take over once it expires');
    }
  }

  async #run(callbacks: LeaderCallbacks): Promise<void> {
    const stop = this.#stop.signal;
    this.#logger.info({ leaseDurationMs: this.leaseDurationMs, renewDeadlineMs: this.renewDeadlineMs, retryPeriodMs: this.retryPeriodMs }, 'campaigning for the lease');
    let announced: string | undefined;
    const announce = (): void => {
      const holder = this.holder;
      if (holder === undefined || holder === announced) return;
      announced = holder;
      if (holder !== this.identity) this.#logger.info({ holder }, `the lease is held by ${holder}`);
      callbacks.onNewLeader?.(holder);
    };

    // Acquire.
    for (;;) {
      if (stop.aborted) return;
      const started = this.#clock.now();
      const outcome = await this.#round(stop);
      announce();
      if (outcome === 'won') {
        this.#setLeading(true);
        this.#logger.info('acquired the lease; leading');
        this.#armDeadline(started, callbacks);
        callbacks.onStartedLeading();
        break;
      }
      const wait = this.retryPeriodMs + this.#random() * JITTER_FACTOR * this.retryPeriodMs;
      if (!(await this.#sleep(wait))) return;
    }

    // Renew.
    let lastRenew = this.#clock.now();
    for (;;) {
      if (!(await this.#sleep(this.retryPeriodMs))) return;
      if (!this.#leading) return;
      const started = this.#clock.now();
      if (started - lastRenew >= this.renewDeadlineMs) {
        // The process slept through its deadline (paused, starved event loop): no request may go out as leader.
        this.#lose(callbacks, `no renewal for ${started - lastRenew} ms, more than the renew deadline of ${this.renewDeadlineMs} ms`);
        return;
      }
      const request = new AbortController();
      this.#request = request;
      const outcome = await this.#round(AbortSignal.any([stop, request.signal]), true);
      this.#request = undefined;
      announce();
      if (!this.#leading || stop.aborted) return;
      if (outcome === 'won') {
        lastRenew = started;
        this.#armDeadline(started, callbacks);
      } else if (outcome === 'held') {
        this.#lose(callbacks, `the lease is now held by ${this.holder ?? 'another candidate'}`);
        return;
      }
    }
  }

  /** One acquire-or-renew round; never throws. */
  async #round(signal: AbortSignal, renewing = false): Promise<'won' | 'held' | 'failed'> {
    const now = this.#clock.now();
    try {
      // Fast path (client-go's): a leader renews with the resourceVersion of its own last write,
      // without reading first. A refusal means someone else wrote the lease; read and decide.
      if (renewing && this.#ownVersion !== undefined && this.#observed) {
        const { decision } = decideLease({ identity: this.identity, now, leaseDurationMs: this.leaseDurationMs, current: { record: this.#observed.record, resourceVersion: this.#ownVersion }, observed: this.#observed });
        if (decision.kind === 'update') {
          try {
            const version = await this.#lock.update(decision.record, this.#ownVersion, signal);
            this.#wrote(decision.record, version, now);
            return 'won';
          } catch (error) {
            if (signal.aborted) throw error;
            this.#metrics.slowpath?.();
            this.#logger.debug({ err: error }, 'fast renewal refused; reading the lease');
          }
        }
      }
      const current = await this.#lock.get(signal);
      const { decision, observed } = decideLease({ identity: this.identity, now, leaseDurationMs: this.leaseDurationMs, current, observed: this.#observed });
      this.#observed = observed;
      switch (decision.kind) {
        case 'held':
          this.#ownVersion = undefined;
          return 'held';
        case 'create':
          this.#wrote(decision.record, await this.#lock.create(decision.record, signal), now);
          return 'won';
        case 'update':
          this.#wrote(decision.record, await this.#lock.update(decision.record, decision.resourceVersion, signal), now);
          return 'won';
      }
    } catch (error) {
      this.#lastError = error;
      if (!signal.aborted || !this.#stop.signal.aborted) {
        const log = renewing ? this.#logger.warn.bind(this.#logger) : this.#logger.debug.bind(this.#logger);
        log({ err: error }, renewing ? `renewing the lease failed: ${describeError(error)}` : `acquiring the lease failed: ${describeError(error)}`);
      }
      return 'failed';
    }
  }

  #wrote(record: LeaseRecord, resourceVersion: string, now: number): void {
    this.#ownVersion = resourceVersion;
    this.#observed = { record, raw: canonical(record), at: now };
    this.#lastError = undefined;
  }

  /** The renew deadline as a timer, so a hanging request cannot postpone the loss. */
  #armDeadline(renewedAt: number, callbacks: LeaderCallbacks): void {
    this.#cancelDeadline?.();
    const remaining = renewedAt + this.renewDeadlineMs - this.#clock.now();
    this.#cancelDeadline = this.#clock.setTimer(remaining, () => {
      if (this.#leading && !this.#stop.signal.aborted) this.#lose(callbacks, `could not renew the lease within the renew deadline of ${this.renewDeadlineMs} ms`);
    });
  }

  #lose(callbacks: LeaderCallbacks, why: string): void {
    if (this.#lost) return;
    const last = this.#lastError === undefined ? '' : `; last error: ${describeError(this.#lastError)}`;
    const error = new LeadershipLostError(this.#lock.description, `${this.#lock.description}: ${why}${last}`, { cause: this.#lastError });
    this.#lost = error;
    this.#setLeading(false);
    this.#cancelDeadline?.();
    this.#request?.abort();
    this.#stop.abort();
    this.#logger.error({ err: error }, error.message);
    callbacks.onLost(error);
  }

  #setLeading(leading: boolean): void {
    if (this.#leading === leading) return;
    this.#leading = leading;
    this.#metrics.leading?.(leading);
  }

  /** Sleeps unless stopped; false when stopped. */
  async #sleep(ms: number): Promise<boolean> {
    try {
      await sleep(this.#clock, ms, this.#stop.signal);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * client-go's validation: leaseDuration > renewDeadline > JitterFactor × retryPeriod, all positive.
 *
 * @example
 * ```ts
 * validateTimings(15_000, 10_000, 2_000); // fine
 * validateTimings(10_000, 10_000, 2_000); // throws RangeError
 * ```
 */
export function validateTimings(leaseDurationMs: number, renewDeadlineMs: number, retryPeriodMs: number): void {
  if (!(retryPeriodMs > 0)) throw new RangeError(`leader election retryPeriod must be positive, not ${retryPeriodMs} ms`);
  if (!(leaseDurationMs > renewDeadlineMs)) {
    throw new RangeError(`leader election leaseDuration (${leaseDurationMs} ms) must be greater than renewDeadline (${renewDeadlineMs} ms)`);
  }
  if (!(renewDeadlineMs > JITTER_FACTOR * retryPeriodMs)) {
    throw new RangeError(`leader election renewDeadline (${renewDeadlineMs} ms) must be greater than ${JITTER_FACTOR} × retryPeriod (${retryPeriodMs} ms)`);
  }
}

function describeError(error: unknown): string {
  if (isApiError(error)) return `${error.kind}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
