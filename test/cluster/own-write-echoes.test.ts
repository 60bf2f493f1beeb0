/**
 * The echo of a cycle's own status write costs no second cycle, on a real API server, also when
 * the watch delivers the echo before the write's response: a burst of objects, each written once
 * by its reconcile, runs each reconcile once; a foreign change afterwards still runs it again.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { Registry, resource, Type } from '../../src/index.ts';
import { startOperator } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('own-write-echoes');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
const notes = resource(
  {
    group: 'echoes.test.operon.dev',
    version: 'v1',
    kind: 'Note',
    spec: Type.Object({ text: Type.String() }),
    status: Type.Object({ seen: Type.Optional(Type.String()) }),
  },
  { registry },
);
await installCrd(client, notes);

/** Reconcile runs per Note, and the `barrier` label each Note's last run saw. */
const runs = new Map<string, number>();
const barriers = new Map<string, string | undefined>();
notes.reconcile(({ name, spec, status, patch, body }) => {
  runs.set(name, (runs.get(name) ?? 0) + 1);
  barriers.set(name, body.metadata.labels?.['barrier']);
  if (status.seen !== spec.text) patch.status.seen = spec.text;
});

const run = startOperator(registry, { client, namespaces: [ns] });
after(() => run.stop());
await run.ready;

// Enough objects at once that, on this API server, some echoes come back before their write's
// response (about one in seven did on a 2-core machine before such echoes were held back).
const COUNT = 150;

describe('own-write echoes', () => {
  it('a burst runs each reconcile once per change: the echo of its status write never wakes it', async () => {
    const names = Array.from({ length: COUNT }, (_, i) => `note-${i}`);
    await Promise.all(names.map((name) => client.create(notes, { apiVersion: notes.apiVersion, kind: notes.kind, metadata: { name, namespace: ns }, spec: { text: name } })));
    await eventually(async () => (await client.list(notes, { namespace: ns })).items.filter((n) => n.status?.seen === n.spec?.text).length === COUNT, { what: `all ${COUNT} Notes written by their reconcile` });
    // A barrier in each Note's own event stream: once a run saw it, every earlier trigger of that
    // Note (its creation, the echo of its status write) has been handled, and the barrier's own
    // run writes nothing.
    await Promise.all(names.map((name) => client.patch(notes, name, { type: 'merge', body: { metadata: { labels: { barrier: '1' } } } }, { namespace: ns })));
    await eventually(() => names.every((name) => barriers.get(name) === '1'), { what: 'a run of every Note that saw the barrier' });
    const twice = names.filter((name) => runs.get(name) !== 2).map((name) => `${name}: ${runs.get(name)}`);
    assert.deepEqual(twice, [], 'each Note ran for its creation and for the barrier, and never for its own write');
  });
});
