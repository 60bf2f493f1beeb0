/**
 * Namespaces chosen by a label selector on a real API server, followed at run time: objects of an
 * unlabelled namespace are not handled; labelling the namespace brings its existing objects in;
 * unlabelling it stops their handling (their timers stop too) while the operator keeps running.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { builtin, Registry, resource } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';

const cluster = await useCluster();
const first = await cluster.namespace('nssel-a');
const second = await cluster.namespace('nssel-b');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());
const namespaces = builtin('v1', 'Namespace');
const configmaps = builtin('v1', 'ConfigMap');
const LABEL = 'nssel.test.operon.dev/watch';
// A label value of this run only: other runs' namespaces on a shared plane never match.
const value = `run-${process.pid}`;
const label = (namespace: string, on: boolean) => client.patch(namespaces, namespace, { type: 'merge', body: { metadata: { labels: { [LABEL]: on ? value : null } } } });

const registry = new Registry();
const cms = resource(configmaps, { registry });
const handled: string[] = [];
cms.onCreate(({ namespace, name, patch }) => {
  handled.push(`${namespace}/${name}`);
  patch.metadata.annotations['nssel/seen'] = 'yes';
}, { labels: { nssel: 'yes' } });
const ticks = new Map<string, number>();
cms.timer(({ namespace, name }) => void ticks.set(`${namespace}/${name}`, (ticks.get(`${namespace}/${name}`) ?? 0) + 1), { interval: '200ms', initialDelay: '10ms', labels: { nssel: 'yes' } });

await label(first, true);
const run = startOperator(registry, { client, namespaceSelector: { [LABEL]: value } });
after(() => run.stop());
await run.ready;

const cm = (namespace: string, name: string) => ({ apiVersion: 'v1' as const, kind: 'ConfigMap' as const, metadata: { name, namespace, labels: { nssel: 'yes' } } });

describe('namespace label selector', () => {
  it('handles a labelled namespace only, brings one in when labelled, and lets go when unlabelled', async () => {
    await client.create(configmaps, cm(second, 'waiting'));
    await client.create(configmaps, cm(first, 'handled'));
    await waitFor(client, configmaps, 'handled', first, (o) => o?.metadata.annotations?.['nssel/seen'] === 'yes', { timeoutMs: 30_000 });
    // Created before the one that was handled, in a namespace the watch covers: its change was seen and skipped.
    assert.ok(!handled.includes(`${second}/waiting`), 'an object of an unselected namespace is not handled');

    await label(second, true);
    await waitFor(client, configmaps, 'waiting', second, (o) => o?.metadata.annotations?.['nssel/seen'] === 'yes', { timeoutMs: 30_000, what: 'the object of the newly labelled namespace handled' });

    await eventually(() => (ticks.get(`${second}/waiting`) ?? 0) >= 2, { timeoutMs: 30_000, what: 'its timer to run' });
    await label(second, false);
    await eventually(() => run.logs.some((r) => String(r.msg).startsWith('namespace no longer selected') && r.namespace === second), { timeoutMs: 30_000, what: 'the namespace to go out' });
    // Its cycle stops its timer; wait for one more change of the other namespace to pass through the queue.
    await client.create(configmaps, cm(first, 'after'));
    await waitFor(client, configmaps, 'after', first, (o) => o?.metadata.annotations?.['nssel/seen'] === 'yes', { timeoutMs: 30_000 });
    const stopped = ticks.get(`${second}/waiting`) ?? 0;
    await client.create(configmaps, cm(second, 'ignored'));
    await eventually(() => (ticks.get(`${first}/after`) ?? 0) >= 3, { timeoutMs: 30_000, what: 'three ticks elsewhere' });
    assert.ok((ticks.get(`${second}/waiting`) ?? 0) <= stopped + 1, 'the unselected object’s timer stopped');
    assert.ok(!handled.includes(`${second}/ignored`), 'a new object of the unselected namespace is not handled');
  });
});
