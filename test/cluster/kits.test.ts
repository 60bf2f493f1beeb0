/**
 * Kits against a real API server: Events about a custom resource show in `kubectl get events`
 * and `kubectl describe`, repeated warnings aggregate into one Event, and an adopted Pod is
 * garbage-collected with its owner.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.d.ts';
import { CRD_RESOURCE, KubeClient } from '../../src/client/index.ts';
import type { KubeObject, ResourceRef } from '../../src/client/index.ts';
import { adopt, controllerOf, EventRecorder } from '../../src/kits/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('kits');
const client = await KubeClient.load({ kubeconfig: cluster.kubeconfig });
after(() => client.close());

const group = `kits-${Math.random().toString(36).slice(2, 8)}.test.operon.dev`;
const printers: ResourceRef = { group, version: 'v1', plural: 'printers', namespaced: true };
const pods: ResourceRef = { group: '', version: 'v1', plural: 'pods', namespaced: true };

await client.create(CRD_RESOURCE, {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `printers.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural: 'printers', kind: 'Printer', singular: 'printer' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { text: { type: 'string' } } } } } },
      },
    ],
  },
});
after(async () => {
  await client.delete(CRD_RESOURCE, `printers.${group}`).catch(() => undefined);
});
await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/printers.${group}`]);

const printer = (name: string): KubeObject<{ text: string }> => ({ apiVersion: `${group}/v1`, kind: 'Printer', metadata: { name, namespace: ns }, spec: { text: 'hello' } });

interface EventRow {
  type: string;
  reason: string;
  message: string;
  count: number;
  source?: { component?: string };
  reportingComponent?: string;
  involvedObject: { kind: string; name: string; uid: string; apiVersion: string };
}

async function eventsAbout(name: string): Promise<EventRow[]> {
  const out = await cluster.kubectl(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name}`, '-o', 'json']);
  return (JSON.parse(out) as { items: EventRow[] }).items;
}

describe('kits against the real API server', () => {
  it('posts Events about a custom resource that kubectl get events and describe show', async () => {
    const created = await client.create(printers, printer('events'));
    const recorder = new EventRecorder({ client, component: 'kits-test-operator', instance: 'test-0' });
    recorder.info(created, 'Printing', 'printing hello');
    await recorder.flush();
    assert.equal(recorder.stats.failed, 0);

    const [event] = await eventsAbout('events');
    assert.ok(event, 'one Event about the printer');
    assert.equal(event.type, 'Normal');
    assert.equal(event.reason, 'Printing');
    assert.equal(event.message, 'printing hello');
    assert.equal(event.source?.component, 'kits-test-operator');
    assert.equal(event.reportingComponent, 'kits-test-operator');
    assert.deepEqual(
      [event.involvedObject.apiVersion, event.involvedObject.kind, event.involvedObject.uid],
      [`${group}/v1`, 'Printer', created.metadata.uid],
    );
    const describe = await cluster.kubectl(['describe', `printers.${group}`, 'events', '-n', ns]);
    assert.match(describe, /Normal\s+Printing\s+.*kits-test-operator\s+printing hello/);
  });

  it('turns a repeated warning into one Event with count 3', async () => {
    const created = await client.create(printers, printer('repeats'));
    const recorder = new EventRecorder({ client, component: 'kits-test-operator' });
    for (let i = 0; i < 3; i++) {
      recorder.warn(created, 'PaperLow', 'less than 10 sheets left');
      await recorder.flush();
    }
    recorder.warn(created, 'PaperLow', 'a different message is a different Event');
    await recorder.flush();
    assert.deepEqual(recorder.stats, { created: 2, patched: 2, throttled: 0, failed: 0, ignored: 0 });

    const rows = await eventsAbout('repeats');
    const paperLow = rows.filter((e) => e.message === 'less than 10 sheets left');
    assert.equal(paperLow.length, 1);
    assert.equal(paperLow[0]?.type, 'Warning');
    assert.ok((paperLow[0]?.count ?? 0) >= 3, `count is ${paperLow[0]?.count}`);
    assert.equal(rows.length, 2);
  });

  it('garbage-collects an adopted Pod once its owner is deleted', async () => {
    const owner = await client.create(printers, printer('owner'));
    const pod = adopt<Pod>(
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'print' }, spec: { containers: [{ name: 'c', image: 'registry.invalid/none:1' }] } },
      owner,
      { labels: { app: 'printer' }, namePrefix: true },
    );
    const child = await client.create(pods, pod);
    assert.equal(child.metadata.namespace, ns);
    assert.equal(child.metadata.name, 'owner-print');
    assert.equal(controllerOf(child)?.uid, owner.metadata.uid);

    await client.delete(printers, 'owner', { namespace: ns });
    // The garbage collector notices a new CRD's resource within its discovery resync (up to 30 s).
    await eventually(async () => (await cluster.kubectlResult(['get', 'pod', 'owner-print', '-n', ns])).code !== 0, {
      timeoutMs: 120_000,
      what: 'the adopted Pod to be garbage-collected',
    });
  });
});
