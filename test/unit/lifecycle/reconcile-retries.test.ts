import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReconcileRetries } from '../../../src/lifecycle/reconcile-retries.ts';

describe('ReconcileRetries', () => {
  const error = new Error('no');

  it('holds a failed handler until its delay is over, then runs it with its retry count', () => {
    const retries = new ReconcileRetries();
    const first = retries.due('u', 'h', 1, 0);
    assert.ok(first.run);
    assert.equal(retries.settle('u', 'h', { kind: 'retry', delayMs: 1_000, error }, first.state, 1, 1, 10), 1_000);
    assert.deepEqual(retries.due('u', 'h', 1, 500), { run: false, afterMs: 510 });
    const again = retries.due('u', 'h', 1, 1_010);
    assert.ok(again.run);
    assert.deepEqual([again.state.retries, again.state.startedAt], [1, 0]);
  });

  it('runs a changed spec (a new generation) at once, and a success forgets the failures', () => {
    const retries = new ReconcileRetries();
    const first = retries.due('u', 'h', 1, 0);
    assert.ok(first.run);
    retries.settle('u', 'h', { kind: 'retry', delayMs: 60_000, error }, first.state, 1, 1, 0);
    const changed = retries.due('u', 'h', 2, 1);
    assert.ok(changed.run);
    retries.settle('u', 'h', { kind: 'success', result: undefined }, changed.state, 2, 2, 2);
    const after = retries.due('u', 'h', 2, 3);
    assert.ok(after.run);
    assert.equal(after.state.retries, 0);
  });

  it('never reruns a permanent failure for the same generation, and starts anew for the next', () => {
    const retries = new ReconcileRetries();
    const first = retries.due('u', 'h', 4, 0);
    assert.ok(first.run);
    assert.equal(retries.settle('u', 'h', { kind: 'failure', error }, first.state, 1, 4, 0), undefined);
    assert.deepEqual(retries.due('u', 'h', 4, 1e12), { run: false, afterMs: undefined });
    const next = retries.due('u', 'h', 5, 1e12);
    assert.ok(next.run);
    assert.equal(next.state.retries, 0);
  });

  it('forgets every handler of a deleted object', () => {
    const retries = new ReconcileRetries();
    for (const id of ['a', 'b']) {
      const due = retries.due('u', id, 1, 0);
      assert.ok(due.run);
      retries.settle('u', id, { kind: 'retry', delayMs: 1_000, error }, due.state, 1, 1, 0);
    }
    retries.forget('u');
    assert.equal(retries.due('u', 'a', 1, 1).run, true);
    assert.equal(retries.due('u', 'b', 1, 1).run, true);
  });
});
