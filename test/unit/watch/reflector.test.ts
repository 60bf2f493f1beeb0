import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/base/clock.ts';
import type { ObjectChange } from '../../../src/watch/store.ts';
import { Reflector } from '../../../src/watch/reflector.ts';
import type { Obj } from './scripted-source.ts';
import { added, deleted, expired, gone, obj, page, ScriptedSource, settle } from './scripted-source.ts';

const summary = (changes: ObjectChange<Obj>[]): string[] =>
  changes.map((c) => `${c.type} ${c.object.metadata.namespace ?? ''}/${c.object.metadata.name}@${c.object.metadata.resourceVersion}${c.old ? ` (was ${c.old.metadata.resourceVersion})` : ''}`);

function reflect(source: ScriptedSource, scope?: ConstructorParameters<typeof Reflector<Obj>>[0]['scope']) {
  const reflector = new Reflector<Obj>({ source, namespaced: true, clock: new ManualClock(), ...(scope ? { scope } : {}) });
  const changes: ObjectChange<Obj>[] = [];
  reflector.subscribe((change) => {
    // The store already holds the change when a subscriber runs.
    const cached = reflector.store.get(change.object.metadata.name, change.object.metadata.namespace);
    assert.equal(cached?.metadata.resourceVersion, change.type === 'deleted' ? undefined : change.object.metadata.resourceVersion);
    changes.push(change);
  });
  const running = reflector.start();
  return { reflector, changes, running };
}

describe('reflector', () => {
  it('relists after a 410 at connect and reports the deletions from the gap', async () => {
    const source = new ScriptedSource();
    source.listScript.push(page([obj('a', '1'), obj('b', '2'), obj('c', '3')], '5'), page([obj('a', '1'), obj('c', '9'), obj('d', '8')], '10'));
    source.watchScript.push([added(obj('e', '6'))], expired());
    const { reflector, changes } = reflect(source);
    await reflector.store.ready;
    await settle();
    assert.deepEqual(summary(changes), [
      'added default/a@1',
      'added default/b@2',
      'added default/c@3',
      'added default/e@6',
      'modified default/c@9 (was 3)',
      'added default/d@8',
      'deleted default/b@2 (was 2)',
      'deleted default/e@6 (was 6)',
    ]);
    assert.deepEqual(reflector.store.list().map((o) => o.metadata.name).sort(), ['a', 'c', 'd']);
    await reflector.stop();
  });

  it('relists after an in-stream 410 ERROR event and reports the deletions from the gap', async () => {
    const source = new ScriptedSource();
    source.listScript.push(page([obj('a', '1'), obj('b', '2')], '5'), page([obj('b', '2')], '10'));
    const { reflector, changes } = reflect(source);
    await settle();
    source.stream.push(deleted(obj('b', '6')), added(obj('b', '7')), gone());
    await settle();
    assert.deepEqual(summary(changes).slice(2), ['deleted default/b@6 (was 2)', 'added default/b@7', 'modified default/b@2 (was 7)', 'deleted default/a@1 (was 1)']);
    assert.equal(reflector.status().watches[0]?.relists, 1);
    await reflector.stop();
  });

  it('tells subscribers in order, waits for one that returns a promise, and goes on past one that fails', async () => {
    const source = new ScriptedSource();
    source.listScript.push(page([obj('a', '1'), obj('b', '2')], '5'));
    const reflector = new Reflector<Obj>({ source, namespaced: true, clock: new ManualClock() });
    const seen: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    reflector.subscribe(async (change) => {
      seen.push(`slow ${change.object.metadata.name} start`);
      if (change.object.metadata.name === 'a') await gate;
      seen.push(`slow ${change.object.metadata.name} end`);
    });
    reflector.subscribe((change) => {
      seen.push(`sync ${change.object.metadata.name}`);
      if (change.object.metadata.name === 'b') throw new Error('subscriber bug');
    });
    reflector.subscribe(async (change) => {
      seen.push(`failing ${change.object.metadata.name}`);
      throw new Error('async subscriber bug');
    });
    void reflector.start();
    await settle();
    assert.deepEqual(seen, ['slow a start'], 'nothing passes a subscriber that has not finished');
    release();
    await settle();
    assert.deepEqual(seen, ['slow a start', 'slow a end', 'sync a', 'failing a', 'slow b start', 'slow b end', 'sync b', 'failing b']);
    await reflector.stop();
  });

  it('keeps one store per namespace, so a relist in one never deletes objects of another', async () => {
    const source = new ScriptedSource();
    source.listFallback = (options) => (options.namespace === 'shop' ? page([obj('a', '1', 'shop')], '5') : page([obj('b', '2', 'billing')], '5'));
    const { reflector, changes } = reflect(source, { namespaces: ['shop', 'billing'] });
    await reflector.store.ready;
    await settle();
    const shopStream = source.streams.find((s) => s.options.namespace === 'shop');
    shopStream?.push(gone());
    await settle();
    assert.deepEqual(summary(changes), ['added shop/a@1', 'added billing/b@2']);
    assert.equal(reflector.store.get('b', 'billing')?.metadata.resourceVersion, '2');
    assert.equal(reflector.store.size, 2);
    assert.deepEqual(reflector.store.list('shop').map((o) => o.metadata.name), ['a']);
    assert.equal(reflector.status().healthy, true);
    assert.deepEqual(reflector.status().watches.map((w) => w.namespace), ['shop', 'billing']);
    await reflector.stop();
  });

  it('filters a cluster-wide watch by namespace patterns', async () => {
    const source = new ScriptedSource();
    source.listScript.push(page([obj('a', '1', 'team-a'), obj('b', '2', 'kube-system'), obj('x', '3', 'team-x')], '5'));
    const { reflector, changes } = reflect(source, { namespaces: ['team-*', '!team-x'] });
    await settle();
    source.stream.push(added(obj('c', '6', 'kube-public')), added(obj('d', '7', 'team-b')));
    await settle();
    assert.deepEqual(source.lists, [{ limit: 500 }]);
    assert.deepEqual(summary(changes), ['added team-a/a@1', 'added team-b/d@7']);
    await reflector.stop();
  });
});
