import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/base/clock.ts';
import type { KubeObject } from '../../../src/client/types.ts';
import { MAX_WRITES_PER_OBJECT, OwnWriteTracker } from '../../../src/runtime/own-writes.ts';

function at(resourceVersion: string, uid = 'uid-1'): KubeObject {
  return { apiVersion: 'example.com/v1', kind: 'Printer', metadata: { namespace: 'ns', name: 'p', uid, resourceVersion } };
}

describe('OwnWriteTracker', () => {
  it('skips exactly the echo of our write, not a later foreign change', () => {
    const tracker = new OwnWriteTracker({ clock: new ManualClock() });
    tracker.recordUpdate(at('11'), '10');
    assert.equal(tracker.isEcho('MODIFIED', at('11')), true, 'the echo of our write');
    assert.equal(tracker.isEcho('MODIFIED', at('12')), false, 'a foreign change after it');
    assert.equal(tracker.isEcho('MODIFIED', at('11')), false, 'a record matches once');
    assert.equal(tracker.size, 0);
  });

  it('does not skip a foreign change that arrives before our echo, and then stops trusting the record', () => {
    const tracker = new OwnWriteTracker({ clock: new ManualClock() });
    tracker.recordUpdate(at('11'), '10');
    assert.equal(tracker.isEcho('MODIFIED', at('9')), false);
    assert.equal(tracker.size, 0, 'an unrelated version retires the record');
    assert.equal(tracker.isEcho('MODIFIED', at('11')), false);
  });

  it('keeps the record while the watch catches up to the version the write started from', () => {
    const tracker = new OwnWriteTracker({ clock: new ManualClock() });
    tracker.recordUpdate(at('11'), '10');
    assert.equal(tracker.isEcho('MODIFIED', at('10')), false, 'the state we read is not our echo');
    assert.equal(tracker.isEcho('MODIFIED', at('11')), true);
  });

  it('skips the echoes of several writes in a row', () => {
    const tracker = new OwnWriteTracker({ clock: new ManualClock() });
    tracker.recordUpdate(at('11'), '10');
    tracker.recordUpdate(at('12'), '11');
    assert.equal(tracker.isEcho('MODIFIED', at('11')), true);
    assert.equal(tracker.isEcho('MODIFIED', at('12')), true);
    assert.equal(tracker.isEcho('MODIFIED', at('13')), false);
  });

  it('skips the ADDED echo of a create', () => {
    const tracker = new OwnWriteTracker({ clock: new ManualClock() });
    tracker.recordCreate(at('5'));
    assert.equal(tracker.isEcho('ADDED', at('5')), true);
  });

  it('never skips a deletion, and a deletion retires the records', () => {
    const tracker = new OwnWriteTracker({ clock: new ManualClock() });
    tracker.recordUpdate(at('11'), '10');
    assert.equal(tracker.isEcho('DELETED', at('11')), false);
    assert.equal(tracker.isEcho('MODIFIED', at('11')), false);
  });

  it('does not record a write that changed nothing', () => {
    const tracker = new OwnWriteTracker({ clock: new ManualClock() });
    tracker.recordUpdate(at('10'), '10');
    tracker.recordUpdate(at('10'), '');
    assert.equal(tracker.size, 0);
    assert.equal(tracker.isEcho('MODIFIED', at('10')), false);
  });

  it('tells objects apart by uid, so a same-named object of another kind or a recreated one is never skipped', () => {
    const tracker = new OwnWriteTracker({ clock: new ManualClock() });
    tracker.recordUpdate(at('11', 'uid-1'), '10');
    assert.equal(tracker.isEcho('MODIFIED', at('11', 'uid-2')), false);
    assert.equal(tracker.isEcho('MODIFIED', at('11', 'uid-1')), true);
  });

  it('forgets records after the TTL', async () => {
    const clock = new ManualClock();
    const tracker = new OwnWriteTracker({ clock, ttlMs: 1_000 });
    tracker.recordUpdate(at('11'), '10');
    await clock.advance(999);
    tracker.recordUpdate(at('21', 'uid-2'), '20');
    await clock.advance(1);
    assert.equal(tracker.size, 1, 'the first record expired, the second lives');
    assert.equal(tracker.isEcho('MODIFIED', at('11')), false);
    assert.equal(tracker.isEcho('MODIFIED', at('21', 'uid-2')), true);
  });

  it('expires each object at its own latest record, whatever was consumed, re-recorded or cleared before', async () => {
    const clock = new ManualClock();
    const tracker = new OwnWriteTracker({ clock, ttlMs: 1_000 });
    tracker.recordUpdate(at('11', 'a'), '10');
    await clock.advance(100);
    tracker.recordUpdate(at('21', 'b'), '20');
    await clock.advance(100);
    tracker.recordUpdate(at('31', 'c'), '30');
    await clock.advance(400);
    tracker.recordUpdate(at('12', 'a'), '11'); // a: now due at 1,600
    assert.equal(tracker.isEcho('MODIFIED', at('21', 'b')), true); // b consumed
    await clock.advance(599); // 1,199
    assert.equal(tracker.size, 2);
    await clock.advance(1); // 1,200: c expired
    assert.equal(tracker.size, 1);
    assert.equal(tracker.isEcho('MODIFIED', at('31', 'c')), false);
    assert.equal(tracker.size, 1, 'a lives on');
    await clock.advance(400); // 1,600: a expired
    assert.equal(tracker.size, 0);
    assert.equal(tracker.isEcho('MODIFIED', at('12', 'a')), false);
    tracker.clear();
    tracker.recordCreate(at('40', 'd'));
    await clock.advance(999);
    assert.equal(tracker.size, 1);
    await clock.advance(1);
    assert.equal(tracker.size, 0);
  });

  it('stays bounded in objects and in writes per object', () => {
    const tracker = new OwnWriteTracker({ clock: new ManualClock(), maxObjects: 3 });
    for (let i = 0; i < 10; i++) tracker.recordUpdate(at('2', `uid-${i}`), '1');
    assert.equal(tracker.size, 3);
    assert.equal(tracker.isEcho('MODIFIED', at('2', 'uid-0')), false, 'the oldest object was dropped');
    assert.equal(tracker.isEcho('MODIFIED', at('2', 'uid-9')), true);

    for (let rv = 100; rv < 100 + MAX_WRITES_PER_OBJECT + 4; rv++) tracker.recordUpdate(at(String(rv + 1), 'busy'), String(rv));
    assert.equal(tracker.isEcho('MODIFIED', at('101', 'busy')), false, 'the oldest writes of a busy object were dropped');
    assert.equal(tracker.size, 2, 'and that unrelated version retired the busy object');
  });

  it('ignores objects it cannot identify', () => {
    const tracker = new OwnWriteTracker({ clock: new ManualClock() });
    tracker.recordCreate({ metadata: { name: 'no-uid', resourceVersion: '1' } });
    assert.equal(tracker.size, 0);
    assert.equal(tracker.isEcho('ADDED', { metadata: { name: 'no-uid', resourceVersion: '1' } }), false);
  });
});
