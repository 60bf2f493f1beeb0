import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/base/clock.ts';
import { MemoryReducer } from '../../../src/runtime/memory-reducer.ts';

function reducer(clock: ManualClock, collect: () => void = () => {}): { reducer: MemoryReducer; collected: number[] } {
  const collected: number[] = [];
  const r = new MemoryReducer({
    clock,
    afterCycles: 3,
    quietMs: 1000,
    collect: () => {
      collected.push(clock.now());
      collect();
    },
  });
  return { reducer: r, collected };
}

describe('MemoryReducer', () => {
  it('collects nothing below a burst, however long it stays quiet', async () => {
    const clock = new ManualClock(0);
    const { reducer: r, collected } = reducer(clock);
    r.cycled();
    r.cycled();
    await clock.advance(60_000);
    assert.deepEqual(collected, []);
    assert.equal(r.cycles, 2);
  });

  it('collects once, quietMs after the last cycle of a burst, and counts the next burst from zero', async () => {
    const clock = new ManualClock(0);
    const { reducer: r, collected } = reducer(clock);
    for (let i = 0; i < 3; i++) r.cycled();
    await clock.advance(600);
    r.cycled(); // the burst goes on: the collection moves to 1000 ms after this one
    await clock.advance(600);
    assert.deepEqual(collected, []);
    await clock.advance(400);
    assert.deepEqual(collected, [1600]);
    assert.equal(r.cycles, 0);
    await clock.advance(60_000);
    assert.deepEqual(collected, [1600]);
    for (let i = 0; i < 3; i++) r.cycled();
    await clock.advance(1000);
    assert.deepEqual(collected, [1600, 62_600]);
  });

  it('collects nothing after stop', async () => {
    const clock = new ManualClock(0);
    const { reducer: r, collected } = reducer(clock);
    for (let i = 0; i < 3; i++) r.cycled();
    r.stop();
    for (let i = 0; i < 3; i++) r.cycled();
    await clock.advance(10_000);
    assert.deepEqual(collected, []);
  });

  it('a collection that throws does not escape the timer, and the next burst collects again', async () => {
    const clock = new ManualClock(0);
    let calls = 0;
    const { reducer: r } = reducer(clock, () => {
      calls++;
      throw new Error('no gc');
    });
    for (let i = 0; i < 3; i++) r.cycled();
    await clock.advance(1000);
    for (let i = 0; i < 3; i++) r.cycled();
    await clock.advance(1000);
    assert.equal(calls, 2);
  });
});
