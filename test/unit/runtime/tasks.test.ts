import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, sleep } from '../../../src/base/clock.ts';
import { silentLogger } from '../../../src/base/logger.ts';
import type { Outcome } from '../../../src/handlers/execution.ts';
import { normalizeHandler } from '../../../src/handlers/normalize.ts';
import type { HandlerSpec } from '../../../src/handlers/types.ts';
import { ObjectTasks, type TaskRunner } from '../../../src/runtime/tasks.ts';

function harness(behave: (spec: HandlerSpec, signal: AbortSignal, n: number) => Promise<Outcome> | Outcome = () => ({ kind: 'success', result: undefined })) {
  const clock = new ManualClock(0);
  const runs: Array<{ id: string; at: number; retries: number }> = [];
  const exited: string[] = [];
  let lastChange: number | undefined;
  const runner: TaskRunner = {
    run: async (spec, _key, _uid, signal, state) => {
      runs.push({ id: spec.id, at: clock.now(), retries: state.retries });
      return behave(spec, signal, runs.length);
    },
    lastChangeAt: () => lastChange,
    exited: (key) => void exited.push(key),
  };
  const tasks = new ObjectTasks(runner, { clock, logger: silentLogger });
  return { clock, runs, exited, tasks, setLastChange: (t: number) => (lastChange = t) };
}

const timer = (options: Record<string, unknown>) => normalizeHandler('timer', () => {}, { id: 't', ...options });
const daemon = (options: Record<string, unknown> = {}) => normalizeHandler('daemon', () => {}, { id: 'd', ...options });

describe('timers', () => {
  it('run after the initial delay, then every interval from the end of the last run', async () => {
    const h = harness();
    h.tasks.ensure('ns/a', 'u1', [timer({ interval: '10s', initialDelay: '1s' })]);
    await h.clock.advance(31_000);
    assert.deepEqual(h.runs.map((r) => r.at), [1_000, 11_000, 21_000, 31_000]);
  });

  it('keep a fixed grid with sharp, even when a run takes time', async () => {
    const slowRun = (h: { clock: ManualClock }) => async (): Promise<Outcome> => {
      await sleep(h.clock, 3_000);
      return { kind: 'success', result: undefined };
    };
    const loose: { clock: ManualClock } & ReturnType<typeof harness> = harness(() => slowRun(loose)());
    loose.tasks.ensure('ns/a', 'u1', [timer({ interval: '10s' })]);
    await loose.clock.advance(40_000);
    assert.deepEqual(loose.runs.map((r) => r.at), [10_000, 23_000, 36_000]);
    const sharp: ReturnType<typeof harness> = harness(() => slowRun(sharp)());
    sharp.tasks.ensure('ns/a', 'u1', [timer({ interval: '10s', sharp: true })]);
    await sharp.clock.advance(40_000);
    assert.deepEqual(sharp.runs.map((r) => r.at), [10_000, 20_000, 30_000, 40_000]);
  });

  it('wait for the object to be idle', async () => {
    const h = harness();
    h.setLastChange(0);
    h.tasks.ensure('ns/a', 'u1', [timer({ interval: '1s', idle: '5s' })]);
    await h.clock.advance(4_000);
    assert.equal(h.runs.length, 0);
    await h.clock.advance(1_000);
    assert.deepEqual(h.runs.map((r) => r.at), [5_000]);
  });

  it('retry a failed tick after its delay, counting retries', async () => {
    const h = harness((_s, _sig, n) => (n === 1 ? { kind: 'retry', delayMs: 2_000, error: new Error('x') } : { kind: 'success', result: undefined }));
    h.tasks.ensure('ns/a', 'u1', [timer({ interval: '10s', initialDelay: 0 })]);
    await h.clock.advance(2_000);
    assert.deepEqual(h.runs, [{ id: 't', at: 0, retries: 0 }, { id: 't', at: 2_000, retries: 1 }]);
  });

  it('stop with their object, and start only once per object', async () => {
    const h = harness();
    const spec = timer({ interval: '1s' });
    h.tasks.ensure('ns/a', 'u1', [spec]);
    h.tasks.ensure('ns/a', 'u1', [spec]);
    await h.clock.advance(1_000);
    assert.equal(h.runs.length, 1);
    h.tasks.stopObject('u1');
    await h.clock.advance(5_000);
    assert.equal(h.runs.length, 1);
    assert.equal(h.tasks.size, 0);
  });

  it('stopped during a run: its signal aborts, it ends when the run returns, and it never runs again', async () => {
    let signalSeen: AbortSignal | undefined;
    let release = (): void => {};
    const h = harness(
      (_s, signal) =>
        new Promise<Outcome>((resolve) => {
          signalSeen = signal;
          release = () => resolve({ kind: 'success', result: undefined });
        }),
    );
    h.tasks.ensure('ns/a', 'u1', [timer({ interval: '1s' })]);
    await h.clock.advance(1_000);
    assert.equal(h.runs.length, 1);
    h.tasks.stopObject('u1');
    assert.equal(signalSeen?.aborted, true);
    assert.equal(h.tasks.size, 1, 'still running');
    release();
    await h.clock.advance(5_000);
    assert.equal(h.tasks.size, 0);
    assert.equal(h.runs.length, 1);
  });

  it('waiting, end at once on stopAll; running, are waited for', async () => {
    let release = (): void => {};
    const h = harness((spec) => (spec.id === 'slow' ? new Promise<Outcome>((resolve) => (release = () => resolve({ kind: 'success', result: undefined }))) : { kind: 'success', result: undefined }));
    h.tasks.ensure('ns/a', 'u1', [timer({ interval: '1s' })]);
    h.tasks.ensure('ns/b', 'u2', [timer({ id: 'slow', interval: '1s' })]);
    await h.clock.advance(1_000);
    let stopped = false;
    const stopping = h.tasks.stopAll(10_000).then(() => (stopped = true));
    await h.clock.advance(0);
    assert.equal(h.tasks.size, 1, 'the waiting timer ended at once');
    assert.equal(stopped, false);
    release();
    await stopping;
    assert.equal(h.tasks.size, 0);
  });

  it('end with a log line when a run fails unexpectedly', async () => {
    const h = harness(() => Promise.reject(new Error('runner bug')));
    h.tasks.ensure('ns/a', 'u1', [timer({ interval: '1s' })]);
    await h.clock.advance(5_000);
    assert.equal(h.runs.length, 1);
    assert.equal(h.tasks.size, 0);
  });

  it('stop when their filters no longer match', async () => {
    const h = harness();
    h.tasks.ensure('ns/a', 'u1', [timer({ interval: '1s' })]);
    h.tasks.ensure('ns/a', 'u1', []);
    await h.clock.advance(5_000);
    assert.equal(h.runs.length, 0);
  });
});

describe('daemons', () => {
  it('run once per object life, and are not restarted after they return', async () => {
    const h = harness();
    const spec = daemon();
    h.tasks.ensure('ns/a', 'u1', [spec]);
    await h.clock.advance(0);
    h.tasks.ensure('ns/a', 'u1', [spec]);
    await h.clock.advance(0);
    assert.equal(h.runs.length, 1);
    assert.deepEqual(h.exited, ['ns/a']);
  });

  it('restart after a retryable failure', async () => {
    const h = harness((_s, _sig, n) => (n === 1 ? { kind: 'retry', delayMs: 3_000, error: new Error('x') } : { kind: 'success', result: undefined }));
    h.tasks.ensure('ns/a', 'u1', [daemon()]);
    await h.clock.advance(3_000);
    assert.deepEqual(h.runs.map((r) => [r.at, r.retries]), [[0, 0], [3_000, 1]]);
  });

  it('are aborted on deletion and counted until they exit', async () => {
    let release = (): void => {};
    const h = harness(
      (_s, signal) =>
        new Promise<Outcome>((resolve) => {
          release = () => resolve({ kind: 'aborted', error: signal.reason });
        }),
    );
    h.tasks.ensure('ns/a', 'u1', [daemon()]);
    await h.clock.advance(0);
    assert.equal(h.tasks.stopObject('u1'), 1);
    release();
    await h.clock.advance(0);
    assert.equal(h.tasks.stopObject('u1'), 0);
  });

  it('are aborted by stopAll, which waits for them within the grace period', async () => {
    const h = harness((_s, signal) => new Promise<Outcome>((resolve) => signal.addEventListener('abort', () => resolve({ kind: 'aborted', error: signal.reason }))));
    h.tasks.ensure('ns/a', 'u1', [daemon()]);
    h.tasks.ensure('ns/b', 'u2', [daemon()]);
    await h.clock.advance(0);
    await h.tasks.stopAll(1_000);
    assert.equal(h.tasks.size, 0);
  });
});
