import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareWithDiffBase, diffBaseKey, encodeDiffBase, essenceOf, isOwnAnnotation, readDiffBase } from '../../../src/state/essence.ts';

const body = {
  apiVersion: 'x.dev/v1',
  kind: 'Thing',
  metadata: {
    name: 'a',
    namespace: 'ns',
    uid: 'u',
    resourceVersion: '5',
    generation: 2,
    labels: { app: 'x' },
    annotations: {
      note: 'keep',
      'operon.dev/create': '{}',
      'team.operon.dev/x': '1',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
    },
    finalizers: ['operon.dev/finalizer'],
  },
  spec: { size: 1 },
  data: { k: 'v' },
  status: { phase: 'Ready', extra: { n: 1 } },
};

describe('essenceOf', () => {
  it('keeps spec, other top-level fields, labels and foreign annotations; drops system and own state', () => {
    assert.deepEqual(essenceOf(body), { data: { k: 'v' }, metadata: { labels: { app: 'x' }, annotations: { note: 'keep' } }, spec: { size: 1 } });
  });

  it('puts back fields that field handlers name, status included', () => {
    assert.deepEqual(essenceOf(body, { extraFields: ['status.extra.n'] })['status'], { extra: { n: 1 } });
  });

  it('drops empty stanzas, so no labels and empty labels are the same essence', () => {
    assert.deepEqual(essenceOf({ metadata: { name: 'a', labels: {} }, spec: {} }), {});
  });

  it('does not share objects with the body', () => {
    const e = essenceOf(body);
    (e['spec'] as { size: number }).size = 9;
    assert.equal(body.spec.size, 1);
  });
});

describe('isOwnAnnotation', () => {
  it('matches the prefix and its subdomains only', () => {
    assert.equal(isOwnAnnotation('operon.dev/x', 'operon.dev'), true);
    assert.equal(isOwnAnnotation('a.operon.dev/x', 'operon.dev'), true);
    assert.equal(isOwnAnnotation('notoperon.dev/x', 'operon.dev'), false);
    assert.equal(isOwnAnnotation('plain', 'operon.dev'), false);
  });
});

describe('diff base', () => {
  it('stores the essence as JSON and reads it back', () => {
    const essence = essenceOf(body);
    const { value, hashed } = encodeDiffBase(essence, body);
    assert.equal(hashed, false);
    const stored = { metadata: { annotations: { [diffBaseKey()]: value } } };
    assert.deepEqual(readDiffBase(stored), { kind: 'full', essence });
  });

  it('reads a missing or unparsable annotation as none (handled as a creation)', () => {
    assert.deepEqual(readDiffBase({ metadata: {} }), { kind: 'none' });
    assert.deepEqual(readDiffBase({ metadata: { annotations: { [diffBaseKey()]: '{oops' } } }), { kind: 'none' });
  });

  it('compares to none as one add of the whole essence', () => {
    const c = compareWithDiffBase({ kind: 'none' }, { spec: { a: 1 } }, []);
    assert.deepEqual(c.diff, [{ op: 'add', path: [], old: undefined, new: { spec: { a: 1 } } }]);
  });

  it('stores hashes past the annotation budget, and still detects every change, coarsely', () => {
    const big = { metadata: { name: 'b', annotations: { huge: 'x'.repeat(300) } }, spec: { text: 'a', other: 1 } };
    const essence = essenceOf(big);
    const { value, hashed } = encodeDiffBase(essence, big, { fields: ['spec.text'], budgetBytes: 400 });
    assert.equal(hashed, true);
    const base = readDiffBase({ metadata: { annotations: { [diffBaseKey()]: value } } });
    assert.equal(base.kind, 'hashed');

    assert.deepEqual(compareWithDiffBase(base, essence, ['spec.text']).diff, []);
    const otherChanged = compareWithDiffBase(base, { ...essence, spec: { text: 'a', other: 2 } }, ['spec.text']);
    assert.equal(otherChanged.coarse, true);
    assert.equal(otherChanged.diff.length, 1);
    assert.equal(otherChanged.diff[0]?.old, undefined);
    assert.deepEqual([...(otherChanged.changedFields ?? [])], []);
    const textChanged = compareWithDiffBase(base, { ...essence, spec: { text: 'b', other: 1 } }, ['spec.text']);
    assert.deepEqual([...(textChanged.changedFields ?? [])], ['spec.text']);
  });
});
