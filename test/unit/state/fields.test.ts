import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cloneJson } from '../../../src/state/fields.ts';

describe('cloneJson', () => {
  it('copies nested objects and arrays, sharing nothing with the original', () => {
    const original = { spec: { text: 'hi', items: [1, { a: 'b' }], on: true, none: null }, labels: {} };
    const copy = cloneJson(original);
    assert.deepStrictEqual(copy, original);
    copy.spec.items.push(2);
    (copy.spec.items[1] as { a: string }).a = 'changed';
    copy.spec.text = 'other';
    assert.deepStrictEqual(original, { spec: { text: 'hi', items: [1, { a: 'b' }], on: true, none: null }, labels: {} });
  });

  it('keeps undefined as undefined, and primitives as they are', () => {
    assert.equal(cloneJson(undefined), undefined);
    assert.equal(cloneJson('x'), 'x');
    assert.equal(cloneJson(0), 0);
  });

  it('keeps a parsed `__proto__` key as a key, not as the prototype', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = cloneJson(parsed);
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.equal((copy as { polluted?: boolean }).polluted, undefined);
    assert.deepStrictEqual(Object.keys(copy), ['__proto__', 'a']);
    assert.equal(JSON.stringify(copy), JSON.stringify(parsed));
  });

  it('turns a Date into the text JSON.stringify would send', () => {
    const at = new Date('2026-12-06T00:00:00Z');
    assert.deepStrictEqual(cloneJson({ at }), { at: '2026-12-06T00:00:00.000Z' });
  });
});
