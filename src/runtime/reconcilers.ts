/**
 * Runs a resource's level-based reconcile handlers for one object, after its changing handlers
 * are done: each matching handler once per cycle, unless its retry delay is not over
 * (lifecycle/reconcile-retries.ts decides), all their changes in one patch, and the soonest
 * `requeueAfter` any of them asked for (or its retry delay) as the cycle's requeue.
 */
import type { Clock } from '../base/clock.ts';
import { lazyChild } from '../base/logger.ts';
import type { Stored } from '../client/types.ts';
import type { ReconcileContext, ReconcileResult } from '../engine/controller.ts';
import { matchesObject } from '../handlers/causes.ts';
import { parseDuration } from '../handlers/duration.ts';
import { attempt } from '../handlers/execution.ts';
import type { ResourceRegistration } from '../handlers/registry.ts';
import type { ReconcileReturn } from '../handlers/types.ts';
import { failingCondition } from '../lifecycle/failing.ts';
import { ReconcileRetries } from '../lifecycle/reconcile-retries.ts';
import { newPatch } from '../state/patch.ts';
import type { ProgressRecord, ProgressStorage } from '../state/progress.ts';
import { call, type HandlerContexts } from './contexts.ts';
import { reportOutcome, type Reporter } from './report.ts';
import type { ObjectWriter } from './writer.ts';

/** What the reconcile handlers of one resource need. */
export interface ReconcilersDeps {
  readonly registration: ResourceRegistration;
  readonly contexts: HandlerContexts;
  readonly writer: ObjectWriter;
  readonly reporter: Reporter;
  readonly storage: ProgressStorage;
  readonly clock: Clock;
  /** The status schema declares `conditions` (for `HandlerFailing`). */
  readonly statusConditions: boolean;
}

/**
 * The reconcile handlers of one resource.
 *
 * @example
 * ```ts
 * const reconcilers = new Reconcilers({ registration, contexts, writer, reporter, storage, clock, statusConditions: true });
 * return reconcilers.run(body, rc); // { requeueAfter } or undefined
 * ```
 */
export class Reconcilers {
  readonly #deps: ReconcilersDeps;
  readonly #retries = new ReconcileRetries();

  constructor(deps: ReconcilersDeps) {
    this.#deps = deps;
  }

  /** Runs the due reconcile handlers of `body`; resolves to the requeue they ask for. */
  async run(body: Stored, rc: ReconcileContext): Promise<ReconcileResult> {
    const { registration, contexts, writer, reporter, storage, clock, statusConditions } = this.#deps;
    const specs = registration.of('reconcile').filter((spec) => matchesObject(spec, { body, contextFor: (s) => contexts.probe(body, s) }));
    if (specs.length === 0) return undefined;
    const { uid, generation } = body.metadata;
    const patch = newPatch();
    let requeueAfter: number | undefined;
    const soonest = (ms: number | undefined): void => {
      if (ms !== undefined) requeueAfter = requeueAfter === undefined ? ms : Math.min(requeueAfter, ms);
    };
    for (const spec of specs) {
      const due = this.#retries.due(uid, spec.id, generation, clock.now());
      if (!due.run) {
        soonest(due.afterMs);
        continue;
      }
      const { state } = due;
      const record: ProgressRecord = { purpose: 'reconcile', started: new Date(state.startedAt).toISOString(), retries: state.retries };
      const logger = lazyChild(rc.logger, { handler: spec.id });
      const startedAt = new Date(state.startedAt);
      const { outcome, record: next } = await attempt(spec, (signal) => call(spec, contexts.build({ body, spec, patch, signal, retry: state.retries, startedAt, logger })), {
        record,
        clock,
        signal: rc.signal,
      });
      if (outcome.kind === 'aborted') return undefined;
      reportOutcome(reporter, body, spec, outcome, logger, 'reconcile', next.retries);
      failingCondition(body, patch, spec.id, outcome, { enabled: statusConditions, now: clock.now() });
      soonest(this.#retries.settle(uid, spec.id, outcome, state, next.retries, generation, clock.now()));
      if (outcome.kind === 'success') {
        if (storage.fetch(body, spec.id, 'reconcile')) storage.remove(patch, spec.id);
        const asked = (outcome.result as ReconcileReturn)?.requeueAfter;
        if (asked !== undefined) soonest(parseDuration(asked, `reconcile ${spec.id} requeueAfter`));
      } else {
        storage.store(patch, spec.id, next);
      }
    }
    await writer.apply(body, patch, rc.signal);
    return requeueAfter === undefined ? undefined : { requeueAfter };
  }

  /** Forgets a deleted object's retry state. */
  forget(uid: string): void {
    this.#retries.forget(uid);
  }
}
