import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/base/clock.ts';
import { WorkQueue } from '../../../src/engine/queue.ts';

/** Takes every ready key, marking each done at once; returns them in hand-out order. */
async function drain(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.depth > 0) {
    const key = await queue.get();
    assert.ok(key !== undefined);
    keys.push(key);
    queue.done(key);
  }
  return keys;
}

describe('WorkQueue', () => {
  it('dedupes a key added several times', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    assert.equal(queue.depth, 1);
    assert.deepEqual(await drain(queue), ['ns/a']);
  });

  it('does not hand out a key again while it is processing', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add('ns/a');
    assert.equal(await queue.get(), 'ns/a');
    queue.add('ns/a');
    assert.equal(queue.depth, 0, 'a processing key is only marked dirty');
    let handedOut: string | undefined;
    void queue.get().then((key) => (handedOut = key));
    await Promise.resolve();
    assert.equal(handedOut, undefined);
    queue.done('ns/a');
    await Promise.resolve();
    assert.equal(handedOut, 'ns/a', 'requeued on done and handed to the waiting getter');
  });

  it('coalesces 100 adds during one run into exactly one follow-up', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add('ns/a');
    const key = await queue.get();
    assert.equal(key, 'ns/a');
    for (let i = 0; i < 100; i++) queue.add('ns/a');
    queue.done('ns/a');
    assert.deepEqual(await drain(queue), ['ns/a']);
    assert.equal(queue.depth, 0);
  });

  it('sends a key re-added during its run to the back (FIFO fairness)', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add('hot');
    assert.equal(await queue.get(), 'hot');
    queue.add('hot');
    queue.add('b');
    queue.add('c');
    queue.done('hot');
    assert.deepEqual(await drain(queue), ['b', 'c', 'hot']);
  });

  it('keeps the earliest of several addAfter requests', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter('ns/a', 100);
    queue.addAfter('ns/a', 50);
    queue.addAfter('ns/a', 70);
    await clock.advance(49);
    assert.equal(queue.depth, 0);
    await clock.advance(1);
    assert.equal(queue.depth, 1);
    assert.deepEqual(await drain(queue), ['ns/a']);
    await clock.advance(1_000);
    assert.equal(queue.depth, 0, 'the later requests were subsumed');
    assert.equal(clock.pending, 0);
  });

  it('lets an immediate add beat a later scheduled one', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter('ns/a', 1_000);
    queue.add('ns/a');
    assert.equal(clock.pending, 0, 'the timer is cancelled');
    assert.deepEqual(await drain(queue), ['ns/a']);
    await clock.advance(1_000);
    assert.equal(queue.depth, 0);
  });

  it('ignores addAfter for a key that is already ready', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    queue.add('ns/a');
    queue.addAfter('ns/a', 10);
    assert.equal(clock.pending, 0);
    assert.deepEqual(await drain(queue), ['ns/a']);
  });

  it('holds a scheduled key that comes due during its run until done', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    queue.add('ns/a');
    await queue.get();
    queue.addAfter('ns/a', 10);
    await clock.advance(10);
    assert.equal(queue.depth, 0);
    queue.done('ns/a');
    assert.deepEqual(await drain(queue), ['ns/a']);
  });

  it('reaches delays longer than one timer can hold', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    const fortyDays = 40 * 24 * 3600 * 1000;
    queue.addAfter('ns/a', fortyDays);
    await clock.advance(2 ** 31);
    assert.equal(queue.depth, 0);
    await clock.advance(fortyDays - 2 ** 31 - 1);
    assert.equal(queue.depth, 0);
    await clock.advance(1);
    assert.equal(queue.depth, 1);
  });

  it('backs off failures 5, 10, 20 … ms up to the cap, and forget resets', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    const delays: number[] = [];
    for (let i = 0; i < 22; i++) delays.push(queue.addRateLimited('ns/a'));
    assert.deepEqual(delays.slice(0, 5), [5, 10, 20, 40, 80]);
    assert.equal(delays[17], 5 * 2 ** 17);
    assert.equal(delays[18], 1_000_000, 'capped at 1000 s from the 19th failure');
    assert.equal(delays[21], 1_000_000);
    assert.equal(queue.numRequeues('ns/a'), 22);
    queue.forget('ns/a');
    assert.equal(queue.numRequeues('ns/a'), 0);
    assert.equal(queue.addRateLimited('ns/a'), 5);
  });

  it('makes a rate-limited key ready only after its delay', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    queue.add('ns/a');
    await queue.get();
    queue.addRateLimited('ns/a'); // 5 ms
    queue.done('ns/a');
    await clock.advance(4);
    assert.equal(queue.depth, 0);
    await clock.advance(1);
    assert.equal(queue.depth, 1);
    await queue.get();
    queue.addRateLimited('ns/a'); // 10 ms
    queue.done('ns/a');
    await clock.advance(9);
    assert.equal(queue.depth, 0);
    await clock.advance(1);
    assert.equal(queue.depth, 1);
  });

  it('hands out normal keys before low-priority ones, each in FIFO order', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    for (let i = 0; i < 5; i++) queue.add(`ns/initial-${i}`, { priority: 'low' });
    queue.add('ns/fresh');
    queue.add('ns/fresher');
    assert.deepEqual(await drain(queue), ['ns/fresh', 'ns/fresher', 'ns/initial-0', 'ns/initial-1', 'ns/initial-2', 'ns/initial-3', 'ns/initial-4']);
  });

  it('promotes a low-priority key when it is added with normal priority', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add('ns/x', { priority: 'low' });
    queue.add('ns/y', { priority: 'low' });
    queue.add('ns/y');
    queue.add('ns/x', { priority: 'low' });
    assert.deepEqual(await drain(queue), ['ns/y', 'ns/x']);
  });

  it('keeps the higher priority when a scheduled request is subsumed', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    queue.add('ns/other', { priority: 'low' });
    queue.addAfter('ns/a', 100);
    queue.add('ns/a', { priority: 'low' });
    assert.deepEqual(await drain(queue), ['ns/a', 'ns/other']);
  });

  it('shuts down: waiting and later gets resolve undefined, adds and timers are dropped', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    const waiting = queue.get();
    queue.addAfter('ns/later', 100);
    queue.shutDown();
    assert.equal(await waiting, undefined);
    queue.add('ns/a');
    queue.addRateLimited('ns/b');
    assert.equal(queue.depth, 0);
    assert.equal(clock.pending, 0);
    assert.equal(await queue.get(), undefined);
    assert.ok(queue.isShutDown);
  });

  it('lets a key processing at shutdown finish without requeueing it', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    queue.add('ns/a');
    await queue.get();
    queue.add('ns/a');
    queue.shutDown();
    assert.equal(queue.processing, 1);
    queue.done('ns/a');
    assert.equal(queue.processing, 0);
    assert.equal(queue.depth, 0);
  });

  it('reports metrics through its hooks', async () => {
    const clock = new ManualClock();
    const seen = { depth: [] as number[], added: [] as string[], retried: [] as string[], latency: [] as number[], work: [] as number[] };
    const queue = new WorkQueue({
      clock,
      metrics: {
        depth: (d) => seen.depth.push(d),
        added: (k) => seen.added.push(k),
        retried: (k) => seen.retried.push(k),
        queueLatency: (ms) => seen.latency.push(ms),
        workDuration: (ms) => seen.work.push(ms),
      },
    });
    queue.add('ns/a');
    queue.add('ns/a');
    await clock.advance(30);
    await queue.get();
    await clock.advance(70);
    assert.equal(queue.longestRunningMs(), 70);
    queue.addRateLimited('ns/a');
    queue.done('ns/a');
    assert.deepEqual(seen.added, ['ns/a'], 'a deduped add is not counted');
    assert.deepEqual(seen.latency, [30]);
    assert.deepEqual(seen.work, [70]);
    assert.deepEqual(seen.retried, ['ns/a']);
    assert.deepEqual(seen.depth, [1, 0]);
    assert.equal(queue.scheduled, 1);
  });

  it('stays fast with many keys (no quadratic hand-out)', async () => {
    const queue = new WorkQueue({ clock: new ManualClock() });
    const n = 50_000;
    for (let i = 0; i < n; i++) queue.add(`ns/k${i}`, { priority: i % 2 ? 'low' : 'normal' });
    let count = 0;
    for (let key = await queue.get(); key !== undefined; key = queue.depth > 0 ? await queue.get() : undefined) {
      queue.done(key);
      count++;
    }
    assert.equal(count, n);
  });
});
