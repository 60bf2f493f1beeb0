import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectCause, selectHandlers, type Reason } from '../../../src/handlers/causes.ts';
import { Registry, resource } from '../../../src/handlers/registry.ts';
import type { ObjectContext } from '../../../src/handlers/types.ts';
import type { KubeObject } from '../../../src/client/types.ts';
import { builtin } from '../../../src/schema/resource.ts';
import { compareWithDiffBase, essenceOf } from '../../../src/state/essence.ts';

const base = { deleting: false, hasFinalizer: false, comparison: undefined, neverHandled: false, resumePending: false };
const changed = compareWithDiffBase({ kind: 'full', essence: { spec: { a: 1 } } }, { spec: { a: 2 } }, []);
const same = compareWithDiffBase({ kind: 'full', essence: { spec: { a: 1 } } }, { spec: { a: 1 } }, []);

describe('detectCause', () => {
  it('follows kopf order: delete/free, create, update, resume, noop', () => {
    assert.equal(detectCause({ ...base, deleting: true, hasFinalizer: true, comparison: changed }), 'delete');
    assert.equal(detectCause({ ...base, deleting: true }), 'free');
    assert.equal(detectCause({ ...base, comparison: changed, neverHandled: true, resumePending: true }), 'create');
    assert.equal(detectCause({ ...base, comparison: changed, resumePending: true }), 'update');
    assert.equal(detectCause({ ...base, comparison: same, resumePending: true }), 'resume');
    assert.equal(detectCause({ ...base, comparison: same }), 'noop');
  });

  it('sees a deletion without our finalizer as a delete cause when optional delete handlers exist (kopf runs them)', () => {
    assert.equal(detectCause({ ...base, deleting: true, optionalDelete: true }), 'delete');
    assert.equal(detectCause({ ...base, deleting: true, optionalDelete: false }), 'free');
  });

  it('never sees create or update for a resource without a diff base', () => {
    assert.equal(detectCause({ ...base, neverHandled: true }), 'noop');
  });
});

describe('selectHandlers', () => {
  const registry = new Registry();
  const cms = resource(builtin('v1', 'ConfigMap'), { registry });
  cms.onCreate(() => {}, { id: 'create' });
  cms.onCreate(() => {}, { id: 'create-labelled', labels: { team: 'a' } });
  cms.onUpdate(() => {}, { id: 'update' });
  cms.onUpdate(() => {}, { id: 'update-mode', field: 'data.mode', value: 'fast' });
  cms.onField('data.mode', () => {}, { id: 'field-mode' });
  cms.onResume(() => {}, { id: 'resume' });
  cms.onResume(() => {}, { id: 'resume-deleted', deleted: true });
  cms.onDelete(() => {}, { id: 'delete', when: (ctx: ObjectContext<KubeObject>) => ctx.name !== 'keep' });
  const registration = registry.for(builtin('v1', 'ConfigMap'));
  const contextFor = (body: KubeObject) => () => ({ name: body.metadata?.name }) as unknown as ObjectContext<KubeObject>;

  type Obj = KubeObject & { data?: Record<string, string> };
  const select = (reason: Reason, old: Obj | undefined, body: Obj, resumePending = false) => {
    const comparison = compareWithDiffBase(old ? { kind: 'full', essence: essenceOf(old) } : { kind: 'none' }, essenceOf(body, { extraFields: ['data.mode'] }), ['data.mode']);
    return selectHandlers(registration, reason, { body, comparison, resumePending, contextFor: contextFor(body) }).map((s) => s.spec.id);
  };

  it('selects create handlers by filter, and field handlers whose field is set', () => {
    const body = { metadata: { name: 'x', labels: { team: 'a' } }, data: { mode: 'slow' } };
    assert.deepEqual(select('create', undefined, body, true), ['create', 'create-labelled', 'field-mode']);
  });

  it('selects update handlers, field-bound ones only when their field changed to or from the value', () => {
    const old = { metadata: { name: 'x' }, data: { mode: 'slow', other: '1' } };
    assert.deepEqual(select('update', old, { metadata: { name: 'x' }, data: { mode: 'slow', other: '2' } }), ['update']);
    assert.deepEqual(select('update', old, { metadata: { name: 'x' }, data: { mode: 'fast', other: '1' } }), ['update', 'update-mode', 'field-mode']);
    assert.deepEqual(select('update', old, { metadata: { name: 'x' }, data: { mode: 'slower', other: '1' } }), ['update', 'field-mode']);
  });

  it('mixes resume handlers into an update on first sight, and into deletion only when asked', () => {
    const old = { metadata: { name: 'x' }, data: { mode: 'a' } };
    assert.deepEqual(select('update', old, { metadata: { name: 'x' }, data: { mode: 'a', n: '1' } }, true), ['update', 'resume', 'resume-deleted']);
    assert.deepEqual(select('delete', old, { metadata: { name: 'x' }, data: { mode: 'a' } }, true), ['resume-deleted', 'delete']);
  });

  it('applies when predicates with the object context', () => {
    const old = { metadata: { name: 'keep' } };
    assert.deepEqual(select('delete', old, { metadata: { name: 'keep' } }), []);
  });

  it('gives field handlers old, new and diff reduced to their field', () => {
    const old: Obj = { metadata: { name: 'x' }, data: { mode: 'slow' } };
    const body: Obj = { metadata: { name: 'x' }, data: { mode: 'fast' } };
    const comparison = compareWithDiffBase({ kind: 'full', essence: essenceOf(old) }, essenceOf(body), ['data.mode']);
    const field = selectHandlers(registration, 'update', { body, comparison, resumePending: false, contextFor: contextFor(body) }).find((s) => s.spec.id === 'field-mode');
    assert.deepEqual({ old: field?.old, new: field?.new, diff: field?.diff }, { old: 'slow', new: 'fast', diff: [{ op: 'change', path: [], old: 'slow', new: 'fast' }] });
  });
});
