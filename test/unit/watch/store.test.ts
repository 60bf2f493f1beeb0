import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { objectKey } from '../../../src/client/keys.ts';
import { Store, stripForCache } from '../../../src/watch/store.ts';
import type { Obj } from './scripted-source.ts';
import { obj } from './scripted-source.ts';

function listed(objects: Obj[], options: ConstructorParameters<typeof Store<Obj>>[0] = {}): Store<Obj> {
  const store = new Store<Obj>(options);
  store.apply({ type: 'Init' });
  for (const object of objects) store.apply({ type: 'InitApply', object });
  store.apply({ type: 'InitDone' });
  return store;
}
const names = (objects: Obj[]): string[] => objects.map((o) => o.metadata.name).sort();

describe('store', () => {
  it('keys namespaced objects by namespace/name and cluster-scoped ones by name', () => {
    assert.equal(objectKey(obj('web', '1', 'shop')), 'shop/web');
    assert.equal(objectKey(obj('node-1', '1', null)), 'node-1');
    assert.equal(objectKey({ metadata: {} }), undefined);
    const store = listed([obj('web', '1', 'shop'), obj('web', '2', 'billing'), obj('node-1', '3', null)]);
    assert.equal(store.get('web', 'shop')?.metadata.resourceVersion, '1');
    assert.equal(store.get('web', 'billing')?.metadata.resourceVersion, '2');
    assert.equal(store.get('node-1')?.metadata.resourceVersion, '3');
    assert.equal(store.get('web'), undefined);
    assert.deepEqual(names(store.list('shop')), ['web']);
    assert.equal(store.list().length, 3);
  });

  it('becomes ready at the first InitDone', async () => {
    const store = new Store<Obj>();
    assert.equal(store.isReady(), false);
    store.apply({ type: 'Init' });
    store.apply({ type: 'InitApply', object: obj('a', '1') });
    assert.equal(store.isReady(), false);
    store.apply({ type: 'InitDone' });
    assert.equal(store.isReady(), true);
    await store.ready;
  });

  it('swaps a relist in atomically: readers see the old state until InitDone, then the whole new one', () => {
    const store = listed([obj('a', '1'), obj('b', '2'), obj('c', '3')], { indexes: { color: (o) => [o.data?.['color'] ?? 'none'] } });
    store.apply({ type: 'Init' });
    store.apply({ type: 'InitApply', object: obj('a', '1') });
    store.apply({ type: 'InitApply', object: obj('b', '5', 'default', { color: 'red' }) });
    store.apply({ type: 'InitApply', object: obj('d', '6') });
    // Mid-relist: everything answers from the previous complete state.
    assert.deepEqual(names(store.list()), ['a', 'b', 'c']);
    assert.deepEqual(names(store.list('default')), ['a', 'b', 'c']);
    assert.equal(store.size, 3);
    assert.equal(store.get('d', 'default'), undefined);
    assert.equal(store.get('c', 'default')?.metadata.resourceVersion, '3');
    assert.deepEqual(store.byIndex('color', 'red'), []);
    const changes = store.apply({ type: 'InitDone' });
    assert.deepEqual(
      changes.map((c) => [c.type, c.object.metadata.name, c.old?.metadata.resourceVersion]),
      [
        ['modified', 'b', '2'],
        ['added', 'd', undefined],
        ['deleted', 'c', '3'],
      ],
      'unchanged a is not reported; c, gone in the gap, is a deletion',
    );
    assert.deepEqual(names(store.list()), ['a', 'b', 'd']);
    assert.deepEqual(names(store.byIndex('color', 'red')), ['b']);
    assert.deepEqual(names(store.byIndex('color', 'none')), ['a', 'd']);
  });

  it('applies Apply and Delete with old objects, and ignores replays and unknown deletes', () => {
    const store = listed([obj('a', '1')]);
    assert.deepEqual(store.apply({ type: 'Apply', object: obj('a', '1') }), [], 'same resourceVersion: a replay');
    const [mod] = store.apply({ type: 'Apply', object: obj('a', '2') });
    assert.equal(mod?.type, 'modified');
    assert.equal(mod?.old?.metadata.resourceVersion, '1');
    assert.equal(store.apply({ type: 'Apply', object: obj('b', '3') })[0]?.type, 'added');
    const [del] = store.apply({ type: 'Delete', object: obj('a', '4') });
    assert.equal(del?.type, 'deleted');
    assert.equal(del?.object.metadata.resourceVersion, '4');
    assert.equal(del?.old?.metadata.resourceVersion, '2');
    assert.deepEqual(store.apply({ type: 'Delete', object: obj('zzz', '5') }), []);
    assert.deepEqual(names(store.list()), ['b']);
  });

  it('keeps custom indexes current through updates and deletes, and indexes existing objects when added late', () => {
    const store = listed([obj('a', '1', 'default', { color: 'red' }), obj('b', '2', 'other', { color: 'red' })]);
    store.addIndex('color', (o) => (o.data?.['color'] ? [o.data['color']] : []));
    assert.deepEqual(names(store.byIndex('color', 'red')), ['a', 'b']);
    store.apply({ type: 'Apply', object: obj('a', '3', 'default', { color: 'blue' }) });
    assert.deepEqual(names(store.byIndex('color', 'red')), ['b']);
    assert.deepEqual(names(store.byIndex('color', 'blue')), ['a']);
    store.apply({ type: 'Delete', object: obj('b', '4', 'other') });
    assert.deepEqual(store.byIndex('color', 'red'), []);
    assert.deepEqual(store.list('other'), []);
    assert.throws(() => store.byIndex('nope', 'x'), /no index named "nope"/);
    assert.throws(() => store.addIndex('color', () => []), /already exists/);
    store.addIndex('broken', () => {
      throw new Error('bad index');
    });
    assert.deepEqual(store.byIndex('broken', 'x'), []);
  });

  it('strips managedFields and the last-applied annotation by default, keeping identity and lifecycle metadata', () => {
    const full = {
      ...obj('a', '7'),
      metadata: {
        name: 'a',
        namespace: 'default',
        resourceVersion: '7',
        uid: 'u-1',
        generation: 3,
        deletionTimestamp: '2026-01-01T00:00:00Z',
        finalizers: ['operon.dev/cleanup'],
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u-0' }],
        labels: { app: 'web' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}', keep: 'me' },
        managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
      },
    } as Obj;
    const store = listed([full]);
    const cached = store.get('a', 'default') as Obj & { metadata: typeof full.metadata & Record<string, unknown> };
    assert.equal(cached.metadata['managedFields'], undefined);
    assert.deepEqual(cached.metadata.annotations, { keep: 'me' });
    for (const field of ['name', 'namespace', 'resourceVersion', 'uid', 'generation', 'deletionTimestamp', 'finalizers', 'ownerReferences', 'labels']) {
      assert.deepEqual(cached.metadata[field as keyof typeof cached.metadata], full.metadata[field as keyof typeof full.metadata], field);
    }
    assert.ok((full.metadata as Record<string, unknown>)['managedFields'], 'the delivered object is not mutated');
    const plain = obj('b', '1');
    assert.equal(stripForCache(plain), plain, 'nothing to strip: the same object, no copy');
    const whole = listed([full], { transform: null });
    assert.equal(whole.get('a', 'default'), full);
  });
});

/** How many distinct string objects in this process's heap hold `text` (from a heap snapshot, which collects garbage first). */
async function copiesInHeap(text: string): Promise<number> {
  const { getHeapSnapshot } = await import('node:v8');
  let json = '';
  for await (const chunk of getHeapSnapshot()) json += String(chunk);
  const snapshot = JSON.parse(json) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const { node_fields: fields, node_types: [types] } = snapshot.snapshot.meta;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const stringTypes = new Set(['string', 'concatenated string', 'sliced string'].map((t) => types.indexOf(t)));
  let copies = 0;
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    if (stringTypes.has(snapshot.nodes[i + typeAt] as number) && snapshot.strings[snapshot.nodes[i + nameAt] as number] === text) copies++;
  }
  return copies;
}

describe('store: shared texts', () => {
  it('keeps one copy of a condition text and a kind that several cached objects repeat (JSON.parse makes one per object)', async () => {
    // Made at run time, so no literal in this file holds a copy; the JSON texts are dropped after parsing.
    const suffix = `${process.pid}-${Date.now()}`;
    const message = `the price is up to date ${suffix}`;
    const kind = `CryptoValueCalculator${suffix}`;
    const store = new Store<Obj>();
    store.apply({ type: 'Init' });
    for (const name of ['a', 'b', 'c']) {
      const text = JSON.stringify({ apiVersion: 'v1', kind, metadata: { name, namespace: 'default', resourceVersion: '1', uid: name, managedFields: [] }, status: { conditions: [{ type: 'PriceStale', status: 'False', message }] } });
      store.apply({ type: 'InitApply', object: JSON.parse(text) as Obj });
    }
    store.apply({ type: 'InitDone' });
    const cached = store.get('c', 'default') as Obj & { status: { conditions: Array<{ message: string }> } };
    assert.equal(cached.status.conditions[0]?.message, message, 'the text is unchanged');
    assert.equal(cached.kind, kind);
    // This test's own copy, and the one the three cached objects share (four without sharing).
    assert.equal(await copiesInHeap(message), 2);
    assert.equal(await copiesInHeap(kind), 2);
  });
});
