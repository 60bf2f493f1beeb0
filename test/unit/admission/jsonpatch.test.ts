import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diff, pointerSegment } from '../../../src/admission/jsonpatch.ts';

/** Applies the three operations `diff` emits; enough to check the round trip. */
function apply(doc: unknown, ops: ReturnType<typeof diff>): unknown {
  let root = structuredClone(doc);
  for (const op of ops) {
    if (op.path === '') {
      root = structuredClone((op as { value: unknown }).value);
      continue;
    }
    const keys = op.path.slice(1).split('/').map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = keys.pop() as string;
    let parent = root as Record<string, unknown>;
    for (const key of keys) parent = parent[key] as Record<string, unknown>;
    if (op.op === 'remove') delete parent[last];
    else parent[last] = structuredClone(op.value);
  }
  return root;
}

describe('diff', () => {
  const rows: Array<[string, unknown, unknown, ReturnType<typeof diff>]> = [
    ['unchanged gives no operations', { a: 1 }, { a: 1 }, []],
    ['an added field', { spec: {} }, { spec: { mode: 'fast' } }, [{ op: 'add', path: '/spec/mode', value: 'fast' }]],
    ['a removed field', { spec: { a: 1, b: 2 } }, { spec: { a: 1 } }, [{ op: 'remove', path: '/spec/b' }]],
    ['a changed scalar', { spec: { n: 1 } }, { spec: { n: 2 } }, [{ op: 'replace', path: '/spec/n', value: 2 }]],
    ['an array that differs is replaced whole', { l: [1, 2] }, { l: [2, 1] }, [{ op: 'replace', path: '/l', value: [2, 1] }]],
    [
      'label keys with / and ~ are escaped',
      { metadata: { labels: {} } },
      { metadata: { labels: { 'app.kubernetes.io/name': 'x', 'a~b': 'y' } } },
      [
        { op: 'add', path: '/metadata/labels/app.kubernetes.io~1name', value: 'x' },
        { op: 'add', path: '/metadata/labels/a~0b', value: 'y' },
      ],
    ],
    ['undefined members count as absent', { a: 1, b: undefined }, { a: 1 }, []],
  ];
  for (const [name, from, to, expected] of rows) {
    it(name, () => {
      const ops = diff(from, to);
      assert.deepEqual(ops, expected);
      assert.deepEqual(JSON.parse(JSON.stringify(apply(from, ops))), JSON.parse(JSON.stringify(to)));
    });
  }

  it('escapes ~ before / so "~1" in a key stays literal', () => {
    assert.equal(pointerSegment('a~1/b'), 'a~01~1b');
  });
});
