import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { reduceHeap } from '../../../src/base/heap.ts';

describe('reduceHeap', () => {
  it('collects unreachable objects at once, without giving the process a global gc', async () => {
    // Big enough to be promoted out of the young generation: a scavenge alone would not do.
    const ref = new WeakRef(Array.from({ length: 100_000 }, (_, n) => ({ n })));
    // A WeakRef's target stays alive until the end of the job that created or read it.
    await turn();
    reduceHeap();
    assert.equal(ref.deref(), undefined);
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  });
});
