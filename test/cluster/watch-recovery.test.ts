/**
 * The watcher through the worst an API server does, on a control plane of this file's own: a
 * resourceVersion compacted away (410 Expired) with changes in the gap, and an API server that
 * crashes mid-watch while another writer (an HA peer, simulated by writing to etcd) carries on.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Backoff } from '../../src/base/backoff.ts';
import { recordingLogger } from '../../src/base/logger.ts';
import { KubeClient } from '../../src/client/index.ts';
import { Reflector, sourceFor } from '../../src/watch/index.ts';
import { startApiProxy } from '../support/api-proxy.ts';
import { eventually } from '../support/cluster.ts';
import { ownPlane } from '../support/own-plane.ts';
import { cached, ChangeLog, configmaps, listed, sameEntries } from '../support/watching.ts';
import type { ConfigMap } from '../support/watching.ts';

const plane = await ownPlane();
const admin = await KubeClient.load({ kubeconfig: plane.state.kubeconfig });
after(() => admin.close());
const ns = 'recovery';
await admin.create({ group: '', version: 'v1', plural: 'namespaces', namespaced: false }, { metadata: { name: ns } });

const cm = (name: string, set: string, data: Record<string, string> = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, labels: { set } },
  data,
});
const quickBackoff = (): Backoff => new Backoff({ initialMs: 200, maxMs: 1_000, jitter: 'none' });

describe('watch recovery on a control plane of our own', () => {
  it('relists after 410 Expired (history compacted away) and reports the deletions from the gap', async () => {
    for (let i = 1; i <= 5; i++) await admin.create(configmaps, cm(`gap-${i}`, 'gap'));
    // The watch goes through a proxy, so the test decides when it can reach the server.
    const proxy = await startApiProxy(plane.state);
    after(() => proxy.close());
    const viaProxy = KubeClient.fromConfig(proxy.clientConfig(ns));
    after(() => viaProxy.close());
    const { logger, records } = recordingLogger();
    const log = new ChangeLog();
    const reflector = new Reflector<ConfigMap>({
      source: sourceFor(viaProxy, configmaps),
      namespaced: true,
      scope: { namespaces: ns, labelSelector: { set: 'gap' } },
      idleTimeoutMs: 2_000,
      backoff: quickBackoff,
      logger,
    });
    reflector.subscribe(log.record);
    void reflector.start();
    after(() => reflector.stop());
    await reflector.store.ready;
    await eventually(() => log.changes.length === 5, { what: 'the five initial objects' });
    // The listed objects reach subscribers before the watch that follows the list is open.
    await eventually(() => reflector.status().watches[0]?.connectedAt !== undefined, { what: 'the watch open' });
    const savedVersion = reflector.status().watches[0]?.resourceVersion;
    assert.ok(savedVersion);

    // Cut the watcher off: its stream goes silent and its reconnects wait in the proxy.
    proxy.hold();
    assert.equal(proxy.stallOpenStreams(), 1);
    await admin.delete(configmaps, 'gap-1', { namespace: ns });
    await admin.delete(configmaps, 'gap-2', { namespace: ns });
    await admin.patch(configmaps, 'gap-3', { type: 'merge', body: { data: { changed: 'in the gap' } } }, { namespace: ns });
    await admin.create(configmaps, cm('gap-6', 'gap'));
    await admin.create(configmaps, cm('churn', 'other'));
    for (let i = 0; i < 50; i++) await admin.patch(configmaps, 'churn', { type: 'merge', body: { data: { i: String(i) } } }, { namespace: ns });
    const revision = await plane.etcdRevision();
    assert.ok(revision > Number(savedVersion) + 50);
    await plane.compactEtcd(revision);
    // The API server's watch cache would still replay the gap from memory; a restart empties it,
    // so the saved resourceVersion is now gone everywhere.
    await plane.restartApiServer();
    proxy.release();

    const expected = await listed(admin, configmaps, { namespace: ns, labelSelector: 'set=gap' });
    await eventually(() => sameEntries(cached(reflector.store), expected), { timeoutMs: 30_000, what: 'the cache to match the server' });
    await eventually(() => log.changes.length >= 9, { what: 'the gap to be reported' });
    assert.deepEqual(log.lines().slice(5).sort(), ['added gap-6', 'deleted gap-1', 'deleted gap-2', 'modified gap-3'].sort());
    assert.equal(log.changes.find((c) => c.type === 'modified')?.object.data?.['changed'], 'in the gap');

    const status = reflector.status().watches[0];
    assert.ok(status);
    assert.ok(status.relists >= 1, 'the gap was recovered by a relist');
    const expiredRelist = records.find((r) => r['kind'] === 'Expired' && r['recovery'] === 'relist');
    assert.ok(expiredRelist, `no Expired → relist logged; failures: ${JSON.stringify(records.filter((r) => r['kind']).map((r) => [r['kind'], r['recovery']]))}`);
    assert.match(expiredRelist.msg, /too old resource version/);
    assert.equal(reflector.status().healthy, true);
  });

  it('reconnects after the API server crashes and restarts, and misses nothing written meanwhile', async () => {
    for (let i = 1; i <= 4; i++) await admin.create(configmaps, cm(`crash-${i}`, 'crash'));
    const log = new ChangeLog();
    const reflector = new Reflector<ConfigMap>({
      source: sourceFor(admin, configmaps),
      namespaced: true,
      scope: { namespaces: ns, labelSelector: { set: 'crash' } },
      backoff: quickBackoff,
    });
    reflector.subscribe(log.record);
    void reflector.start();
    after(() => reflector.stop());
    await reflector.store.ready;
    await eventually(() => log.changes.length === 4, { what: 'the four initial objects' });
    const before = reflector.status().watches[0];
    assert.ok(before);

    await plane.restartApiServer(async () => {
      // Another API server of an HA control plane deletes one while ours is down.
      assert.equal(await plane.etcdDelete(`/registry/configmaps/${ns}/crash-1`), 1);
    });
    // Written the moment the server is back, racing the watcher's reconnect.
    await admin.create(configmaps, cm('crash-5', 'crash'));
    await admin.patch(configmaps, 'crash-2', { type: 'merge', body: { data: { after: 'restart' } } }, { namespace: ns });
    await admin.delete(configmaps, 'crash-3', { namespace: ns });

    const expected = await listed(admin, configmaps, { namespace: ns, labelSelector: 'set=crash' });
    assert.deepEqual(Object.keys(expected).sort(), [`${ns}/crash-2`, `${ns}/crash-4`, `${ns}/crash-5`]);
    await eventually(() => sameEntries(cached(reflector.store), expected), { timeoutMs: 30_000, what: 'the cache to match the server' });
    await eventually(() => log.changes.length >= 8, { what: 'every change to be reported' });
    assert.deepEqual(log.lines().slice(4).sort(), ['added crash-5', 'deleted crash-1', 'deleted crash-3', 'modified crash-2'].sort());
    const after_ = reflector.status().watches[0];
    assert.ok(after_);
    assert.ok(after_.reconnects + after_.relists > before.reconnects + before.relists, 'the watch was re-established');
    assert.equal(after_.healthy, true);
    assert.equal(after_.phase, 'watching');
  });
});
