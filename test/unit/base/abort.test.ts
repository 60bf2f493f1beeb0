import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstOf } from '../../../src/base/abort.ts';

describe('firstOf', () => {
  it('aborts with the reason of whichever source aborts first, once', () => {
    const a = new AbortController();
    const b = new AbortController();
    const run = firstOf(a.signal, b.signal);
    const seen: unknown[] = [];
    run.signal.addEventListener('abort', () => seen.push(run.signal.reason));
    assert.equal(run.signal.aborted, false);
    b.abort(new Error('lease lost'));
    a.abort(new Error('timeout'));
    assert.equal(run.signal.aborted, true);
    assert.deepEqual(seen.map((e) => (e as Error).message), ['lease lost']);
  });

  it('is already aborted when a source is, with its reason', () => {
    const a = new AbortController();
    a.abort('stop');
    const run = firstOf(new AbortController().signal, a.signal);
    assert.equal(run.signal.aborted, true);
    assert.equal(run.signal.reason, 'stop');
    run.release();
  });

  it('follows neither source after release, and leaves no listener on them', () => {
    const a = new AbortController();
    const b = new AbortController();
    let added = 0;
    let removed = 0;
    for (const signal of [a.signal, b.signal]) {
      const add = signal.addEventListener.bind(signal);
      const remove = signal.removeEventListener.bind(signal);
      signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => (added++, add(...args))) as AbortSignal['addEventListener'];
      signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => (removed++, remove(...args))) as AbortSignal['removeEventListener'];
    }
    const run = firstOf(a.signal, b.signal);
    run.release();
    a.abort('late');
    assert.equal(run.signal.aborted, false);
    assert.equal(added, 2);
    assert.equal(removed, 2);
  });
});
