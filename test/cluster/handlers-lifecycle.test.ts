/**
 * The changing handlers on a real API server: create, update (with old/new/diff of the last
 * handled state), field, delete, event; a handler patching its own object does not loop; the
 * finalizer is added only while a delete handler exists and removed after it ran, with another
 * controller's finalizer preserved.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { Registry, resource, Type } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('handlers-lifecycle');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
const notes = resource(
  {
    group: 'lifecycle.test.operon.dev',
    version: 'v1',
    kind: 'Note',
    spec: Type.Object({ text: Type.String(), color: Type.Optional(Type.String()) }),
    status: Type.Object({ seen: Type.Optional(Type.String()) }, { additionalProperties: true }),
  },
  { registry },
);
await installCrd(client, notes);

const calls: Record<string, Array<{ name: string; detail?: unknown }>> = { create: [], update: [], field: [], delete: [], event: [] };
const record = (kind: string, name: string, detail?: unknown): void => void calls[kind]?.push({ name, detail });

notes.onCreate(async ({ name, spec, patch }) => {
  record('create', name);
  patch.status.seen = spec.text;
  return { length: spec.text.length };
}, { id: 'created' });
notes.onUpdate(async ({ name, old, new: neu, diff, patch }) => {
  record('update', name, { old: old?.spec, new: neu.spec, diff });
  patch.status.seen = neu.spec?.text;
});
notes.onField<string>('spec.color', async ({ name, old, new: neu }) => record('field', name, { old, new: neu }));
notes.onDelete(async ({ name }) => record('delete', name), { labels: { cleanup: 'yes' } });
notes.onEvent(async ({ type, name }) => record('event', name, type));

const run = startOperator(registry, { client, namespaces: [ns] });
after(() => run.stop());
await run.ready;

const note = (name: string, spec: { text: string; color?: string }, labels?: Record<string, string>) => ({
  apiVersion: notes.apiVersion,
  kind: notes.kind,
  metadata: { name, namespace: ns, ...(labels ? { labels } : {}) },
  spec,
});
const named = (kind: string, name: string) => calls[kind]?.filter((c) => c.name === name) ?? [];

describe('changing handlers', () => {
  it('runs create once, stores its result and status, and does not loop on its own patch', async () => {
    await client.create(notes, note('n1', { text: 'hello' }));
    const done = await waitFor(client, notes, 'n1', ns, (n) => n?.metadata.annotations?.['operon.dev/last-handled-configuration'] !== undefined);
    assert.equal(done?.status?.seen, 'hello');
    assert.deepEqual((done?.status as Record<string, unknown>)['created'], { length: 5 });
    // The status write and the diff-base write come back as events; neither may run create again.
    await waitFor(client, notes, 'n1', ns, () => named('event', 'n1').length >= 3);
    assert.equal(named('create', 'n1').length, 1);
    assert.equal(named('update', 'n1').length, 0);
    assert.deepEqual(done?.metadata.finalizers ?? [], [], 'no finalizer: the delete handler does not match');
    assert.ok(!Object.keys(done?.metadata.annotations ?? {}).some((k) => k.startsWith('operon.dev/') && !k.endsWith('last-handled-configuration')), 'progress purged');
  });

  it('runs update with old, new and diff of the last handled state, and field handlers for their field', async () => {
    await client.patch(notes, 'n1', { type: 'merge', body: { spec: { text: 'bye', color: 'red' } } }, { namespace: ns });
    await waitFor(client, notes, 'n1', ns, (n) => n?.status?.seen === 'bye');
    await waitFor(client, notes, 'n1', ns, () => named('field', 'n1').length === 1);
    const [update] = named('update', 'n1');
    assert.deepEqual(update?.detail, {
      old: { text: 'hello' },
      new: { text: 'bye', color: 'red' },
      diff: [
        { op: 'add', path: ['spec', 'color'], old: undefined, new: 'red' },
        { op: 'change', path: ['spec', 'text'], old: 'hello', new: 'bye' },
      ],
    });
    assert.deepEqual(named('field', 'n1')[0]?.detail, { old: undefined, new: 'red' });
    assert.equal(named('update', 'n1').length, 1);
  });

  it('adds the finalizer only while a delete handler applies, runs it, and keeps other finalizers', async () => {
    await client.create(notes, { ...note('n2', { text: 'x' }, { cleanup: 'yes' }), metadata: { name: 'n2', namespace: ns, labels: { cleanup: 'yes' }, finalizers: ['example.com/other'] } });
    await waitFor(client, notes, 'n2', ns, (n) => (n?.metadata.finalizers ?? []).includes('operon.dev/finalizer'));
    await client.delete(notes, 'n2', { namespace: ns });
    const left = await waitFor(client, notes, 'n2', ns, (n) => n !== undefined && !(n.metadata.finalizers ?? []).includes('operon.dev/finalizer'));
    assert.deepEqual(left?.metadata.finalizers, ['example.com/other']);
    assert.equal(named('delete', 'n2').length, 1);
    await client.patch(notes, 'n2', { type: 'json', ops: [{ op: 'remove', path: '/metadata/finalizers/0' }] }, { namespace: ns });
    await waitFor(client, notes, 'n2', ns, (n) => n === undefined);
    assert.equal(named('delete', 'n2').length, 1);
  });

  it('delivers raw events, deletion included', async () => {
    await client.delete(notes, 'n1', { namespace: ns });
    await waitFor(client, notes, 'n1', ns, () => named('event', 'n1').some((e) => e.detail === 'DELETED'));
    assert.equal(named('event', 'n1')[0]?.detail, 'ADDED');
    assert.equal(named('delete', 'n1').length, 0, 'the delete handler filters on a label n1 does not have');
  });
});
