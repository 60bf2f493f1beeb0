/**
 * One timer tick or one daemon life of one object: the handler runs against the object's latest
 * state (a daemon may live for days: it reads the cache every time), and its changes go out when
 * it returns, or earlier for a daemon that calls `flush()`. The scheduling around it (intervals,
 * idle, restarts, stopping) is `tasks.ts`'s.
 */
import type { Clock } from '../base/clock.ts';
import type { KubeObject, Stored } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { attempt, type Outcome } from '../handlers/execution.ts';
import type { TaskHandlerSpec } from '../handlers/types.ts';
import { newPatch, type ObjectPatch } from '../state/patch.ts';
import type { ProgressRecord } from '../state/progress.ts';
import { call, type HandlerContexts } from './contexts.ts';
import { reportOutcome, type Reporter } from './report.ts';
import type { ObjectWriter } from './writer.ts';

/** What a task body needs. */
export interface TaskBodyDeps {
  /** The latest known state of the object under `key` (cache, or our last write's result). */
  readonly latest: (key: string) => Stored | undefined;
  readonly contexts: HandlerContexts;
  readonly writer: ObjectWriter;
  readonly reporter: Reporter;
  readonly clock: Clock;
  /** True once the operator lost its lease: nothing may be written any more. */
  readonly halted: () => boolean;
}

/**
 * Runs timer or daemon `spec` once for object `uid` (under `key`), with its retry state.
 * `aborted` without a run when the object is gone or was replaced by one of the same name.
 *
 * @example
 * ```ts
 * const tasks = new ObjectTasks({ run: (spec, key, uid, signal, state) => runTask(deps, spec, key, uid, signal, state), … }, { clock, logger });
 * ```
 */
export async function runTask(deps: TaskBodyDeps, spec: TaskHandlerSpec, key: string, uid: string, signal: AbortSignal, state: { retries: number; startedAt: number }): Promise<Outcome> {
  const { contexts, writer, clock } = deps;
  const first = deps.latest(key);
  if (first === undefined || first.metadata.uid !== uid) return { kind: 'aborted', error: new Error('the object is gone') };
  let last = first;
  const bodyOf = (): Stored => {
    const now = deps.latest(key);
    if (now !== undefined && now.metadata.uid === uid) last = now;
    return last;
  };
  const patch = newPatch();
  const logger = contexts.logger(first, spec.id);
  const flush = async (): Promise<void> => {
    await writer.apply(bodyOf(), takePatch(patch));
  };
  const record: ProgressRecord = { purpose: spec.kind, started: new Date(state.startedAt).toISOString(), retries: state.retries };
  const extra = spec.kind === 'daemon' ? { flush } : {};
  const startedAt = new Date(state.startedAt);
  const { outcome } = await attempt(spec, (s) => call(spec, contexts.build({ body: bodyOf, spec, patch, signal: s, retry: state.retries, startedAt, logger }, extra)), {
    record,
    clock,
    signal,
    // A stopped daemon may finish what it was doing (close a connection) before its object goes.
    ...(spec.kind === 'daemon' ? { abortGraceMs: spec.cancellationTimeoutMs ?? defaults.handlers.daemonCancellationTimeoutMs } : {}),
  });
  if (outcome.kind !== 'aborted' || spec.kind === 'daemon') reportOutcome(deps.reporter, bodyOf(), spec, outcome, logger, spec.kind, state.retries + 1);
  if (outcome.kind === 'success' && outcome.result !== undefined) patch.status[spec.id] = outcome.result;
  // Another replica may be working already: what the task collected is dropped, not written.
  if (deps.halted()) return outcome;
  try {
    await writer.apply(bodyOf(), patch);
  } catch (error) {
    logger.warn({ err: error }, `${spec.kind} ${spec.id}: applying its patch failed`);
  }
  return outcome;
}

/** Moves a patch's content into a new patch and leaves the original empty, in place. */
function takePatch(patch: ObjectPatch<KubeObject>): ObjectPatch<KubeObject> {
  const taken = { ...patch } as ObjectPatch<KubeObject>;
  for (const key of Object.keys(patch)) delete patch[key];
  Object.assign(patch, newPatch());
  return taken;
}
