import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdaptiveLimit, FixedLimit, concurrencyLimit, maxConcurrency, type ConcurrencyLimit } from '../../../src/engine/concurrency.ts';

/** Feeds `count` runs that end with `waiting` keys queued; returns the limit after each. */
function feed(limit: AdaptiveLimit, count: number, waiting = 100, overloaded = false): number[] {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) {
    limit.completed({ waiting, overloaded });
    seen.push(limit.current);
  }
  return seen;
}

describe('concurrency limits', () => {
  it('a fixed limit never moves, whatever the runs say', () => {
    const limit: ConcurrencyLimit = new FixedLimit(8);
    limit.completed({ waiting: 1000, overloaded: true });
    assert.deepEqual([limit.current, limit.max], [8, 8]);
    assert.equal(new FixedLimit(0).current, 1, 'at least one worker');
  });

  it('starts at min and grows by one per run while keys wait (slow start), up to max', () => {
    const limit = new AdaptiveLimit({ min: 8, max: 64 });
    assert.equal(limit.current, 8);
    const seen = feed(limit, 100);
    assert.deepEqual(seen.slice(0, 4), [9, 10, 11, 12]);
    assert.equal(seen.at(-1), 64);
    assert.equal(Math.max(...seen), 64, 'never above max');
  });

  it('does not grow while nothing waits: an operator that keeps up stays at min', () => {
    const limit = new AdaptiveLimit({ min: 8, max: 64 });
    assert.deepEqual(new Set(feed(limit, 1000, 0)), new Set([8]));
  });

  it('backs off by a quarter on overload, at most once per round, never below min', () => {
    const limit = new AdaptiveLimit({ min: 8, max: 64 });
    feed(limit, 32); // 8 → 40
    assert.equal(limit.current, 40);
    const failing = feed(limit, 200, 100, true);
    const cuts = failing.flatMap((v, i) => (v < (i === 0 ? 40 : (failing[i - 1] ?? 0)) ? [{ at: i, from: i === 0 ? 40 : (failing[i - 1] ?? 0), to: v }] : []));
    assert.deepEqual(cuts.map((c) => c.to), [30, 22, 16, 12, 9, 8]);
    for (const cut of cuts) assert.equal(cut.to, Math.max(8, Math.floor(cut.from * 0.75)), 'each cut takes a quarter');
    for (let i = 1; i < cuts.length; i++) {
      const [a, b] = [cuts[i - 1], cuts[i]];
      assert.ok(a && b && b.at - a.at >= a.to, `cut ${i} came a full round (${a?.to} runs) after the one before`);
    }
    assert.equal(failing.at(-1), 8, 'never below min');
  });

  it('after an overload grows by one per round of runs (congestion avoidance), not one per run', () => {
    const limit = new AdaptiveLimit({ min: 8, max: 64 });
    feed(limit, 1, 100, true); // slow start ends; 8 stays 8
    assert.equal(limit.current, 8);
    const seen = feed(limit, 8 + 9 + 10);
    // 8 runs at 8 → 9, then 9 runs → 10, then 10 runs → 11.
    assert.deepEqual([seen[6], seen[7], seen[15], seen[16], seen[25], seen[26]], [8, 9, 9, 10, 10, 11]);
  });

  it('an overload with nothing waiting still cuts: the failures are the signal, not the backlog', () => {
    const limit = new AdaptiveLimit({ min: 8, max: 64 });
    feed(limit, 20); // 28
    feed(limit, 1, 0, true);
    assert.equal(limit.current, 21);
  });

  it('concurrencyLimit and maxConcurrency read a setting', () => {
    assert.equal(concurrencyLimit(3).current, 3);
    assert.equal(concurrencyLimit({ min: 2, max: 5 }).current, 2);
    assert.equal(maxConcurrency({ min: 2, max: 5 }), 5);
    assert.equal(maxConcurrency({ min: 6, max: 5 }), 6, 'max below min means min');
    assert.equal(maxConcurrency(7), 7);
  });
});
