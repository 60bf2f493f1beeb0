/**
 * The pause annotation on a real API server: while `operon.dev/paused` is on an object, no handler
 * of it runs and its finalizer holds a deletion; an Event says so on pause and on resume; once the
 * annotation goes, the changes made meanwhile are handled and the deletion completes.
 *
 * To know the operator has looked at the paused object after each change (and not merely not yet),
 * it runs one reconcile at a time and a sentinel object is changed after the paused one: the queue
 * is FIFO, so when the sentinel's handler has run, the paused object's cycle has run before it.
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
const ns = await cluster.namespace('handlers-pause');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
const notes = resource(
  {
    group: 'pause.test.operon.dev',
    version: 'v1',
    kind: 'Note',
    spec: Type.Object({ text: Type.String() }),
    status: Type.Object({ seen: Type.Optional(Type.String()) }),
  },
  { registry },
);
await installCrd(client, notes);

const handled: string[] = [];
notes.onField('spec.text', ({ name, new: text, patch }) => {
  handled.push(`${name}:${String(text)}`);
  patch.status.seen = text as string;
}, { id: 'text' });
const deleted: string[] = [];
notes.onDelete(({ name }) => {
  deleted.push(name);
}, { id: 'goodbye' });

const run = startOperator(registry, { client, namespaces: [ns], concurrency: 1 });
after(() => run.stop());
await run.ready;

const PAUSED = 'operon.dev/paused';
const note = (name: string, text: string) => ({ apiVersion: notes.apiVersion, kind: notes.kind, metadata: { name, namespace: ns }, spec: { text } });
const setText = (name: string, text: string) => client.patch(notes, name, { type: 'merge', body: { spec: { text } } }, { namespace: ns });
const annotate = (name: string, value: string | null) => client.patch(notes, name, { type: 'merge', body: { metadata: { annotations: { [PAUSED]: value } } } }, { namespace: ns });
/** Changes the sentinel and waits for its handler: every key queued before has been handled. */
let round = 0;
async function flushQueue(): Promise<void> {
  const text = `round-${++round}`;
  await setText('sentinel', text);
  await waitFor(client, notes, 'sentinel', ns, (n) => n?.status?.seen === text, { timeoutMs: 30_000 });
}

describe('the pause annotation', () => {
  it('runs no handler and holds the deletion while present; handles what changed once it goes', async () => {
    await client.create(notes, note('sentinel', 'start'));
    await client.create(notes, note('held', 'one'));
    await waitFor(client, notes, 'held', ns, (n) => n?.status?.seen === 'one' && (n.metadata.finalizers ?? []).includes('operon.dev/finalizer'), { timeoutMs: 30_000 });

    await annotate('held', 'true');
    await waitFor(client, notes, 'held', ns, () => run.eventsFor('held').some((e) => e.reason === 'Paused'), { timeoutMs: 30_000 });
    const paused = run.eventsFor('held').find((e) => e.reason === 'Paused');
    assert.match(paused?.message ?? '', /operon\.dev\/paused/, 'the Event names the annotation to remove');

    await setText('held', 'two');
    await flushQueue();
    assert.deepEqual(handled.filter((h) => h.startsWith('held:')), ['held:one'], 'no handler ran while paused');
    assert.equal((await client.get(notes, 'held', { namespace: ns })).status?.seen, 'one');

    await client.delete(notes, 'held', { namespace: ns });
    await flushQueue();
    const holding = await client.get(notes, 'held', { namespace: ns });
    assert.ok(holding.metadata.deletionTimestamp, 'being deleted');
    assert.deepEqual(holding.metadata.finalizers, ['operon.dev/finalizer'], 'the finalizer stays while paused');
    assert.deepEqual(deleted, [], 'the delete handler waits for the pause to end');

    await annotate('held', null);
    await waitFor(client, notes, 'held', ns, (n) => n === undefined, { timeoutMs: 30_000 });
    assert.deepEqual(deleted, ['held'], 'the deletion is handled once resumed');
    assert.ok(run.eventsFor('held').some((e) => e.reason === 'Resumed'));
  });

  it('a value of "false" does not pause', async () => {
    await client.create(notes, { ...note('not-paused', 'a'), metadata: { name: 'not-paused', namespace: ns, annotations: { [PAUSED]: 'false' } } });
    await waitFor(client, notes, 'not-paused', ns, (n) => n?.status?.seen === 'a', { timeoutMs: 30_000 });
  });

  it('changes made while paused are handled once the pause ends', async () => {
    await client.create(notes, note('later', 'first'));
    await waitFor(client, notes, 'later', ns, (n) => n?.status?.seen === 'first', { timeoutMs: 30_000 });
    await annotate('later', 'yes');
    await setText('later', 'second');
    await flushQueue();
    assert.equal((await client.get(notes, 'later', { namespace: ns })).status?.seen, 'first');
    await annotate('later', null);
    await waitFor(client, notes, 'later', ns, (n) => n?.status?.seen === 'second', { timeoutMs: 30_000 });
  });
});
