/**
 * Owned objects on a real API server: a Pod made by a handler, with a controller ownerReference
 * to its custom resource, wakes the owner's level-based reconcile when the Pod's phase changes,
 * and the reconcile reads the Pod from the operator's cache.
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
const ns = await cluster.namespace('handlers-owned');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
const pods = builtin('v1', 'Pod');
const printers = resource(
  {
    group: 'owned.test.operon.dev',
    version: 'v1',
    kind: 'Printer',
    spec: Type.Object({ text: Type.String() }),
    status: Type.Object({ pod: Type.Optional(Type.String()), phase: Type.Optional(Type.String()) }),
  },
  { registry },
);
await installCrd(client, printers);
printers.owns(pods);

printers.onCreate(async ({ body, name, namespace, client: api, patch }) => {
  const pod = await api.create(pods, {
    metadata: {
      name: `${name}-print`,
      namespace,
      ownerReferences: [{ apiVersion: body.apiVersion as string, kind: body.kind as string, name, uid: body.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { restartPolicy: 'Never', containers: [{ name: 'print', image: 'registry.invalid/print:1', command: ['echo', 'x'] }] },
  });
  patch.status.pod = pod.metadata.name;
});

const phasesSeen: string[] = [];
printers.reconcile(async ({ status, namespace, cache, patch }) => {
  if (!status.pod) return;
  const phase = cache.of(pods).get(status.pod, namespace)?.status?.phase;
  if (phase && phasesSeen.at(-1) !== phase) phasesSeen.push(phase);
  if (phase && status.phase !== phase) patch.status.phase = phase;
});

const run = startOperator(registry, { client, namespaces: [ns] });
after(() => run.stop());
await run.ready;

describe('owned resources', () => {
  it("wakes the owner's reconcile when its Pod changes phase", async () => {
    await client.create(printers, { apiVersion: printers.apiVersion, kind: printers.kind, metadata: { name: 'p1', namespace: ns }, spec: { text: 'hi' } });
    const done = await waitFor(client, printers, 'p1', ns, (p) => p?.status?.phase === 'Succeeded', { timeoutMs: 45_000 });
    assert.equal(done?.status?.pod, 'p1-print');
    assert.equal(phasesSeen.at(-1), 'Succeeded');
    // No requeueAfter was asked for: only the Pod's own changes can have woken the reconcile.
    assert.ok(phasesSeen.length >= 1);
  });
});
