import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addFinalizerOps, removeFinalizerOps } from '../../../src/state/finalizers.ts';
import { getField, hasField, parseFieldPath, setField } from '../../../src/state/fields.ts';
import { applyMergePatch, isEmptyPatch, newPatch, splitPatch } from '../../../src/state/patch.ts';

describe('patch collection', () => {
  it('starts empty with stanzas ready to assign into', () => {
    const patch = newPatch();
    assert.equal(isEmptyPatch(patch), true);
    patch.metadata.labels['a'] = 'b';
    assert.equal(isEmptyPatch(patch), false);
  });

  it('splits status off to its subresource when the resource has one', () => {
    const patch = newPatch();
    patch.status['pod'] = 'p';
    patch.metadata.annotations['x'] = null;
    patch.spec['n'] = 1;
    assert.deepEqual(splitPatch(patch, { statusSubresource: true }), {
      main: { metadata: { annotations: { x: null } }, spec: { n: 1 } },
      status: { status: { pod: 'p' } },
    });
    assert.deepEqual(splitPatch(patch, { statusSubresource: false }).main?.['status'], { pod: 'p' });
  });

  it('leaves untouched stanzas out', () => {
    const patch = newPatch();
    patch['data'] = { k: 'v' };
    assert.deepEqual(splitPatch(patch, { statusSubresource: true }), { main: { data: { k: 'v' } } });
  });

  it('applies a merge patch locally as the API server would', () => {
    assert.deepEqual(applyMergePatch({ a: { b: 1, c: 2 }, l: [1] }, { a: { b: null, d: 3 }, l: [2] }), { a: { c: 2, d: 3 }, l: [2] });
  });
});

describe('finalizer patches', () => {
  const name = 'operon.dev/finalizer';

  it('adds to a missing list with a null test', () => {
    assert.deepEqual(addFinalizerOps({ metadata: {} }, name), [
      { op: 'test', path: '/metadata/finalizers', value: null },
      { op: 'add', path: '/metadata/finalizers', value: [name] },
    ]);
  });

  it('appends to an existing list after testing it whole', () => {
    assert.deepEqual(addFinalizerOps({ metadata: { finalizers: ['other'] } }, name), [
      { op: 'test', path: '/metadata/finalizers', value: ['other'] },
      { op: 'add', path: '/metadata/finalizers/-', value: name },
    ]);
  });

  it('removes at its index after testing that entry, leaving others alone', () => {
    assert.deepEqual(removeFinalizerOps({ metadata: { finalizers: ['a', name, 'b'] } }, name), [
      { op: 'test', path: '/metadata/finalizers/1', value: name },
      { op: 'remove', path: '/metadata/finalizers/1' },
    ]);
  });

  it('returns nothing when there is nothing to do', () => {
    assert.equal(addFinalizerOps({ metadata: { finalizers: [name] } }, name), undefined);
    assert.equal(removeFinalizerOps({ metadata: {} }, name), undefined);
  });
});

describe('field paths', () => {
  it('reads, checks and writes dotted paths', () => {
    const o: Record<string, unknown> = {};
    setField(o, 'a.b.c', 1);
    assert.equal(getField(o, 'a.b.c'), 1);
    assert.equal(hasField(o, 'a.b'), true);
    assert.equal(getField(o, 'a.x.c'), undefined);
  });

  it('refuses empty segments', () => {
    assert.throws(() => parseFieldPath('spec..text'), RangeError);
  });
});
