import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ManualClock, sleep } from '../../../src/base/clock.ts';
import { Backoff, backoffDelay } from '../../../src/base/backoff.ts';

describe('clock', () => {
  it('regression: a pending systemClock sleep keeps the process alive (an operator backing off must not exit)', () => {
    const script = `import { sleep, systemClock } from ${JSON.stringify(new URL('../../../src/base/clock.ts', import.meta.url).href)};
await sleep(systemClock, 100);
console.log('woke up');`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(out.trim(), 'woke up');
  });

  it('ManualClock fires timers in due order and only when advanced', async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimer(20, () => fired.push('b'));
    clock.setTimer(10, () => fired.push('a'));
    await clock.advance(15);
    assert.deepEqual(fired, ['a']);
    await clock.advance(5);
    assert.deepEqual(fired, ['a', 'b']);
  });

  it('sleep rejects with the abort reason and cancels its timer', async () => {
    const clock = new ManualClock(0);
    const abort = new AbortController();
    const p = sleep(clock, 1000, abort.signal);
    abort.abort(new Error('stop'));
    await assert.rejects(p, /stop/);
    assert.equal(clock.pending, 0);
  });
});

describe('backoff', () => {
  it('grows by the factor and caps', () => {
    const opts = { initialMs: 100, maxMs: 1000, jitter: 'none' as const };
    assert.deepEqual([0, 1, 2, 3, 4, 50].map((a) => backoffDelay(a, opts)), [100, 200, 400, 800, 1000, 1000]);
  });

  it('jitter stays within its band', () => {
    for (const r of [0, 0.5, 0.999]) {
      const d = backoffDelay(2, { initialMs: 100, maxMs: 10_000, random: () => r });
      assert.ok(d >= 200 && d <= 400, String(d));
      const f = backoffDelay(2, { initialMs: 100, maxMs: 10_000, jitter: 'full', random: () => r });
      assert.ok(f >= 0 && f <= 400, String(f));
    }
  });

  it('resets after a long enough healthy period', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 10_000, jitter: 'none', resetAfterMs: 1000 });
    b.next(0);
    b.next(0);
    assert.equal(b.next(0), 400);
    b.succeeded(0);
    assert.equal(b.next(500), 800, 'a short healthy period does not reset');
    b.succeeded(1000);
    assert.equal(b.next(2500), 100, 'a long one does');
  });
});
