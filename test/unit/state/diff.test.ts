import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diff, reduceDiff } from '../../../src/state/diff.ts';

describe('diff', () => {
  it('is empty for equal documents, whatever the key order', () => {
    assert.deepEqual(diff({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }), []);
  });

  it('reports add, change and remove per key, in sorted key order', () => {
    assert.deepEqual(diff({ spec: { a: 1, b: 2 } }, { spec: { b: 3, c: 4 } }), [
      { op: 'remove', path: ['spec', 'a'], old: 1, new: undefined },
      { op: 'change', path: ['spec', 'b'], old: 2, new: 3 },
      { op: 'add', path: ['spec', 'c'], old: undefined, new: 4 },
    ]);
  });

  it('compares lists as whole values, as kopf does', () => {
    assert.deepEqual(diff({ l: [1, 2] }, { l: [1, 3] }), [{ op: 'change', path: ['l'], old: [1, 2], new: [1, 3] }]);
  });

  it('reports a creation as one add of the whole value', () => {
    assert.deepEqual(diff(undefined, { a: 1 }), [{ op: 'add', path: [], old: undefined, new: { a: 1 } }]);
  });

  it('reports a type change (object to scalar) as one change', () => {
    assert.deepEqual(diff({ a: { b: 1 } }, { a: 5 }), [{ op: 'change', path: ['a'], old: { b: 1 }, new: 5 }]);
  });
});

describe('reduceDiff', () => {
  it('keeps the items under the field, with paths relative to it', () => {
    const items = diff({ spec: { a: { x: 1 }, b: 1 } }, { spec: { a: { x: 2 }, b: 2 } });
    assert.deepEqual(reduceDiff(items, 'spec.a'), [{ op: 'change', path: ['x'], old: 1, new: 2 }]);
  });

  it('narrows an item above the field down to the field', () => {
    const items = diff(undefined, { spec: { text: 'hi', other: 1 } });
    assert.deepEqual(reduceDiff(items, 'spec.text'), [{ op: 'add', path: [], old: undefined, new: 'hi' }]);
  });

  it('is empty when the field did not change', () => {
    assert.deepEqual(reduceDiff(diff({ spec: { a: 1, b: 1 } }, { spec: { a: 1, b: 2 } }), 'spec.a'), []);
  });
});
