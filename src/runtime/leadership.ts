/**
 * Leadership of one operator: without leader election every replica leads at once; with it, the
 * replica campaigns for the Lease ({@link LeaderElector}), leads while it holds it, and is told
 * once when it loses it. It keeps the health view (`leading`, holder, why lost) and gives the
 * Lease up on a graceful stop, never after losing it (another replica may already hold it).
 *
 * How the Operator uses it (controller-runtime's order): the watches start on every replica, so
 * `ready()` means the same everywhere and a takeover starts from a warm cache; the replica
 * campaigns; only the leader starts its controllers, event handlers and schedules. Keys of objects
 * changed meanwhile wait in the queue, so a new leader looks at every object once. Startup
 * handlers run on every replica before it campaigns (they prepare the process, as in kopf, where
 * they run regardless of peering). A leader that cannot renew within the renew deadline halts at
 * once: every handler's signal aborts, timers, daemons and schedules stop, no grace period and no
 * cleanup handlers (another replica may already be working); `health()` turns unhealthy and `run`
 * rejects with a `LeadershipLostError`, so `operon run` exits 1 and Kubernetes restarts the pod
 * as a standby (controller-runtime exits the same way).
 */
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import { defaults } from '../defaults.ts';
import { kubeLeaseLock, LeaderElector, type LeaderElectionMetrics, type LeadershipLostError } from './leader-election.ts';
import type { LeaderElectionOptions, LeaderElectionStatus } from './operator-options.ts';

/** What {@link Leadership.start} calls. */
export interface LeadershipCallbacks {
  /** This replica leads now (at once without leader election). */
  onLead(): void;
  /** The Lease was lost: stop all work now. Called at most once. */
  onLost(error: LeadershipLostError): void;
}

/**
 * The leadership of an operator.
 *
 * @example
 * ```ts
 * const leadership = new Leadership({ election, client, clock, logger });
 * leadership.start({ onLead: () => startControllers(), onLost: (error) => halt(error) });
 * await leadership.stop();
 * ```
 */
export class Leadership {
  readonly #election: LeaderElectionOptions | undefined;
  readonly #elector: LeaderElector | undefined;
  #lost: LeadershipLostError | undefined;

  constructor(options: { election: LeaderElectionOptions | undefined; client: KubeClient; clock: Clock; logger: Logger; metrics?: LeaderElectionMetrics | undefined }) {
    const election = (this.#election = options.election);
    if (!election) return;
    this.#elector = new LeaderElector({
      lock: kubeLeaseLock(options.client, { name: election.lease, namespace: election.namespace }),
      ...(election.identity !== undefined ? { identity: election.identity } : {}),
      ...(election.leaseDurationMs !== undefined ? { leaseDurationMs: election.leaseDurationMs } : {}),
      ...(election.renewDeadlineMs !== undefined ? { renewDeadlineMs: election.renewDeadlineMs } : {}),
      ...(election.retryPeriodMs !== undefined ? { retryPeriodMs: election.retryPeriodMs } : {}),
      clock: options.clock,
      logger: options.logger,
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
  }

  /** Campaigns (or leads at once without leader election). */
  start(callbacks: LeadershipCallbacks): void {
    const elector = this.#elector;
    if (!elector) {
      callbacks.onLead();
      return;
    }
    elector.start({
      onStartedLeading: () => callbacks.onLead(),
      onLost: (error) => {
        if (this.#lost) return;
        this.#lost = error;
        callbacks.onLost(error);
      },
    });
  }

  /** True while this replica may act: always without leader election. */
  get leading(): boolean {
    return this.#elector ? this.#elector.leading : true;
  }

  /** Why leadership was lost, once it was. */
  get lost(): LeadershipLostError | undefined {
    return this.#lost;
  }

  /** The health view; undefined without leader election. */
  status(): LeaderElectionStatus | undefined {
    const elector = this.#elector;
    if (!elector) return undefined;
    return {
      lease: elector.lease,
      identity: elector.identity,
      leading: elector.leading,
      ...(elector.holder ? { holder: elector.holder } : {}),
      ...(this.#lost ? { lost: this.#lost.message } : {}),
    };
  }

  /** Stops campaigning; releases the Lease on a graceful stop unless told not to or it was lost. */
  async stop(): Promise<void> {
    const release = !this.#lost && ((this.#election && this.#election.releaseOnCancel) ?? defaults.leaderElection.releaseOnCancel);
    await this.#elector?.stop({ release });
  }
}
