/**
 * An optional delete handler adds no finalizer, yet runs when the operator sees the object being
 * deleted, here while another controller's finalizer holds it (kopf's `optional=True`).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { Registry, resource, Type } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('optional-delete');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
const leaves = resource(
  { group: 'optionaldelete.test.operon.dev', version: 'v1', kind: 'Leaf', spec: Type.Object({ color: Type.String() }), status: Type.Object({}, { additionalProperties: true }) },
  { registry },
);
await installCrd(client, leaves);
const deleted: string[] = [];
leaves.onCreate(async () => {});
leaves.onDelete(async ({ name }) => void deleted.push(name), { optional: true });

const run = startOperator(registry, { client, namespaces: [ns] });
after(() => run.stop());
await run.ready;

describe('an optional delete handler', () => {
  it('runs on a deletion held by another controller\'s finalizer, and never adds Operon\'s finalizer', async () => {
    const hold = 'example.com/hold';
    await client.create(leaves, { apiVersion: leaves.apiVersion, kind: leaves.kind, metadata: { name: 'held', namespace: ns, finalizers: [hold] }, spec: { color: 'green' } });
    const handled = await waitFor(client, leaves, 'held', ns, (l) => l?.metadata.annotations?.['operon.dev/last-handled-configuration'] !== undefined);
    assert.deepEqual(handled?.metadata.finalizers, [hold], 'no finalizer of Operon\'s was added');
    await client.delete(leaves, 'held', { namespace: ns });
    await eventually(() => deleted.includes('held'), { what: 'the optional delete handler to run' });
    await client.patch(leaves, 'held', { type: 'merge', body: { metadata: { finalizers: null } } }, { namespace: ns });
    await eventually(async () => (await cluster.kubectlResult(['get', 'leaves.optionaldelete.test.operon.dev', 'held', '-n', ns])).code !== 0, { what: 'the Leaf to go' });
  });
});
