/**
 * The handling cycle's decisions as pure functions: {@link plan} looks at one object and says
 * what the cycle does next, {@link settle} turns a handler's outcome into the patch that records
 * it. No IO and no clock of their own: the runtime reads the object, calls these, and performs
 * what they return (the watcher's `machine.ts` does the same for watching).
 *
 * One cycle, kopf's lifecycle on controller-runtime's engine:
 * 0. An object carrying the pause annotation (`state/pause.ts`) is left alone: no handler, no
 *    finalizer change, no write; its timers and daemons stop until the annotation goes.
 * 1. The finalizer step ({@link finalizerStep}): an object no handler concerns is released; a
 *    finalizer a handler needs is added first, one none needs is removed.
 * 2. An object being deleted: its timers and daemons stop; once the daemons have exited, the
 *    delete handlers run, then the finalizer goes.
 * 3. Otherwise the cause is detected and **one** due handler of it runs; its result and progress
 *    go out in one patch, so a crash re-runs at most the handler that was running. More due
 *    handlers: the runtime plans again at once; handlers waiting on a delay: a requeue at the
 *    earliest.
 * 4. When every handler of the cause is done, progress is purged and the diff base stored in the
 *    same patch; then the level-based reconcile handlers run.
 *
 * Guarantees: `plan` never throws for any object (a `when` filter that throws does not match);
 * the same inputs always give the same plan.
 */
import type { KubeObject, Stored } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { detectCause, keepsDiffBase, matchesMeta, matchesObject, selectHandlers, type Reason, type SelectedHandler } from '../handlers/causes.ts';
import { startRecord, waitFor, type Outcome } from '../handlers/execution.ts';
import type { ResourceRegistration } from '../handlers/registry.ts';
import type { HandlerSpec, ObjectContext, TaskHandlerSpec } from '../handlers/types.ts';
import { compareWithDiffBase, diffBaseKey, encodeDiffBase, essenceOf, readDiffBase, writeDiffBase, type Comparison } from '../state/essence.ts';
import { newPatch, type ObjectPatch } from '../state/patch.ts';
import { isPaused } from '../state/pause.ts';
import { isDone, type ProgressRecord, type ProgressStorage } from '../state/progress.ts';
import { failingCondition } from './failing.ts';
import { finalizerStep, type FinalizerStep } from './finalizer.ts';
import type { JsonPatchOp } from '../client/patch.ts';

/** What the runtime knows about an object in memory (nothing of it is on the object). */
export interface ObjectMemory {
  /** This process has resumed the object (or saw it created): resume handlers are done. */
  readonly resumed: boolean;
  /** This process ran the optional delete handlers of the object's unheld deletion. */
  readonly optionalDeleteRan: boolean;
  /** Daemons of the object still running (they must exit before delete handlers run). */
  readonly daemonsRunning: number;
}

/** The fixed part of planning: one resource's handlers and where its state lives. */
export interface Planner {
  readonly registration: ResourceRegistration;
  readonly storage: ProgressStorage;
  /** Operon's finalizer name. */
  readonly finalizer: string;
  /** The annotation prefix (diff base, progress). */
  readonly prefix: string;
  /** The status schema declares `conditions`, where `HandlerFailing` goes. */
  readonly statusConditions: boolean;
  /** Builds the context a `when` filter sees, for an object. */
  readonly probe: (body: Stored, spec: HandlerSpec) => ObjectContext<KubeObject>;
  /**
   * Facts of the registration that never change while it runs, worked out once (by
   * {@link plannerFacts}) rather than on every cycle. Default: worked out on each call.
   */
  readonly facts?: PlannerFacts;
}

/** What {@link plan} asks of the handlers on every cycle, worked out once. */
export interface PlannerFacts {
  /** Optional delete handlers exist. */
  readonly optionalDelete: boolean;
  /** Some handler keeps a diff base (create, update, field). */
  readonly keepsDiffBase: boolean;
  /** Handlers that may need the finalizer (non-optional delete handlers, daemons). */
  readonly finalizerHandlers: readonly HandlerSpec[];
  /** Timers and daemons. */
  readonly tasks: readonly TaskHandlerSpec[];
  /** Handlers other than event handlers (what makes an object concerned). */
  readonly concerning: readonly HandlerSpec[];
  /** Fields named by field handlers and filters (they join the essence). */
  readonly fields: readonly string[];
}

/**
 * The facts {@link plan} needs of a registration, for {@link Planner.facts}.
 *
 * @example
 * ```ts
 * const planner = { registration, storage, finalizer, prefix, statusConditions, probe, facts: plannerFacts(registration) };
 * ```
 */
export function plannerFacts(registration: ResourceRegistration): PlannerFacts {
  const handlers = registration.handlers;
  return {
    optionalDelete: handlers.some((spec) => spec.kind === 'delete' && spec.optional),
    keepsDiffBase: keepsDiffBase(registration),
    finalizerHandlers: handlers.filter((spec) => (spec.kind === 'delete' && !spec.optional) || spec.kind === 'daemon'),
    tasks: registration.of('timer', 'daemon'),
    concerning: handlers.filter((spec) => spec.kind !== 'event'),
    fields: registration.fields,
  };
}

/** A handler a cause selected, with its progress on the object. */
export interface Pending {
  readonly selected: SelectedHandler;
  readonly record: ProgressRecord | undefined;
}

/** The state of the object's cause, as a {@link plan} of kind `run` or `finish` carries it. */
export interface CauseState {
  readonly reason: Reason;
  readonly comparison: Comparison | undefined;
  /** Every handler the cause selected, done or not. */
  readonly all: readonly Pending[];
  /** The object was created under this process: it needs no resuming. */
  readonly created: boolean;
}

/** What a cycle does next for an object; the runtime performs it and, unless told to stop, plans again. */
export type Plan =
  /** Write this finalizer patch (stopping the object's tasks first if `stopTasks`), then plan again with the result. */
  | { readonly kind: 'finalizer'; readonly step: 'add' | 'remove' | 'release'; readonly ops: JsonPatchOp[]; readonly stopTasks: boolean; readonly note: string }
  /** The object carries the pause annotation: no handler runs, nothing is written, its tasks stop. */
  | { readonly kind: 'paused' }
  /** Nothing to do; stop the object's tasks if `stopTasks`. */
  | { readonly kind: 'idle'; readonly stopTasks: boolean }
  /** Deleting: daemons must exit first; stop them and look again after `requeueAfterMs`. */
  | { readonly kind: 'await-daemons'; readonly daemons: number; readonly requeueAfterMs: number }
  /** Run `due` (one handler of the cause); {@link settle} its outcome. */
  | { readonly kind: 'run'; readonly tasks: TaskPlan; readonly cause: CauseState; readonly due: Pending; readonly record: ProgressRecord }
  /** Handlers of the cause are waiting on a delay: look again after `requeueAfterMs`. */
  | { readonly kind: 'wait'; readonly tasks: TaskPlan; readonly cause: CauseState; readonly requeueAfterMs: number }
  /** Every handler of the cause is done: write `patch`; then release a deletion, or run the reconcile handlers. */
  | { readonly kind: 'finish'; readonly tasks: TaskPlan; readonly cause: CauseState; readonly patch: ObjectPatch<KubeObject>; readonly diffBaseHashed: boolean };

/** The object's timers and daemons: stop them all (being deleted), or keep exactly these running. */
export type TaskPlan = { readonly kind: 'stop' } | { readonly kind: 'ensure'; readonly specs: readonly TaskHandlerSpec[] };

/**
 * What the cycle does next for `body` (see the module comment).
 *
 * @example
 * ```ts
 * const next = plan(planner, body, { resumed: false, optionalDeleteRan: false, daemonsRunning: 0 }, clock.now());
 * if (next.kind === 'finalizer') body = await writer.json(body, next.ops);
 * ```
 */
export function plan(planner: Planner, body: Stored, memory: ObjectMemory, now: number): Plan {
  // Before everything, the finalizer included: a paused object is left exactly as it is.
  if (isPaused(body, planner.prefix)) return { kind: 'paused' };
  const facts = planner.facts ?? plannerFacts(planner.registration);
  const matches = (spec: HandlerSpec): boolean => matchesObject(spec, { body, contextFor: (s) => planner.probe(body, s) });
  const step: FinalizerStep = finalizerStep({
    body,
    finalizer: planner.finalizer,
    concerned: facts.concerning.some((spec) => matchesMeta(spec, { body })),
    needed: facts.finalizerHandlers.some(matches),
    optionalDelete: facts.optionalDelete,
    optionalDeleteRan: memory.optionalDeleteRan,
  });
  switch (step.kind) {
    case 'release':
      return { kind: 'finalizer', step: 'release', ops: step.ops, stopTasks: true, note: 'finalizer removed: no handler concerns the object' };
    case 'ignore':
      return { kind: 'idle', stopTasks: true };
    case 'add':
    case 'remove':
      return { kind: 'finalizer', step: step.kind, ops: step.ops, stopTasks: false, note: step.kind === 'add' ? 'finalizer added' : 'finalizer removed: no handler needs it' };
    case 'cleanup':
      if (memory.daemonsRunning > 0) return { kind: 'await-daemons', daemons: memory.daemonsRunning, requeueAfterMs: defaults.handlers.daemonStopPollMs };
      return planCause(planner, facts, body, memory, now, STOP_TASKS);
    case 'handle':
      return planCause(planner, facts, body, memory, now, facts.tasks.length === 0 ? NO_TASKS : { kind: 'ensure', specs: facts.tasks.filter(matches) });
  }
}

const STOP_TASKS: TaskPlan = { kind: 'stop' };
const NO_TASKS: TaskPlan = { kind: 'ensure', specs: [] };

function planCause(planner: Planner, facts: PlannerFacts, body: Stored, memory: ObjectMemory, now: number, tasks: TaskPlan): Plan {
  const { registration, prefix } = planner;
  const { fields } = facts;
  const base = facts.keepsDiffBase ? readDiffBase(body, prefix, registration.state) : undefined;
  const comparison = base ? compareWithDiffBase(base, essenceOf(body, { prefix, extraFields: fields }), fields) : undefined;
  const reason = detectCause({
    deleting: Boolean(body.metadata.deletionTimestamp),
    hasFinalizer: body.metadata.finalizers?.includes(planner.finalizer) ?? false,
    comparison,
    neverHandled: base?.kind === 'none',
    resumePending: !memory.resumed,
    optionalDelete: facts.optionalDelete,
  });
  // Unreachable after a `cleanup` or `handle` finalizer step; kept so the plan is total.
  if (reason === 'free') return { kind: 'idle', stopTasks: false };
  // Creation never mixes with resume: an object created under this process needs no resuming.
  const created = reason === 'create';
  const selected = selectHandlers(registration, reason, { body, comparison, resumePending: !memory.resumed && !created, contextFor: (spec) => planner.probe(body, spec) });
  const all = selected.map((s): Pending => ({ selected: s, record: planner.storage.fetch(body, s.spec.id, reason) }));
  const cause: CauseState = { reason, comparison, all, created };
  const pending = all.filter((p) => !isDone(p.record));
  if (pending.length === 0) {
    const patch = newPatch();
    const diffBaseHashed = finishCause(planner, body, patch, cause, []);
    return { kind: 'finish', tasks, cause, patch, diffBaseHashed };
  }
  const due = pending.find((p) => waitFor(p.record, now) === 0);
  if (due === undefined) return { kind: 'wait', tasks, cause, requeueAfterMs: Math.min(...pending.map((p) => waitFor(p.record, now))) };
  return { kind: 'run', tasks, cause, due, record: due.record ?? startRecord(reason, now) };
}

/** What {@link settle} returns: the patch to write, and what follows it. */
export interface Settled {
  /** The handler's result, progress and condition; with the cause's end when `causeDone`. */
  readonly patch: ObjectPatch<KubeObject>;
  /** Every handler of the cause is done with this write. */
  readonly causeDone: boolean;
  /** When the cause is not done: plan again after this long (0: at once). */
  readonly requeueAfterMs: number;
  /** The diff base was stored as hashes (the object is too large for the annotation). */
  readonly diffBaseHashed: boolean;
}

/**
 * Completes `patch`, the one the handler wrote its changes into, with what records its outcome:
 * its result under `status[id]`, its progress record, the `HandlerFailing` condition, and, when
 * it was the cause's last handler, the cause's end (progress purged, diff base stored). `now` is
 * the time after the attempt.
 *
 * @example
 * ```ts
 * const { outcome, record: next } = await attempt(spec, call, { record: step.record, clock });
 * const settled = settle(planner, body, step, { outcome, next, patch }, clock.now());
 * await writer.apply(body, settled.patch);
 * ```
 */
export function settle(
  planner: Planner,
  body: Stored,
  step: Extract<Plan, { kind: 'run' }>,
  ran: { outcome: Exclude<Outcome, { kind: 'aborted' }>; next: ProgressRecord; patch: ObjectPatch<KubeObject> },
  now: number,
): Settled {
  const { spec } = step.due.selected;
  const { outcome, next, patch } = ran;
  failingCondition(body, patch, spec.id, outcome, { enabled: planner.statusConditions, now });
  if (outcome.kind === 'success' && outcome.result !== undefined) patch.status[spec.id] = outcome.result;
  planner.storage.store(patch, spec.id, next);
  const others = step.cause.all.filter((p) => p !== step.due && !isDone(p.record));
  const causeDone = isDone(next) && others.length === 0;
  if (causeDone) {
    const diffBaseHashed = finishCause(planner, body, patch, step.cause, [[spec.id, next]]);
    return { patch, causeDone, requeueAfterMs: 0, diffBaseHashed };
  }
  const waits = others.map((p) => waitFor(p.record, now));
  if (!isDone(next)) waits.push(waitFor(next, now));
  return { patch, causeDone, requeueAfterMs: Math.min(...waits), diffBaseHashed: false };
}

/**
 * Ends a cause in `patch`: progress is purged, except that permanent failures stay readable on
 * the object (as records of purpose `failed`, which no cause reads back) until the next cause
 * ends; and the diff base is stored. Returns true when the diff base had to be hashed.
 */
function finishCause(planner: Planner, body: Stored, patch: ObjectPatch<KubeObject>, cause: CauseState, settled: Array<[string, ProgressRecord]>): boolean {
  const { storage, prefix, registration } = planner;
  storage.purge(body, patch, 'reconcile');
  const failed = [...cause.all.filter((p) => p.record?.failure).map((p): [string, ProgressRecord] => [p.selected.spec.id, p.record as ProgressRecord]), ...settled.filter(([, r]) => r.failure)];
  for (const [id, record] of failed) storage.store(patch, id, { ...record, purpose: 'failed', delayed: undefined });
  if (!keepsDiffBase(registration) || cause.comparison === undefined || cause.reason === 'delete') return false;
  const location = registration.state;
  const base = readDiffBase(body, prefix, location);
  // Unchanged and where it belongs: nothing to write. A base still in the annotation moves to status.
  const misplaced = location === 'status' && body.metadata?.annotations?.[diffBaseKey(prefix)] !== undefined;
  if (base.kind !== 'none' && cause.comparison.diff.length === 0 && !misplaced) return false;
  const { value, hashed } = encodeDiffBase(cause.comparison.new, body, { fields: registration.fields, prefix, location });
  writeDiffBase(patch, body, value, prefix, location);
  return hashed;
}
