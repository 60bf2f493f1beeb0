import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject, Stored } from '../../../src/client/types.ts';
import type { Outcome } from '../../../src/handlers/execution.ts';
import { Registry, resource, type ResourceHandlers, type StateLocation } from '../../../src/handlers/registry.ts';
import type { ObjectContext } from '../../../src/handlers/types.ts';
import { finalizerStep } from '../../../src/lifecycle/finalizer.ts';
import { plan, settle, type ObjectMemory, type Plan, type Planner } from '../../../src/lifecycle/plan.ts';
import { builtin } from '../../../src/schema/resource.ts';
import { applyMergePatch, type ObjectPatch } from '../../../src/state/patch.ts';
import { AnnotationProgressStorage, StatusProgressStorage, type ProgressRecord } from '../../../src/state/progress.ts';

const FINALIZER = 'operon.dev/finalizer';
const T0 = Date.parse('2026-12-05T12:00:00Z');
const fresh: ObjectMemory = { resumed: false, optionalDeleteRan: false, daemonsRunning: 0 };
const seen: ObjectMemory = { ...fresh, resumed: true };

type Obj = Stored<KubeObject & { data?: Record<string, string> }>;

function object(extra: { finalizers?: string[]; deleting?: boolean; annotations?: Record<string, string>; labels?: Record<string, string>; data?: Record<string, string> } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'cm',
      namespace: 'ns',
      uid: 'u-1',
      resourceVersion: '1',
      generation: 1,
      ...(extra.finalizers ? { finalizers: extra.finalizers } : {}),
      ...(extra.deleting ? { deletionTimestamp: '2026-12-05T12:00:00Z' } : {}),
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
      ...(extra.labels ? { labels: extra.labels } : {}),
    },
    data: extra.data ?? { mode: 'slow' },
  } as Obj;
}

/** A planner over a fresh registry, filled by `register`. */
function plannerOf(register: (cms: ResourceHandlers<Stored<KubeObject>>) => void, state: StateLocation = 'annotations'): Planner {
  const registry = new Registry();
  const kind = builtin('v1', 'ConfigMap');
  register(resource(kind, { registry, state }));
  return {
    registration: registry.for(kind),
    storage: state === 'status' ? new StatusProgressStorage() : new AnnotationProgressStorage(),
    finalizer: FINALIZER,
    prefix: 'operon.dev',
    statusConditions: false,
    probe: (body) => ({ name: body.metadata.name, body }) as unknown as ObjectContext<KubeObject>,
  };
}

/** Applies a settled patch the way the API server would (merge, nulls delete). */
function applied(body: Obj, patch: ObjectPatch<KubeObject>): Obj {
  return applyMergePatch(body, { metadata: patch.metadata, status: patch.status }) as Obj;
}

/** The status stanza of Operon's state, as a test reads it. */
function operonStatus(body: Obj): Record<string, unknown> | undefined {
  return (body as { status?: { operon?: Record<string, unknown> } }).status?.operon;
}

/** Runs a `run` plan's handler to `outcome` and returns the object after its patch. */
function runTo(planner: Planner, body: Obj, step: Plan, outcome: Exclude<Outcome, { kind: 'aborted' }>, now = T0): { body: Obj; settled: ReturnType<typeof settle> } {
  assert.equal(step.kind, 'run');
  const record: ProgressRecord =
    outcome.kind === 'success'
      ? { ...step.record, retries: step.record.retries + 1, success: true, stopped: new Date(now).toISOString() }
      : outcome.kind === 'failure'
        ? { ...step.record, retries: step.record.retries + 1, failure: true, message: 'boom' }
        : { ...step.record, retries: step.record.retries + 1, delayed: new Date(now + outcome.delayMs).toISOString(), message: 'later' };
  const settled = settle(planner, body, step, { outcome, next: record, patch: { metadata: { labels: {}, annotations: {} }, spec: {}, status: {} } }, now);
  return { body: applied(body, settled.patch), settled };
}

const ok: Outcome = { kind: 'success', result: undefined };
const describePlan = (p: Plan): string => (p.kind === 'run' ? `run ${p.due.selected.spec.id} (${p.cause.reason})` : p.kind === 'finalizer' ? `finalizer ${p.step}` : p.kind);

describe('plan: one cycle of one object, as a table', () => {
  const full = plannerOf((cms) => {
    cms.onCreate(() => {}, { id: 'create' });
    cms.onUpdate(() => {}, { id: 'update' });
    cms.onResume(() => {}, { id: 'resume' });
    cms.onDelete(() => {}, { id: 'delete' });
  });
  const handled = (): Obj => {
    // The state after a successful creation: finalizer, diff base, no progress.
    let body = object({ finalizers: [FINALIZER] });
    body = runTo(full, body, plan(full, body, fresh, T0), ok).body;
    return body;
  };

  const cases: Array<{ name: string; planner: Planner; body: () => Obj; memory: ObjectMemory; expect: string }> = [
    { name: 'create, no finalizer yet: the finalizer goes on first', planner: full, body: () => object(), memory: fresh, expect: 'finalizer add' },
    { name: 'create, finalizer on: the create handler runs', planner: full, body: () => object({ finalizers: [FINALIZER] }), memory: fresh, expect: 'run create (create)' },
    { name: 'unchanged and already resumed: nothing to run, the cause finishes', planner: full, body: handled, memory: seen, expect: 'finish' },
    { name: 'unchanged, first sight in this process: resume', planner: full, body: handled, memory: fresh, expect: 'run resume (resume)' },
    { name: 'spec changed: update (resume mixes in on first sight)', planner: full, body: () => ({ ...handled(), data: { mode: 'fast' } }), memory: seen, expect: 'run update (update)' },
    { name: 'deleted with our finalizer: the delete handler runs', planner: full, body: () => ({ ...handled(), metadata: { ...handled().metadata, deletionTimestamp: '2026-12-05T12:01:00Z' } }), memory: seen, expect: 'run delete (delete)' },
    { name: 'deleted without our finalizer: nothing (already released)', planner: full, body: () => object({ deleting: true }), memory: seen, expect: 'idle' },
    {
      name: 'paused: nothing at all, not even the finalizer',
      planner: full,
      body: () => object({ annotations: { 'operon.dev/paused': 'true' } }),
      memory: fresh,
      expect: 'paused',
    },
    {
      name: 'paused while being deleted: the finalizer holds, no delete handler runs',
      planner: full,
      body: () => object({ finalizers: [FINALIZER], deleting: true, annotations: { 'operon.dev/paused': '' } }),
      memory: seen,
      expect: 'paused',
    },
    {
      name: 'pause annotation "false": handled as usual',
      planner: full,
      body: () => object({ annotations: { 'operon.dev/paused': 'false' } }),
      memory: fresh,
      expect: 'finalizer add',
    },
    {
      name: 'deleted while a daemon runs: wait for it first',
      planner: full,
      body: () => object({ finalizers: [FINALIZER], deleting: true }),
      memory: { ...seen, daemonsRunning: 1 },
      expect: 'await-daemons',
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(describePlan(plan(c.planner, c.body(), c.memory, T0)), c.expect));
  }

  it('create → finalizer → create handler → finish stores the diff base and purges progress', () => {
    let body = object();
    const first = plan(full, body, fresh, T0);
    assert.equal(first.kind, 'finalizer');
    body = object({ finalizers: [FINALIZER] });
    const step = plan(full, body, fresh, T0);
    assert.equal(step.kind === 'run' && step.cause.created, true, 'a created object is never resumed');
    const { body: after, settled } = runTo(full, body, step, ok);
    assert.equal(settled.causeDone, true);
    assert.ok(after.metadata.annotations?.['operon.dev/last-handled-configuration']?.includes('slow'));
    assert.equal(after.metadata.annotations?.['operon.dev/create'], undefined, 'progress is purged when the cause ends');
    assert.equal(describePlan(plan(full, after, seen, T0)), 'finish');
  });

  it('a deleted object is handled once: the delete handler, then the plan says finish (the runtime then releases it)', () => {
    const deleting = { ...handled(), metadata: { ...handled().metadata, deletionTimestamp: '2026-12-05T12:01:00Z' } } as Obj;
    const step = plan(full, deleting, seen, T0);
    assert.equal(step.kind === 'run' && step.tasks.kind, 'stop', 'timers and daemons stop on deletion');
    const { settled } = runTo(full, deleting, step, ok);
    assert.equal(settled.causeDone, true);
    assert.equal(settled.patch.metadata.annotations['operon.dev/last-handled-configuration'], undefined, 'a deletion stores no diff base');
  });
});

describe('plan: finalizer policy', () => {
  it('stealth: an object no handler concerns loses our finalizer and its tasks, and nothing runs', () => {
    const planner = plannerOf((cms) => cms.onCreate(() => {}, { id: 'create', labels: { team: 'a' } }));
    const step = plan(planner, object({ finalizers: ['other/keep', FINALIZER] }), seen, T0);
    assert.deepEqual(step, {
      kind: 'finalizer',
      step: 'release',
      stopTasks: true,
      note: 'finalizer removed: no handler concerns the object',
      ops: [
        { op: 'test', path: '/metadata/finalizers/1', value: FINALIZER },
        { op: 'remove', path: '/metadata/finalizers/1' },
      ],
    });
    assert.deepEqual(plan(planner, object(), seen, T0), { kind: 'idle', stopTasks: true });
    assert.equal(describePlan(plan(planner, object({ labels: { team: 'a' } }), fresh, T0)), 'run create (create)');
  });

  it('a finalizer no handler needs any more is removed before the handlers run', () => {
    const planner = plannerOf((cms) => cms.onCreate(() => {}, { id: 'create' }));
    const step = plan(planner, object({ finalizers: [FINALIZER] }), fresh, T0);
    assert.equal(describePlan(step), 'finalizer remove');
  });

  it('optional delete handlers run once on a deletion we do not hold, and add no finalizer', () => {
    const planner = plannerOf((cms) => cms.onDelete(() => {}, { id: 'gone', optional: true }));
    assert.equal(describePlan(plan(planner, object(), fresh, T0)), 'finish', 'no finalizer for optional delete handlers');
    assert.equal(describePlan(plan(planner, object({ deleting: true }), seen, T0)), 'run gone (delete)');
    assert.equal(describePlan(plan(planner, object({ deleting: true }), { ...seen, optionalDeleteRan: true }, T0)), 'idle');
  });

  it('a daemon needs the finalizer, a timer does not; both are kept running on the object', () => {
    const daemon = plannerOf((cms) => cms.daemon(() => {}, { id: 'watch' }));
    assert.equal(describePlan(plan(daemon, object(), fresh, T0)), 'finalizer add');
    const timer = plannerOf((cms) => cms.timer(() => {}, { id: 'tick', interval: '1m' }));
    const step = plan(timer, object(), fresh, T0);
    assert.equal(step.kind === 'finish' && step.tasks.kind === 'ensure' && step.tasks.specs.map((s) => s.id).join(), 'tick');
  });

  it('finalizerStep covers every (concerned, deleting, present, needed) combination', () => {
    const base = { finalizer: FINALIZER, optionalDelete: false, optionalDeleteRan: false };
    const kinds: string[] = [];
    for (const concerned of [false, true])
      for (const deleting of [false, true])
        for (const present of [false, true])
          for (const needed of [false, true]) {
            const body = object({ deleting, ...(present ? { finalizers: [FINALIZER] } : {}) });
            kinds.push(`${+concerned}${+deleting}${+present}${+needed}:${finalizerStep({ ...base, body, concerned, needed }).kind}`);
          }
    assert.deepEqual(kinds, [
      '0000:ignore', '0001:ignore', '0010:release', '0011:release', '0100:ignore', '0101:ignore', '0110:release', '0111:release',
      '1000:handle', '1001:add', '1010:remove', '1011:handle', '1100:ignore', '1101:ignore', '1110:cleanup', '1111:cleanup',
    ]);
  });
});

describe('plan and settle: retries, delays and failures', () => {
  const two = plannerOf((cms) => {
    cms.onCreate(() => {}, { id: 'first' });
    cms.onCreate(() => {}, { id: 'second' });
  });

  it('runs one handler per cycle, in registration order; the next is due at once', () => {
    const body = object();
    const step = plan(two, body, fresh, T0);
    assert.equal(describePlan(step), 'run first (create)');
    const { body: after, settled } = runTo(two, body, step, ok);
    assert.deepEqual([settled.causeDone, settled.requeueAfterMs], [false, 0]);
    assert.equal(describePlan(plan(two, after, fresh, T0)), 'run second (create)');
  });

  it('a retry waits for its delay: the plan says wait until it is due, then runs it again with its retry count', () => {
    const one = plannerOf((cms) => cms.onCreate(() => {}, { id: 'only' }));
    const body = object();
    const { body: after, settled } = runTo(one, body, plan(one, body, fresh, T0), { kind: 'retry', delayMs: 5_000, error: new Error('later') });
    assert.deepEqual([settled.causeDone, settled.requeueAfterMs], [false, 5_000]);
    assert.deepEqual(plan(one, after, fresh, T0 + 1_000).kind === 'wait' && plan(one, after, fresh, T0 + 1_000), {
      ...(plan(one, after, fresh, T0 + 1_000) as Extract<Plan, { kind: 'wait' }>),
      requeueAfterMs: 4_000,
    });
    const again = plan(one, after, fresh, T0 + 5_000);
    assert.equal(again.kind === 'run' && again.record.retries, 1);
  });

  it('a handler that failed for good ends the cause; its failure stays on the object as a `failed` record', () => {
    const body = object();
    const first = runTo(two, body, plan(two, body, fresh, T0), { kind: 'failure', error: new Error('boom') });
    assert.equal(first.settled.causeDone, false, 'the other handler still runs');
    const second = runTo(two, first.body, plan(two, first.body, fresh, T0), ok);
    assert.equal(second.settled.causeDone, true);
    const kept = JSON.parse(second.body.metadata.annotations?.['operon.dev/first'] ?? '{}') as ProgressRecord;
    assert.deepEqual([kept.purpose, kept.failure], ['failed', true]);
    assert.equal(second.body.metadata.annotations?.['operon.dev/second'], undefined);
  });

  it('with a status that declares conditions, a failing handler sets HandlerFailing in the same patch', () => {
    const one = { ...plannerOf((cms) => cms.onCreate(() => {}, { id: 'spec.text' })), statusConditions: true };
    const body = object();
    const { settled } = runTo(one, body, plan(one, body, fresh, T0), { kind: 'retry', delayMs: 1_000, error: new Error('no route') });
    const conditions = (settled.patch.status as { conditions?: Array<{ type: string; status: string; reason: string }> }).conditions;
    assert.deepEqual(conditions?.map((c) => [c.type, c.status, c.reason]), [['HandlerFailing', 'True', 'SpecText']]);
  });
});

describe("plan with state: 'status'", () => {
  const planner = plannerOf((cms) => {
    cms.onCreate(() => {}, { id: 'create' });
    cms.onUpdate(() => {}, { id: 'update' });
  }, 'status');

  it('keeps the diff base in status.operon, in the same patch as the status, and no annotation', () => {
    const body = object();
    const step = plan(planner, body, fresh, T0);
    assert.equal(describePlan(step), 'run create (create)');
    const { body: after, settled } = runTo(planner, body, step, ok);
    assert.equal(settled.causeDone, true);
    assert.deepEqual(Object.keys(settled.patch.metadata.annotations), [], 'nothing for the object itself: one request, to status');
    assert.match(String(operonStatus(after)?.['lastHandledConfiguration']), /"mode":"slow"/);
    assert.deepEqual(after.metadata.annotations ?? {}, {});
    assert.equal(describePlan(plan(planner, after, seen, T0)), 'finish', 'handled: nothing to run');
    const changed = { ...after, data: { mode: 'fast' } } as Obj;
    assert.equal(describePlan(plan(planner, changed, seen, T0)), 'run update (update)', 'a change is seen against the base in status');
  });

  it('keeps progress in status too while a handler retries', () => {
    const body = object();
    const step = plan(planner, body, fresh, T0);
    const { body: after } = runTo(planner, body, step, { kind: 'retry', delayMs: 1000, error: new Error('later') } as Exclude<Outcome, { kind: 'aborted' }>);
    assert.ok((operonStatus(after)?.['progress'] as Record<string, unknown> | undefined)?.['create'], 'the retry is recorded in status.operon.progress');
    assert.deepEqual(after.metadata.annotations ?? {}, {});
  });

  it('reads a base left in the annotation (handled before the switch) and moves it to status with the next cause', () => {
    const annotated = object({ annotations: { 'operon.dev/last-handled-configuration': JSON.stringify({ data: { mode: 'slow' } }) } });
    assert.equal(describePlan(plan(planner, annotated, seen, T0)), 'finish', 'not taken for a new object');
    const changed = { ...annotated, data: { mode: 'fast' } } as Obj;
    const step = plan(planner, changed, seen, T0);
    assert.equal(describePlan(step), 'run update (update)');
    const { body: after } = runTo(planner, changed, step, ok);
    assert.equal(after.metadata.annotations?.['operon.dev/last-handled-configuration'], undefined, 'the annotation is removed');
    assert.match(String(operonStatus(after)?.['lastHandledConfiguration']), /"mode":"fast"/);
  });
});
