import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../../src/base/clock.ts';
import { recordingLogger } from '../../../src/base/logger.ts';
import { ApiError, TransportError } from '../../../src/client/errors.ts';
import { defaults } from '../../../src/defaults.ts';
import {
  Controller,
  ReconcileTimeoutError,
  ShutdownError,
  TerminalError,
  isTerminal,
  type ControllerOptions,
  type ReconcileContext,
  type ReconcileOutcome,
  type ReconcileResult,
} from '../../../src/engine/controller.ts';

/**
 * Lets pending work run: a few turns of the event loop, since workers yield once per run. No time
 * passes on the clock.
 */
async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A reconcile whose runs wait until the test releases them, recording what ran when and how many
 * runs of each key were in flight at once.
 */
function gatedReconciler() {
  const runs: Array<{ key: string; context: ReconcileContext; release: (result?: ReconcileResult) => void; fail: (error: unknown) => void }> = [];
  const inFlight = new Map<string, number>();
  let maxPerKey = 0;
  let maxTotal = 0;
  let total = 0;
  const reconcile = async (key: string, context: ReconcileContext): Promise<ReconcileResult> => {
    const now = (inFlight.get(key) ?? 0) + 1;
    inFlight.set(key, now);
    total++;
    maxPerKey = Math.max(maxPerKey, now);
    maxTotal = Math.max(maxTotal, total);
    const { promise, resolve, reject } = Promise.withResolvers<ReconcileResult>();
    runs.push({ key, context, release: resolve, fail: reject });
    try {
      return await promise;
    } finally {
      inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      total--;
    }
  };
  return {
    reconcile,
    runs,
    get maxPerKey() {
      return maxPerKey;
    },
    get maxTotal() {
      return maxTotal;
    },
    /** Releases every run still waiting, in start order. */
    releaseAll(result?: ReconcileResult): void {
      for (const run of runs.splice(0)) run.release(result);
    },
  };
}

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

describe('Controller', () => {
  let clock: ManualClock;
  const controllers: Controller[] = [];
  const make = (options: ControllerOptions): Controller => {
    const controller = new Controller({ clock, shutdownGraceMs: 0, ...options });
    controllers.push(controller);
    return controller;
  };

  beforeEach(() => {
    clock = new ManualClock();
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(async () => {
    await Promise.all(controllers.splice(0).map((c) => c.stop({ graceMs: 0 })));
    await settle();
    process.off('unhandledRejection', onUnhandled);
    assert.deepEqual(unhandled, [], 'no unhandled rejections');
  });

  it('never runs one key twice at once, even with free workers', async () => {
    const gate = gatedReconciler();
    const controller = make({ reconcile: gate.reconcile, concurrency: 8 });
    controller.start();
    for (let round = 0; round < 5; round++) {
      for (const key of ['ns/a', 'ns/b', 'ns/c']) controller.queue.add(key);
      await settle();
      for (const key of ['ns/a', 'ns/b', 'ns/c']) controller.queue.add(key);
      await settle();
      gate.releaseAll();
      await settle();
    }
    gate.releaseAll();
    await settle();
    assert.equal(gate.maxPerKey, 1);
  });

  it('runs exactly one follow-up for 100 adds during a run', async () => {
    const gate = gatedReconciler();
    const started: string[] = [];
    const controller = make({
      reconcile: (key, context) => {
        started.push(key);
        return gate.reconcile(key, context);
      },
    });
    controller.start();
    controller.queue.add('ns/a');
    await settle();
    assert.deepEqual(started, ['ns/a']);
    for (let i = 0; i < 100; i++) controller.queue.add('ns/a');
    await settle();
    assert.equal(started.length, 1);
    gate.releaseAll();
    await settle();
    assert.equal(started.length, 2);
    gate.releaseAll();
    await settle();
    await clock.advance(60_000);
    assert.equal(started.length, 2);
  });

  it('never has more than `concurrency` reconciles in flight', async () => {
    const gate = gatedReconciler();
    const controller = make({ reconcile: gate.reconcile, concurrency: 3 });
    controller.start();
    for (let i = 0; i < 20; i++) controller.queue.add(`ns/k${i}`);
    let done = 0;
    while (done < 20) {
      await settle();
      assert.ok(controller.inFlight <= 3);
      const run = gate.runs.shift();
      assert.ok(run, 'a run is waiting');
      run.release();
      done++;
    }
    await settle();
    assert.equal(gate.maxTotal, 3);
    assert.equal(controller.queue.depth, 0);
  });

  describe('with an adaptive limit', () => {
    /** A round: every run in flight takes `ms` and ends, as against a server with room to spare. */
    const round = async (gate: ReturnType<typeof gatedReconciler>, ms: number): Promise<void> => {
      await clock.advance(ms);
      gate.releaseAll();
      await settle();
    };

    it('adds workers while keys wait and runs stay as fast, never above max, and never runs one key twice', async () => {
      const gate = gatedReconciler();
      const limits: number[] = [];
      const controller = make({ reconcile: gate.reconcile, concurrency: { min: 2, max: 6 }, metrics: { limit: (n) => limits.push(n) } });
      controller.start();
      for (let i = 0; i < 60; i++) controller.queue.add(`ns/k${i}`);
      await settle();
      assert.equal(controller.inFlight, 2, 'starts at min');
      await round(gate, 10);
      assert.equal(controller.inFlight, 4, 'one more worker per run that ended with keys waiting');
      await round(gate, 10);
      assert.equal(controller.inFlight, 6);
      while (controller.queue.depth > 0) await round(gate, 10);
      await round(gate, 10);
      assert.equal(gate.maxTotal, 6, 'never above max');
      assert.equal(gate.maxPerKey, 1);
      assert.deepEqual(limits, [2, 3, 4, 5, 6], 'the limit metric follows each step');
    });

    it('lets workers go when runs fail on an overloaded server, and none of their runs is cut short', async () => {
      const gate = gatedReconciler();
      const aborted: string[] = [];
      const controller = make({
        concurrency: { min: 2, max: 6 },
        reconcile: async (key, context) => {
          context.signal.addEventListener('abort', () => aborted.push(key));
          return gate.reconcile(key, context);
        },
      });
      controller.start();
      for (let i = 0; i < 300; i++) controller.queue.add(`ns/k${i}`);
      await settle();
      for (let i = 0; i < 3; i++) await round(gate, 10);
      assert.equal(controller.concurrency, 6);
      for (let i = 0; i < 10; i++) {
        await clock.advance(10);
        // The server answers 429 to every run: its Priority and Fairness says this client's share is used up.
        for (const run of gate.runs.splice(0)) run.fail(new ApiError({ kind: 'TooManyRequests', code: 429, message: 'the server has received too many requests' }));
        await settle();
      }
      assert.equal(controller.concurrency, 2);
      assert.equal(controller.inFlight, 2, 'the extra workers left after their runs');
      assert.deepEqual(aborted, []);
      const stopped = controller.stop({ graceMs: 0 });
      gate.releaseAll();
      await stopped;
    });
  });

  it('does not let a continuously re-added key starve 50 others', async () => {
    const order: string[] = [];
    const controller = make({
      concurrency: 1,
      reconcile: (key) => {
        order.push(key);
        // A hot object: every run of it causes another event for it.
        if (key === 'ns/hot') controller.queue.add('ns/hot');
      },
    });
    controller.queue.add('ns/hot');
    for (let i = 0; i < 50; i++) controller.queue.add(`ns/k${i}`);
    controller.start();
    for (let turns = 0; new Set(order.filter((k) => k !== 'ns/hot')).size < 50; turns++) {
      assert.ok(turns < 1_000, 'every key gets a turn');
      await settle(1);
    }
    const othersDoneAt = order.indexOf('ns/k49');
    const hotRunsBefore = order.slice(0, othersDoneAt).filter((k) => k === 'ns/hot').length;
    assert.ok(hotRunsBefore <= 2, `the hot key ran ${hotRunsBefore} times before all others had one turn`);
  });

  it('lets fresh changes overtake low-priority keys of the initial list', async () => {
    const gate = gatedReconciler();
    const started: string[] = [];
    const controller = make({
      concurrency: 1,
      reconcile: (key, context) => {
        started.push(key);
        return gate.reconcile(key, context);
      },
    });
    controller.start();
    controller.queue.add('ns/first');
    await settle();
    for (let i = 0; i < 20; i++) controller.queue.add(`ns/initial-${i}`, { priority: 'low' });
    controller.queue.add('ns/fresh');
    for (let i = 0; i < 22; i++) {
      gate.releaseAll();
      await settle();
    }
    assert.equal(started.length, 22);
    assert.deepEqual(started.slice(0, 3), ['ns/first', 'ns/fresh', 'ns/initial-0']);
  });

  it('regression #17: logs a transient failure (API server unreachable) at warn for its first retries, then at error', async () => {
    const { logger, records } = recordingLogger();
    const controller = make({
      name: 'printer',
      logger,
      reconcile: () => {
        throw new TransportError('connect ECONNREFUSED 127.0.0.1:6443');
      },
    });
    controller.start();
    controller.queue.add('ns/a');
    await settle();
    for (let i = 0; i < 12; i++) await clock.advance(60_000);
    const levels = records.filter((r) => r.msg === 'reconcile failed; will retry').map((r) => r.level);
    const atWarn = defaults.logging.transientRetriesAtWarn + 1;
    assert.ok(levels.length > atWarn, `only ${levels.length} attempts`);
    assert.deepEqual(levels.slice(0, atWarn), Array(atWarn).fill('warn'));
    assert.ok(levels.slice(atWarn).every((l) => l === 'error'));
  });

  it('retries a failure with growing backoff and passes the attempt number', async () => {
    const { logger, records } = recordingLogger();
    const attempts: Array<{ at: number; attempt: number }> = [];
    const start = clock.now();
    const controller = make({
      name: 'printer',
      logger,
      reconcile: (_key, { attempt }) => {
        attempts.push({ at: clock.now() - start, attempt });
        if (attempt < 3) throw new Error('API unavailable');
      },
    });
    controller.start();
    controller.queue.add('ns/a');
    await settle();
    await clock.advance(5);
    await clock.advance(10);
    await clock.advance(19);
    assert.equal(attempts.length, 3);
    await clock.advance(1);
    assert.deepEqual(attempts, [
      { at: 0, attempt: 0 },
      { at: 5, attempt: 1 },
      { at: 15, attempt: 2 },
      { at: 35, attempt: 3 },
    ]);
    assert.equal(controller.queue.numRequeues('ns/a'), 0, 'success forgets the failures');
    const errors = records.filter((r) => r.level === 'error');
    assert.equal(errors.length, 3);
    assert.equal(errors[0]?.controller, 'printer');
    assert.equal(errors[0]?.namespace, 'ns');
    assert.equal(errors[0]?.name, 'a');
    assert.equal(errors[0]?.retryInMs, 5);
    assert.ok(errors[0]?.err instanceof Error);
  });

  it('does not retry a terminal error', async () => {
    let runs = 0;
    const outcomes: ReconcileOutcome[] = [];
    const controller = make({
      reconcile: async () => {
        runs++;
        throw new TerminalError('spec.image is required');
      },
      metrics: { reconciled: ({ outcome }) => outcomes.push(outcome) },
    });
    controller.start();
    controller.queue.add('ns/a');
    await settle();
    await clock.advance(10_000_000);
    assert.equal(runs, 1);
    assert.deepEqual(outcomes, ['terminal_error']);
    assert.equal(controller.queue.numRequeues('ns/a'), 0);
    assert.equal(clock.pending, 0);
  });

  it('treats any error with retryable: false as terminal', async () => {
    assert.equal(isTerminal(Object.assign(new Error('forbidden'), { retryable: false })), true);
    assert.equal(isTerminal(Object.assign(new Error('busy'), { retryable: true })), false);
    assert.equal(isTerminal('a string'), false);
    let runs = 0;
    const controller = make({
      reconcile: () => {
        runs++;
        throw Object.assign(new Error('forbidden'), { retryable: false });
      },
    });
    controller.start();
    controller.queue.add('a-cluster-object');
    await settle();
    await clock.advance(10_000_000);
    assert.equal(runs, 1);
  });

  it('honours requeueAfter and resets the failure backoff', async () => {
    const runsAt: number[] = [];
    const start = clock.now();
    const controller = make({
      reconcile: () => {
        runsAt.push(clock.now() - start);
        if (runsAt.length === 1) throw new Error('first try fails');
        return runsAt.length < 4 ? { requeueAfter: 1_000 } : undefined;
      },
    });
    controller.start();
    controller.queue.add('ns/a');
    await settle();
    await clock.advance(5);
    assert.equal(controller.queue.numRequeues('ns/a'), 0, 'requeueAfter forgets');
    await clock.advance(999);
    assert.equal(runsAt.length, 2);
    await clock.advance(1);
    assert.equal(runsAt.length, 3);
    await clock.advance(10_000);
    assert.deepEqual(runsAt, [0, 5, 1_005, 2_005]);
  });

  it('stops gracefully: running work finishes, queued work is not taken', async () => {
    const gate = gatedReconciler();
    const started: string[] = [];
    const controller = make({
      concurrency: 1,
      reconcile: (key, context) => {
        started.push(key);
        return gate.reconcile(key, context);
      },
    });
    controller.start();
    controller.queue.add('ns/running');
    controller.queue.add('ns/queued');
    await settle();
    let stopped = false;
    void controller.stop({ graceMs: 1_000 }).then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false, 'waits for the running reconcile');
    assert.equal(gate.runs[0]?.context.signal.aborted, false);
    controller.queue.add('ns/after-stop');
    gate.releaseAll();
    await settle();
    assert.equal(stopped, true);
    assert.deepEqual(started, ['ns/running']);
    assert.equal(clock.pending, 0, 'the grace timer is cancelled');
  });

  it('aborts running reconciles when the grace period ends', async () => {
    const reasons: unknown[] = [];
    const controller = make({
      reconcile: (_key, { signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            reasons.push(signal.reason);
            reject(signal.reason);
          });
        }),
    });
    controller.start();
    controller.queue.add('ns/a');
    controller.queue.add('ns/b');
    await settle();
    let stopped = false;
    const stopping = controller.stop({ graceMs: 1_000 }).then(() => (stopped = true));
    await clock.advance(999);
    assert.equal(stopped, false);
    assert.equal(reasons.length, 0);
    await clock.advance(1);
    await stopping;
    assert.equal(reasons.length, 2);
    assert.ok(reasons.every((r) => r instanceof ShutdownError));
    assert.equal(controller.inFlight, 0);
    assert.throws(() => controller.start(), /stopped/);
  });

  it('waits for a reconcile that ignores its aborted signal', async () => {
    const gate = gatedReconciler();
    const controller = make({ reconcile: gate.reconcile });
    controller.start();
    controller.queue.add('ns/a');
    await settle();
    let stopped = false;
    void controller.stop({ graceMs: 10 }).then(() => (stopped = true));
    await clock.advance(10);
    assert.equal(gate.runs[0]?.context.signal.aborted, true);
    assert.equal(stopped, false, 'a run is never abandoned while still going');
    gate.releaseAll();
    await settle();
    assert.equal(stopped, true);
  });

  it('aborts a run at its timeout and retries it', async () => {
    const reasons: unknown[] = [];
    const attempts: number[] = [];
    const { logger, records } = recordingLogger();
    const timedOut: boolean[] = [];
    const controller = make({
      timeoutMs: 100,
      logger,
      metrics: { reconciled: (info) => timedOut.push(info.timedOut) },
      reconcile: (_key, { signal, attempt }) => {
        attempts.push(attempt);
        if (attempt > 0) return;
        return new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            reasons.push(signal.reason);
            reject(new Error('request aborted'));
          });
        });
      },
    });
    controller.start();
    controller.queue.add('ns/a');
    await settle();
    await clock.advance(99);
    assert.equal(reasons.length, 0);
    await clock.advance(1);
    assert.equal(reasons.length, 1);
    assert.ok(reasons[0] instanceof ReconcileTimeoutError);
    await clock.advance(5);
    assert.deepEqual(attempts, [0, 1], 'retried after the failure backoff');
    assert.deepEqual(timedOut, [true, false]);
    const error = records.find((r) => r.level === 'error');
    assert.ok(error?.err instanceof ReconcileTimeoutError);
    assert.equal(clock.pending, 0, 'the second run cancelled its timeout');
  });

  it('survives reconciles that throw synchronously or return odd values', async () => {
    let runs = 0;
    const controller = make({
      concurrency: 2,
      // Deliberately not async: a plain throw must become a failure of the key, not a crash.
      reconcile: (key) => {
        runs++;
        if (key === 'ns/sync-throw' && runs < 3) throw new Error('boom');
        if (key === 'ns/odd') return { requeueAfter: Number.NaN };
        return undefined;
      },
    });
    controller.start();
    controller.queue.add('ns/sync-throw');
    controller.queue.add('ns/odd');
    await settle();
    await clock.advance(100);
    assert.ok(runs >= 3);
    assert.equal(controller.queue.depth, 0);
    assert.equal(controller.queue.scheduled, 0, 'NaN is not a requeue');
  });

  it('gives each run a logger naming its object, and none for cluster-scoped keys', async () => {
    const { logger, records } = recordingLogger();
    const controller = make({
      name: 'nodes',
      logger,
      reconcile: (_key, context) => {
        context.logger.info('hello');
        assert.equal(context.signal.aborted, false);
      },
    });
    controller.start();
    controller.queue.add('node-1');
    controller.queue.add('ns/pod-1');
    await settle();
    const hellos = records.filter((r) => r.msg === 'hello');
    assert.deepEqual(
      hellos.map((r) => ({ controller: r.controller, namespace: r.namespace, name: r.name })),
      [
        { controller: 'nodes', namespace: undefined, name: 'node-1' },
        { controller: 'nodes', namespace: 'ns', name: 'pod-1' },
      ],
    );
  });
});
