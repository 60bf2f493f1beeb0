import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdaptiveLimit, FixedLimit, concurrencyLimit, maxConcurrency, type ConcurrencyLimit } from '../../../src/engine/concurrency.ts';

/** Feeds `count` runs of `durationMs` that end with `waiting` keys queued; returns the limit after each. */
function feed(limit: AdaptiveLimit, count: number, durationMs: number, waiting = 100, overloaded = false): number[] {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) {
    limit.completed({ durationMs, waiting, overloaded });
    seen.push(limit.current);
  }
  return seen;
}

describe('concurrency limits', () => {
  it('a fixed limit never moves, whatever the runs say', () => {
    const limit: ConcurrencyLimit = new FixedLimit(8);
    limit.completed({ durationMs: 10_000, waiting: 1000, overloaded: true });
    assert.deepEqual([limit.current, limit.max], [8, 8]);
    assert.equal(new FixedLimit(0).current, 1, 'at least one worker');
  });

  it('starts at min and grows by one per run while keys wait and runs stay as fast (slow start), up to max', () => {
    const limit = new AdaptiveLimit({ min: 8, max: 64 });
    assert.equal(limit.current, 8);
    const seen = feed(limit, 100, 20);
    assert.deepEqual(seen.slice(0, 4), [9, 10, 11, 12]);
    assert.equal(seen.at(-1), 64, 'never above max');
    assert.equal(Math.max(...seen), 64);
  });

  it('does not grow while nothing waits: an operator that keeps up stays at min', () => {
    const limit = new AdaptiveLimit({ min: 8, max: 64 });
    assert.deepEqual(new Set(feed(limit, 1000, 20, 0)), new Set([8]));
  });

  it('backs off by a quarter when runs take more than twice their baseline, at most once per round, down to min', () => {
    const limit = new AdaptiveLimit({ min: 8, max: 64 });
    feed(limit, 32, 20); // 8 → 40
    assert.equal(limit.current, 40);
    const slow = feed(limit, 300, 200);
    const peak = Math.max(...slow);
    assert.ok(peak <= 42, `the smoothed time crosses twice the baseline within a few runs (peak ${peak})`);
    const cuts = slow.flatMap((v, i) => (i > 0 && v < (slow[i - 1] ?? 0) ? [{ at: i, from: slow[i - 1] ?? 0, to: v }] : []));
    assert.ok(cuts.length >= 5, 'it keeps backing off while runs stay slow');
    for (const cut of cuts) assert.equal(cut.to, Math.max(8, Math.floor(cut.from * 0.75)), 'each cut takes a quarter');
    for (let i = 1; i < cuts.length; i++) {
      const [a, b] = [cuts[i - 1], cuts[i]];
      assert.ok(a && b && b.at - a.at >= a.to, `cut ${i} came a full round (${a?.to} runs) after the one before`);
    }
    assert.equal(slow.at(-1), 8, 'never below min');
    assert.ok(slow.every((v, i) => i === 0 || v <= (slow[i - 1] ?? 0)), 'no growth while runs stay slow');
  });

  it('after the first back-off grows by one per round of runs (congestion avoidance), not one per run', () => {
    const limit = new AdaptiveLimit({ min: 8, max: 64 });
    feed(limit, 1, 100, 100, true); // an overload: slow start ends, 8 stays 8
    assert.equal(limit.current, 8);
    const seen = feed(limit, 8 + 9 + 10, 100);
    // 8 runs at 8 → 9, then 9 runs → 10, then 10 runs → 11.
    assert.deepEqual([seen[6], seen[7], seen[15], seen[16], seen[25], seen[26]], [8, 9, 9, 10, 10, 11]);
  });
  it('backs off on runs that failed with overload, even when they were fast', () => {
    const limit = new AdaptiveLimit({ min: 8, max: 64 });
    feed(limit, 20, 20); // 28
    feed(limit, 1, 20, 100, true);
    assert.equal(limit.current, 21);
  });

  it('measures a new baseline for each backlog: a fast moment long ago does not pin it to min', () => {
    const limit = new AdaptiveLimit({ min: 8, max: 64 });
    feed(limit, 20, 2); // a very fast backlog: 8 → 28
    feed(limit, 200, 40, 0); // drained; then runs got slower while nothing waited
    const seen = feed(limit, 100, 40, 100); // a new backlog at the new speed
    assert.equal(seen.at(-1), 64, 'the new backlog measures its own baseline and grows to max');
    const pinned = new AdaptiveLimit({ min: 8, max: 64 });
    feed(pinned, 20, 2);
    feed(pinned, 200, 40); // the same slowdown inside one backlog is overload
    assert.equal(pinned.current, 8);
  });

  it('concurrencyLimit and maxConcurrency read a setting', () => {
    assert.equal(concurrencyLimit(3).current, 3);
    assert.equal(concurrencyLimit({ min: 2, max: 5 }).current, 2);
    assert.equal(maxConcurrency({ min: 2, max: 5 }), 5);
    assert.equal(maxConcurrency({ min: 6, max: 5 }), 6, 'max below min means min');
    assert.equal(maxConcurrency(7), 7);
  });
});
