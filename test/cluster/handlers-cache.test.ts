/**
 * Cache options on a real API server: a server-side label selector keeps other objects out of the
 * operator entirely; a transform trims what is cached; named indexes answer lookups from
 * handlers (kopf's `@kopf.index`); an owned kind watched metadata-only still wakes its owner.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { builtin, Registry, resource, Type } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('handlers-cache');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
const configmaps = builtin('v1', 'ConfigMap');
const tasks = resource(
  {
    group: 'cache.test.operon.dev',
    version: 'v1',
    kind: 'Task',
    spec: Type.Object({ queue: Type.String(), notes: Type.Optional(Type.String()) }),
    status: Type.Object({
      sameQueue: Type.Optional(Type.Integer()),
      cached: Type.Optional(Type.Array(Type.String())),
      notesSeen: Type.Optional(Type.Boolean()),
      childData: Type.Optional(Type.Boolean()),
      childLabel: Type.Optional(Type.String()),
    }),
  },
  { registry },
);
await installCrd(client, tasks);

tasks.cache({
  labelSelector: { team: 'a' },
  // Handlers never read `notes`: keep it out of memory.
  transform: (task) => ({ ...task, spec: { queue: task.spec?.queue ?? '' } }),
  indexes: { queue: (task) => [task.spec?.queue ?? ''] },
});
tasks.owns(configmaps, { metadataOnly: true });

tasks.onCreate(({ spec, cache, patch }) => {
  patch.status.sameQueue = cache.byIndex('queue', spec.queue).length;
  patch.status.cached = cache.list(ns).map((t) => t.metadata.name).sort();
  patch.status.notesSeen = spec.notes !== undefined;
});
tasks.reconcile(({ name, namespace, cache, status, patch }) => {
  const child = cache.of(configmaps).get(`${name}-child`, namespace);
  if (child === undefined) return;
  const hasData = (child as { data?: unknown }).data !== undefined;
  const label = child.metadata.labels?.['step'];
  if (status.childData !== hasData) patch.status.childData = hasData;
  if (label !== undefined && status.childLabel !== label) patch.status.childLabel = label;
});

const run = startOperator(registry, { client, namespaces: [ns] });
after(() => run.stop());
await run.ready;

const task = (name: string, queue: string, labels: Record<string, string>) => ({
  apiVersion: tasks.apiVersion,
  kind: tasks.kind,
  metadata: { name, namespace: ns, labels },
  spec: { queue, notes: 'x'.repeat(1000) },
});

describe('cache options', () => {
  it('a label selector keeps other objects out; the index counts; the transform trims', async () => {
    // Created first: a watch that saw it would deliver it before the others.
    await client.create(tasks, task('other-team', 'q1', { team: 'b' }));
    await client.create(tasks, task('one', 'q1', { team: 'a' }));
    await waitFor(client, tasks, 'one', ns, (t) => t?.status?.sameQueue !== undefined, { timeoutMs: 30_000 });
    await client.create(tasks, task('two', 'q1', { team: 'a' }));
    const two = await waitFor(client, tasks, 'two', ns, (t) => t?.status?.sameQueue !== undefined, { timeoutMs: 30_000 });
    assert.equal(two?.status?.sameQueue, 2, 'both of team a on queue q1, found through the index');
    assert.deepEqual(two?.status?.cached, ['one', 'two'], 'the object outside the selector never reached the cache');
    assert.equal(two?.status?.notesSeen, false, 'the transform dropped spec.notes before handlers saw it');
    const other = await client.get(tasks, 'other-team', { namespace: ns });
    assert.equal(other.status, undefined, 'no handler ran for the object outside the selector');
  });

  it('an owned kind watched metadata-only wakes its owner and caches no data', async () => {
    const owner = await client.get(tasks, 'one', { namespace: ns });
    await client.create(configmaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'one-child',
        namespace: ns,
        labels: { step: '1' },
        ownerReferences: [{ apiVersion: tasks.apiVersion, kind: tasks.kind, name: 'one', uid: owner.metadata.uid, controller: true }],
      },
      data: { big: 'y'.repeat(1000) },
    });
    const seen = await waitFor(client, tasks, 'one', ns, (t) => t?.status?.childLabel === '1', { timeoutMs: 30_000 });
    assert.equal(seen?.status?.childData, false, 'the cached child has metadata only');
    await client.patch(configmaps, 'one-child', { type: 'merge', body: { metadata: { labels: { step: '2' } } } }, { namespace: ns });
    await waitFor(client, tasks, 'one', ns, (t) => t?.status?.childLabel === '2', { timeoutMs: 30_000 });
  });
});
