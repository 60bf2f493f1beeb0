/**
 * The watcher and reflector against a real API server (shared plane): the initial state, live
 * changes in order, selectors and namespace scopes, the streaming initial list, a stalled stream,
 * and an RBAC-denied watch that heals once the permission is granted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Backoff } from '../../src/base/backoff.ts';
import { KubeClient } from '../../src/client/index.ts';
import { Reflector, sourceFor, Watcher } from '../../src/watch/index.ts';
import type { WatcherEvent } from '../../src/watch/index.ts';
import { startApiProxy } from '../support/api-proxy.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { cached, ChangeLog, configmaps, listed, recordingSource, sameEntries } from '../support/watching.ts';
import type { ConfigMap } from '../support/watching.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('watch');
const ns2 = await cluster.namespace('watch');
const ns3 = await cluster.namespace('watch');
const client = await KubeClient.load({ kubeconfig: cluster.kubeconfig });
after(() => client.close());

const cm = (name: string, namespace = ns, labels: Record<string, string> = {}, data: Record<string, string> = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, labels },
  data,
});

/** A quick backoff so a test sees a retry within a second or two. */
const quickBackoff = (): Backoff => new Backoff({ initialMs: 100, maxMs: 1_000, jitter: 'none' });

function startReflector(reflector: Reflector<ConfigMap>): void {
  void reflector.start();
  after(() => reflector.stop());
}

describe('Reflector and Watcher on the real API server', () => {
  it('sees objects that existed before it started, then create/update/delete of each object in order', async () => {
    for (const name of ['before-1', 'before-2', 'before-3']) await client.create(configmaps, cm(name, ns, { set: 'order' }));
    const log = new ChangeLog();
    const reflector = new Reflector<ConfigMap>({ source: sourceFor(client, configmaps), namespaced: true, scope: { namespaces: ns, labelSelector: { set: 'order' } } });
    reflector.subscribe(log.record);
    startReflector(reflector);
    await reflector.store.ready;
    // The cache is complete at `ready`; subscribers hear of it right after, one change at a time.
    assert.equal(reflector.store.size, 3);
    await eventually(() => log.changes.length === 3, { what: 'three initial changes' });
    assert.deepEqual(log.lines().sort(), ['added before-1', 'added before-2', 'added before-3']);
    assert.equal(reflector.store.get('before-2', ns)?.metadata?.name, 'before-2');

    await client.create(configmaps, cm('live', ns, { set: 'order' }, { step: '0' }));
    for (let step = 1; step <= 3; step++) await client.patch(configmaps, 'live', { type: 'merge', body: { data: { step: String(step) } } }, { namespace: ns });
    await client.delete(configmaps, 'live', { namespace: ns });
    await client.patch(configmaps, 'before-1', { type: 'merge', body: { data: { touched: 'yes' } } }, { namespace: ns });

    await eventually(() => reflector.store.get('before-1', ns)?.data?.['touched'] === 'yes', { what: 'the last write to arrive' });
    assert.deepEqual(log.lines((n) => n === 'live'), ['added live', 'modified live', 'modified live', 'modified live', 'deleted live']);
    const steps = log.changes.filter((c) => c.object.metadata?.name === 'live' && c.type !== 'deleted').map((c) => c.object.data?.['step']);
    assert.deepEqual(steps, ['0', '1', '2', '3']);
    const versions = log.changes.filter((c) => c.object.metadata?.name === 'live').map((c) => Number(c.object.metadata?.resourceVersion));
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b), 'resourceVersions only grow');
    assert.equal(reflector.store.get('live', ns), undefined);
    assert.ok(sameEntries(cached(reflector.store), await listed(client, configmaps, { namespace: ns, labelSelector: 'set=order' })));
    assert.equal(reflector.status().healthy, true);
  });

  it('a label-selector scoped watch holds only matching objects; one relabelled out of the selector is reported deleted', async () => {
    await client.create(configmaps, cm('sel-in', ns, { tier: 'front' }));
    await client.create(configmaps, cm('sel-out', ns, { tier: 'back' }));
    const log = new ChangeLog();
    const reflector = new Reflector<ConfigMap>({ source: sourceFor(client, configmaps), namespaced: true, scope: { namespaces: ns, labelSelector: 'tier=front' } });
    reflector.subscribe(log.record);
    startReflector(reflector);
    await reflector.store.ready;
    assert.deepEqual(reflector.store.list().map((o) => o.metadata?.name), ['sel-in']);
    await eventually(() => log.changes.length === 1, { what: 'the initial change' });

    await client.patch(configmaps, 'sel-out', { type: 'merge', body: { metadata: { labels: { tier: 'front' } } } }, { namespace: ns });
    await client.patch(configmaps, 'sel-in', { type: 'merge', body: { metadata: { labels: { tier: 'back' } } } }, { namespace: ns });
    await eventually(() => reflector.store.get('sel-in', ns) === undefined && reflector.store.get('sel-out', ns) !== undefined, { what: 'the selector change' });
    assert.deepEqual(log.lines(), ['added sel-in', 'added sel-out', 'deleted sel-in']);
  });

  it('a multi-namespace scope runs one watch per namespace and never sees another namespace', async () => {
    for (const n of [ns, ns2, ns3]) await client.create(configmaps, cm('multi', n, { set: 'multi' }));
    const reflector = new Reflector<ConfigMap>({ source: sourceFor(client, configmaps), namespaced: true, scope: { namespaces: [ns2, ns3], labelSelector: { set: 'multi' } } });
    startReflector(reflector);
    await reflector.store.ready;
    assert.deepEqual(reflector.status().watches.map((w) => w.namespace).sort(), [ns2, ns3].sort());
    assert.deepEqual(reflector.store.list().map((o) => o.metadata?.namespace).sort(), [ns2, ns3].sort());

    await client.create(configmaps, cm('multi-2', ns, { set: 'multi' }));
    await client.create(configmaps, cm('multi-2', ns3, { set: 'multi' }));
    await eventually(() => reflector.store.get('multi-2', ns3) !== undefined, { what: 'multi-2 in the third namespace' });
    assert.equal(reflector.store.get('multi-2', ns), undefined);
    assert.equal(reflector.store.get('multi', ns), undefined);
    assert.equal(reflector.store.list(ns2).length, 1);

    // A glob with an exclusion: one cluster-wide watch, filtered on our side.
    const globbed = new Reflector<ConfigMap>({ source: sourceFor(client, configmaps), namespaced: true, scope: { namespaces: ['watch-*', `!${ns}`], labelSelector: { set: 'multi' } } });
    startReflector(globbed);
    await globbed.store.ready;
    const ours = globbed.store.list().filter((o) => [ns, ns2, ns3].includes(o.metadata?.namespace ?? ''));
    assert.deepEqual(ours.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`).sort(), [`${ns2}/multi`, `${ns3}/multi`, `${ns3}/multi-2`].sort());
  });

  it('the streaming initial list (sendInitialEvents) works against this server, or falls back to LIST cleanly', async () => {
    for (const name of ['stream-1', 'stream-2']) await client.create(configmaps, cm(name, ns, { set: 'stream' }));
    const source = recordingSource<ConfigMap>(client, configmaps);
    const events: Array<WatcherEvent<ConfigMap>['type']> = [];
    const watcher = new Watcher<ConfigMap>({ source, namespace: ns, labelSelector: 'set=stream', streamingList: true, backoff: quickBackoff() });
    after(() => watcher.stop());
    const names: string[] = [];
    void watcher.run((event) => {
      events.push(event.type);
      if (event.type === 'InitApply' || event.type === 'Apply') names.push(event.object.metadata?.name ?? '');
    });
    await eventually(() => events.includes('InitDone'), { what: 'InitDone' });
    assert.deepEqual(names.sort(), ['stream-1', 'stream-2']);
    const streamed = source.watches[0]?.sendInitialEvents === true && source.lists.length === 0;
    const fellBack = source.lists.length > 0;
    assert.ok(streamed || fellBack);
    // Kubernetes 1.36 serves WatchList (beta, on by default): no LIST at all.
    assert.equal(streamed, true, `expected a streaming list; requests: lists=${JSON.stringify(source.lists)} watches=${JSON.stringify(source.watches)}`);
    assert.deepEqual(source.watches[0], { namespace: ns, labelSelector: 'set=stream', sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true, timeoutSeconds: 290 });

    // The same stream goes on as an ordinary watch.
    await client.create(configmaps, cm('stream-3', ns, { set: 'stream' }));
    await eventually(() => names.includes('stream-3'), { what: 'stream-3' });
    assert.equal(source.watches.length, 1);
    assert.deepEqual(events.slice(0, 4), ['Init', 'InitApply', 'InitApply', 'InitDone']);
    assert.equal(watcher.status().phase, 'watching');
  });

  it('detects a stalled stream with the idle timeout and reconnects without losing a change', async () => {
    const proxy = await startApiProxy(cluster.state);
    after(() => proxy.close());
    const viaProxy = KubeClient.fromConfig(proxy.clientConfig(ns));
    after(() => viaProxy.close());
    const reflector = new Reflector<ConfigMap>({
      source: sourceFor(viaProxy, configmaps),
      namespaced: true,
      scope: { namespaces: ns, labelSelector: { set: 'stall' } },
      idleTimeoutMs: 3_000,
      backoff: quickBackoff,
    });
    startReflector(reflector);
    await reflector.store.ready;
    await client.create(configmaps, cm('stall-1', ns, { set: 'stall' }));
    await eventually(() => reflector.store.get('stall-1', ns) !== undefined, { what: 'stall-1 through the proxy' });

    const watchesBefore = proxy.requests.filter((r) => r.path.includes('watch=true')).length;
    assert.equal(proxy.stallOpenStreams(), 1, 'one open watch stream to stall');
    await client.create(configmaps, cm('stall-2', ns, { set: 'stall' }));
    await eventually(() => reflector.store.get('stall-2', ns) !== undefined, { timeoutMs: 20_000, what: 'stall-2 after the stall' });

    const status = reflector.status().watches[0];
    assert.ok(status);
    assert.match(status.lastError?.message ?? '', /stalled/);
    assert.ok(status.reconnects >= 1);
    assert.equal(status.relists, 0, 'a stall resumes from the last resourceVersion; it does not relist');
    assert.ok(proxy.requests.filter((r) => r.path.includes('watch=true')).length > watchesBefore);
    assert.ok(sameEntries(cached(reflector.store), await listed(client, configmaps, { namespace: ns, labelSelector: 'set=stall' })));
  });

  it('a throttled watch (429 at connect) waits the Retry-After before connecting again', async () => {
    const proxy = await startApiProxy(cluster.state);
    after(() => proxy.close());
    const viaProxy = KubeClient.fromConfig(proxy.clientConfig(ns));
    after(() => viaProxy.close());
    const isWatch = (path: string): boolean => path.includes('watch=true');
    const reflector = new Reflector<ConfigMap>({
      source: sourceFor(viaProxy, configmaps),
      namespaced: true,
      scope: { namespaces: ns, labelSelector: { set: 'throttled' } },
      idleTimeoutMs: 2_000,
      backoff: quickBackoff,
    });
    startReflector(reflector);
    await reflector.store.ready;
    const from = proxy.requests.length;
    proxy.throttleNext(2, 2, isWatch);
    proxy.stallOpenStreams();
    await client.create(configmaps, cm('throttled-1', ns, { set: 'throttled' }));
    await eventually(() => reflector.store.get('throttled-1', ns) !== undefined, { timeoutMs: 20_000, what: 'throttled-1 after the 429s' });
    const watches = proxy.requests.slice(from).filter((r) => isWatch(r.path));
    assert.deepEqual(watches.slice(0, 3).map((r) => r.status), [429, 429, 200]);
    for (let i = 1; i < 3; i++) {
      const gap = (watches[i]?.at ?? 0) - (watches[i - 1]?.at ?? 0);
      assert.ok(gap >= 1_950, `watch retried ${gap} ms after a 429 asking for 2 s`);
    }
    assert.equal(reflector.status().watches[0]?.lastError?.kind, 'TooManyRequests');
  });

  it('an RBAC-denied watch reports Forbidden with the missing verb and resource, turns unhealthy, and heals once granted', async () => {
    await cluster.kubectl(['create', 'serviceaccount', 'watcher', '-n', ns]);
    const token = (await cluster.kubectl(['create', 'token', 'watcher', '-n', ns, '--duration=10m'])).trim();
    const dir = mkdtempSync(join(tmpdir(), 'operon-watch-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const kubeconfig = join(dir, 'watcher.kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'plane', cluster: { server: cluster.state.server, 'certificate-authority': join(cluster.state.dir, 'pki', 'ca.crt') } }],
        users: [{ name: 'watcher', user: { token } }],
        contexts: [{ name: 'watcher', context: { cluster: 'plane', user: 'watcher', namespace: ns } }],
        'current-context': 'watcher',
      }),
    );
    const limited = await KubeClient.load({ kubeconfig });
    after(() => limited.close());
    await client.create(configmaps, cm('rbac-1', ns, { set: 'rbac' }));

    const watcher = new Watcher<ConfigMap>({ source: sourceFor(limited, configmaps), namespace: ns, labelSelector: 'set=rbac', unhealthyAfterMs: 1_500, backoff: quickBackoff() });
    after(() => watcher.stop());
    const names: string[] = [];
    void watcher.run((event) => {
      if (event.type === 'InitApply' || event.type === 'Apply') names.push(event.object.metadata?.name ?? '');
    });
    await eventually(() => watcher.status().lastError !== undefined, { what: 'the first failure' });
    const denied = watcher.status().lastError;
    assert.equal(denied?.kind, 'Forbidden');
    assert.match(denied?.hint ?? '', new RegExp(`"list" on "configmaps" in namespace ${ns}`));
    assert.match(denied?.message ?? '', new RegExp(`system:serviceaccount:${ns}:watcher`));
    await eventually(() => !watcher.status().healthy, { what: 'the watcher to report itself unhealthy' });

    // Allowed to list but not to watch: the list succeeds, the watch is refused, and it says so.
    await cluster.kubectl(['create', 'role', 'cm-lister', '-n', ns, '--verb=list', '--resource=configmaps']);
    await cluster.kubectl(['create', 'rolebinding', 'cm-lister', '-n', ns, '--role=cm-lister', `--serviceaccount=${ns}:watcher`]);
    await eventually(() => names.includes('rbac-1'), { timeoutMs: 20_000, what: 'the list to succeed' });
    await eventually(() => /"watch" on "configmaps"/.test(watcher.status().lastError?.hint ?? ''), { what: 'the watch to be refused' });
    assert.equal(watcher.status().lastError?.kind, 'Forbidden');
    await eventually(() => !watcher.status().healthy, { what: 'the watcher to report itself unhealthy again' });

    await cluster.kubectl(['create', 'role', 'cm-watcher', '-n', ns, '--verb=watch', '--resource=configmaps']);
    await cluster.kubectl(['create', 'rolebinding', 'cm-watcher', '-n', ns, '--role=cm-watcher', `--serviceaccount=${ns}:watcher`]);
    await eventually(() => watcher.status().healthy && watcher.status().phase === 'watching' && watcher.status().connectedAt !== undefined, {
      timeoutMs: 20_000,
      what: 'the watcher to heal',
    });
    assert.deepEqual(names, ['rbac-1']);
    await client.create(configmaps, cm('rbac-2', ns, { set: 'rbac' }));
    await eventually(() => names.includes('rbac-2'), { what: 'rbac-2 on the now-permitted watch' });
  });
});
