/**
 * Proof that the local control plane is a real one: each test fails when the component behind it
 * (API server with etcd, watch, garbage collector, scheduler with kwok, RBAC with ServiceAccount
 * tokens) is missing or broken.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, rawWatch, useCluster } from '../support/cluster.ts';

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.controlplane-test.operon.dev' },
  spec: {
    group: 'controlplane-test.operon.dev',
    scope: 'Namespaced',
    names: { kind: 'Widget', plural: 'widgets', singular: 'widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
          },
        },
      },
    ],
  },
};

// Fully qualified: other test files on the shared plane declare kinds named Widget too, and a bare
// `kubectl get widgets` picks one of them.
const WIDGETS = CRD.metadata.name;

const cluster = await useCluster();
const ns = await cluster.namespace('controlplane');
await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(CRD) });
await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${CRD.metadata.name}`]);

const widget = (name: string, size: number) =>
  JSON.stringify({ apiVersion: 'controlplane-test.operon.dev/v1', kind: 'Widget', metadata: { name, namespace: ns }, spec: { size } });

describe('the local control plane', () => {
  it('serves a custom resource: created, read and listed through the API', async () => {
    await cluster.kubectl(['create', '-f', '-'], { input: widget('w1', 3) });
    const read = await cluster.api('GET', `/apis/controlplane-test.operon.dev/v1/namespaces/${ns}/widgets/w1`);
    assert.equal(read.status, 200);
    assert.equal(JSON.parse(read.body).spec.size, 3);
    const list = JSON.parse(await cluster.kubectl(['get', WIDGETS, '-n', ns, '-o', 'json'])) as { items: Array<{ metadata: { name: string } }> };
    assert.deepEqual(list.items.map((i) => i.metadata.name), ['w1']);
  });

  it('delivers ADDED, MODIFIED and DELETED on a watch', async () => {
    const list = JSON.parse((await cluster.api('GET', `/apis/controlplane-test.operon.dev/v1/namespaces/${ns}/widgets`)).body);
    const seen: string[] = [];
    const abort = new AbortController();
    const watching = rawWatch(
      cluster,
      `/apis/controlplane-test.operon.dev/v1/namespaces/${ns}/widgets?watch=true&resourceVersion=${list.metadata.resourceVersion}`,
      (e) => {
        if (e.object.metadata?.name === 'w2') seen.push(e.type);
      },
      abort.signal,
    );
    await cluster.kubectl(['create', '-f', '-'], { input: widget('w2', 1) });
    await cluster.kubectl(['patch', WIDGETS, 'w2', '-n', ns, '--type=merge', '-p', '{"spec":{"size":2}}']);
    await cluster.kubectl(['delete', WIDGETS, 'w2', '-n', ns]);
    await eventually(() => seen.length >= 3, { what: 'three watch events for w2' });
    abort.abort();
    await watching;
    assert.deepEqual(seen, ['ADDED', 'MODIFIED', 'DELETED']);
  });

  it('schedules a Pod onto the kwok Node and runs it to phase Succeeded', async () => {
    await cluster.kubectl(['run', 'once', '-n', ns, '--image=registry.invalid/none:1', '--restart=Never']);
    await eventually(
      async () => (await cluster.kubectl(['get', 'pod', 'once', '-n', ns, '-o', 'jsonpath={.status.phase}'])) === 'Succeeded',
      { what: 'Pod once to succeed' },
    );
    assert.equal(await cluster.kubectl(['get', 'pod', 'once', '-n', ns, '-o', 'jsonpath={.spec.nodeName}']), 'kwok-node-0');
  });

  it('garbage-collects a Pod owned by a custom resource once the resource is deleted', async () => {
    await cluster.kubectl(['create', '-f', '-'], { input: widget('owner', 1) });
    const uid = await cluster.kubectl(['get', WIDGETS, 'owner', '-n', ns, '-o', 'jsonpath={.metadata.uid}']);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'owned',
        namespace: ns,
        ownerReferences: [{ apiVersion: 'controlplane-test.operon.dev/v1', kind: 'Widget', name: 'owner', uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'registry.invalid/none:1' }] },
    };
    await cluster.kubectl(['create', '-f', '-'], { input: JSON.stringify(pod) });
    await cluster.kubectl(['delete', WIDGETS, 'owner', '-n', ns, '--wait=false']);
    // The garbage collector notices the CRD's resource within its discovery resync (up to 30 s).
    await eventually(async () => (await cluster.kubectlResult(['get', 'pod', 'owned', '-n', ns])).code !== 0, {
      timeoutMs: 120_000,
      what: 'the owned Pod to be garbage-collected',
    });
  });

  it('enforces RBAC on a ServiceAccount token: 403 without a binding, allowed with one', async () => {
    await cluster.kubectl(['create', 'serviceaccount', 'reader', '-n', ns]);
    const token = (await cluster.kubectl(['create', 'token', 'reader', '-n', ns, '--duration=10m'])).trim();
    const asReader = ['--token', token, '--server', cluster.state.server, '--certificate-authority', `${cluster.state.dir}/pki/ca.crt`, '--kubeconfig', '/dev/null'];

    const denied = await cluster.kubectlResult(['get', 'configmaps', '-n', ns, ...asReader]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /forbidden/i);
    assert.match(denied.stderr, /system:serviceaccount:.*:reader/);

    await cluster.kubectl(['create', 'role', 'read-cm', '-n', ns, '--verb=list,get', '--resource=configmaps']);
    await cluster.kubectl(['create', 'rolebinding', 'read-cm', '-n', ns, '--role=read-cm', `--serviceaccount=${ns}:reader`]);
    await eventually(async () => (await cluster.kubectlResult(['get', 'configmaps', '-n', ns, ...asReader])).code === 0, {
      what: 'the RoleBinding to take effect',
    });
  });
});
