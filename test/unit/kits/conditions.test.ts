import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConditionError, findCondition, isFalse, isTrue, removeCondition, setCondition, type Condition } from '../../../src/kits/conditions.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const T1 = Date.parse('2025-01-01T00:05:00.750Z');

describe('setCondition', () => {
  it('adds a condition with the transition time in whole seconds', () => {
    const next = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'PodPending', message: 'waiting', observedGeneration: 2 }, T0);
    assert.deepEqual(next, [{ type: 'Ready', status: 'False', reason: 'PodPending', message: 'waiting', observedGeneration: 2, lastTransitionTime: '2025-01-01T00:00:00Z' }]);
  });

  it('keeps lastTransitionTime when only reason, message or generation change', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'PodPending' }, T0);
    const second = setCondition(first, { type: 'Ready', status: 'False', reason: 'ImagePull', message: 'pulling', observedGeneration: 3 }, T1);
    assert.equal(second[0]?.lastTransitionTime, '2025-01-01T00:00:00Z');
    assert.equal(second[0]?.reason, 'ImagePull');
    assert.equal(second[0]?.observedGeneration, 3);
  });

  it('moves lastTransitionTime when the status changes', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'PodPending' }, T0);
    const second = setCondition(first, { type: 'Ready', status: true, reason: 'PodRunning' }, T1);
    assert.equal(second[0]?.status, 'True');
    assert.equal(second[0]?.lastTransitionTime, '2025-01-01T00:05:00Z');
    assert.equal(isTrue(second, 'Ready'), true);
    assert.equal(isFalse(second, 'Ready'), false);
  });

  it('returns the same list when nothing changed, so no patch is needed', () => {
    const first = setCondition([], { type: 'Ready', status: 'True', reason: 'Ok', message: 'fine' }, T0);
    assert.equal(setCondition(first, { type: 'Ready', status: 'True', reason: 'Ok', message: 'fine' }, T1), first);
  });

  it('does not mutate its input and keeps the order of types', () => {
    const a = setCondition([], { type: 'Ready', status: 'True', reason: 'Ok' }, T0);
    const b = setCondition(a, { type: 'Degraded', status: 'False', reason: 'Ok' }, T0);
    const frozen = Object.freeze(b.map((c) => Object.freeze({ ...c }))) as readonly Condition[];
    const c = setCondition(frozen, { type: 'Ready', status: 'False', reason: 'Broken' }, T1);
    assert.deepEqual(c.map((x) => x.type), ['Ready', 'Degraded']);
    assert.equal(frozen[0]?.status, 'True');
  });

  it('validates status, type, reason and generation as the API does', () => {
    assert.throws(() => setCondition([], { type: 'Ready', status: 'True', reason: 'not camel case' }, T0), (e: unknown) => e instanceof ConditionError && e.field === 'reason');
    assert.throws(() => setCondition([], { type: 'Ready', status: 'True', reason: '1Bad' }, T0), ConditionError);
    assert.throws(() => setCondition([], { type: 'Ready', status: 'True', reason: 'Trailing:' }, T0), ConditionError);
    assert.throws(() => setCondition([], { type: '', status: 'True', reason: 'Ok' }, T0), ConditionError);
    assert.throws(() => setCondition([], { type: 'Ready', status: 'Yes' as 'True', reason: 'Ok' }, T0), /True, False or Unknown/);
    assert.throws(() => setCondition([], { type: 'Ready', status: 'True', reason: 'Ok', observedGeneration: -1 }, T0), ConditionError);
    assert.doesNotThrow(() => setCondition([], { type: 'Ready', status: 'Unknown', reason: 'Waiting_for:Pods,Now' }, T0));
  });

  it('bounds the list by dropping the condition with the oldest transition', () => {
    let list: Condition[] = [];
    for (let i = 0; i < 4; i++) list = setCondition(list, { type: `T${i}`, status: 'True', reason: 'Ok' }, T0 + i * 1000, { maxConditions: 3 });
    assert.deepEqual(list.map((c) => c.type), ['T1', 'T2', 'T3']);
  });

  it('cuts messages to the API limit', () => {
    const list = setCondition([], { type: 'Ready', status: 'True', reason: 'Ok', message: 'x'.repeat(40_000) }, T0);
    assert.equal(list[0]?.message.length, 32768);
  });
});

describe('findCondition and removeCondition', () => {
  it('find by type; remove returns the same list when absent', () => {
    const list = setCondition([], { type: 'Ready', status: 'True', reason: 'Ok' }, T0);
    assert.equal(findCondition(list, 'Ready')?.reason, 'Ok');
    assert.equal(findCondition(undefined, 'Ready'), undefined);
    assert.equal(removeCondition(list, 'Missing'), list);
    assert.deepEqual(removeCondition(list, 'Ready'), []);
    assert.equal(isTrue(undefined, 'Ready'), false);
  });
});
