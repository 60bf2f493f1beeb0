/**
 * The client against a real API server: every verb, every patch kind, subresources, discovery,
 * cluster-scoped resources, and the typed error a user gets for each way a request can be refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ApiError, CRD_RESOURCE, isApiError, KubeClient } from '../../src/client/index.ts';
import type { KubeObject, ObjectList, ResourceRef, Status, Stored } from '../../src/client/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('client');
const client = await KubeClient.load({ kubeconfig: cluster.kubeconfig });
after(() => client.close());

const run = Math.random().toString(36).slice(2, 8);
const group = `client-${run}.test.operon.dev`;
const gadgets: ResourceRef = { group, version: 'v1', plural: 'gadgets', namespaced: true };
const zones: ResourceRef = { group, version: 'v1', plural: 'zones', namespaced: false };
const configmaps: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
const namespaces: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

type Gadget = KubeObject<{ size?: number; color?: string }, { phase?: string }>;
interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const crd = (plural: string, kind: string, scope: 'Namespaced' | 'Cluster') => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope,
    names: { plural, kind, singular: kind.toLowerCase() },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer', minimum: 0, maximum: 10 }, color: { type: 'string' } } },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
});

after(async () => {
  for (const name of [`gadgets.${group}`, `zones.${group}`]) await client.delete(CRD_RESOURCE, name).catch(() => undefined);
});

const cm = (name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, labels },
  data,
});

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the request to be refused');
}

describe('KubeClient against the real API server', () => {
  it('discovers a built-in kind, and a CRD kind once its CRD is established', async () => {
    assert.deepEqual(await client.resolve({ apiVersion: 'apps/v1', kind: 'Deployment' }), { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true });
    assert.deepEqual(await client.resolve({ apiVersion: 'v1', kind: 'Namespace' }), { group: '', version: 'v1', plural: 'namespaces', namespaced: false });

    const missing = await rejection(client.resolve({ apiVersion: `${group}/v1`, kind: 'Gadget' }));
    assert.equal(missing.kind, 'NotFound');
    assert.match(missing.hint, /CustomResourceDefinition/);

    await client.create(CRD_RESOURCE, crd('gadgets', 'Gadget', 'Namespaced'));
    await client.create(CRD_RESOURCE, crd('zones', 'Zone', 'Cluster'));
    const established = await client.waitForCrdEstablished(`gadgets.${group}`, { timeoutMs: 30_000 });
    assert.ok(established.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
    await client.waitForCrdEstablished(`zones.${group}`, { timeoutMs: 30_000 });

    // The earlier 404 must not be remembered.
    assert.deepEqual(await client.resolve({ apiVersion: `${group}/v1`, kind: 'Gadget' }), gadgets);
    assert.deepEqual(await client.resolve({ apiVersion: `${group}/v1`, kind: 'Zone' }), zones);
  });

  it('creates, reads and refuses a second create with AlreadyExists; a missing object is NotFound', async () => {
    const created = await client.create(configmaps, cm('basic', { a: '1' }));
    assert.equal(created.metadata.namespace, ns);
    assert.ok(created.metadata.uid && created.metadata.resourceVersion);
    const read = await client.get<ConfigMap>(configmaps, 'basic', { namespace: ns });
    assert.deepEqual(read.data, { a: '1' });

    const dup = await rejection(client.create(configmaps, cm('basic')));
    assert.equal(dup.kind, 'AlreadyExists');
    assert.equal(dup.code, 409);

    const missing = await rejection(client.get(configmaps, 'nope', { namespace: ns }));
    assert.equal(missing.kind, 'NotFound');
    assert.deepEqual(missing.request, { verb: 'get', resource: 'configmaps', namespace: ns, name: 'nope' });
  });

  it('lists page by page with limit and continue, and listAll gathers every page', async () => {
    for (let i = 0; i < 5; i++) await client.create(configmaps, cm(`page-${i}`, {}, { paged: 'yes' }));
    const first = await client.list(configmaps, { namespace: ns, labelSelector: 'paged=yes', limit: 2 });
    assert.equal(first.items.length, 2);
    assert.ok(first.metadata.continue);
    const names = first.items.map((i) => i.metadata.name);
    for (let token: string | undefined = first.metadata.continue; token; ) {
      const next: ObjectList<Stored> = await client.list(configmaps, { namespace: ns, labelSelector: 'paged=yes', limit: 2, continue: token });
      names.push(...next.items.map((i) => i.metadata.name));
      token = next.metadata.continue;
    }
    assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);

    const all = await client.listAll(configmaps, { namespace: ns, labelSelector: 'paged=yes', limit: 2 });
    assert.deepEqual(all.items.map((i) => i.metadata.name), names);
    assert.ok(all.metadata.resourceVersion);
    assert.equal(all.metadata.continue, undefined);

    // Without a namespace a namespaced resource is listed across all namespaces.
    const everywhere = await client.listAll(configmaps, { labelSelector: 'paged=yes', limit: 2 });
    assert.ok(everywhere.items.filter((i) => i.metadata.namespace === ns).length === 5);
  });

  it('replaces with a resourceVersion; a stale resourceVersion is a Conflict', async () => {
    const original = await client.create(configmaps, cm('replaced', { v: '1' }));
    const updated = await client.replace(configmaps, { ...original, data: { v: '2' } });
    assert.deepEqual(updated.data, { v: '2' });
    assert.notEqual(updated.metadata.resourceVersion, original.metadata.resourceVersion);
    const stale = await rejection(client.replace(configmaps, { ...original, data: { v: '3' } }));
    assert.equal(stale.kind, 'Conflict');
    assert.match(stale.hint, /read it again/);
  });

  it('two writers replacing the same resourceVersion: exactly one wins, the other gets a Conflict', async () => {
    const base = await client.create(configmaps, cm('contended', { writer: 'none' }));
    const results = await Promise.allSettled(['a', 'b'].map((writer) => client.replace(configmaps, { ...base, data: { writer } })));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.ok(isApiError(lost[0]?.reason, 'Conflict'), String(lost[0]?.reason));
    const final = await client.get<ConfigMap>(configmaps, 'contended', { namespace: ns });
    assert.deepEqual(final.data, (won[0] as PromiseFulfilledResult<Stored<ConfigMap>>).value.data);
  });

  it('deletes with a uid precondition (a wrong uid is a Conflict) and with propagationPolicy Orphan', async () => {
    const owner = await client.create(configmaps, cm('owner'));
    const dependent = await client.create(configmaps, {
      ...cm('dependent'),
      metadata: { name: 'dependent', namespace: ns, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }] },
    });
    const wrong = await rejection(client.delete(configmaps, 'owner', { namespace: ns, preconditions: { uid: 'not-the-uid' } }));
    assert.equal(wrong.kind, 'Conflict');
    assert.match(wrong.message, /UID in the precondition/);

    await client.delete(configmaps, 'owner', { namespace: ns, preconditions: { uid: owner.metadata.uid }, propagationPolicy: 'Orphan' });
    await eventually(async () => isApiError(await client.get(configmaps, 'owner', { namespace: ns }).catch((e: unknown) => e), 'NotFound'), {
      what: 'the owner to be gone',
    });
    // Orphaned, not collected: the garbage collector removes the owner reference and leaves the object.
    await eventually(async () => ((await client.get(configmaps, 'dependent', { namespace: ns })).metadata.ownerReferences ?? []).length === 0, {
      what: 'the dependent to be orphaned',
    });
    assert.equal((await client.get(configmaps, 'dependent', { namespace: ns })).metadata.uid, dependent.metadata.uid);

    const gone = (await client.delete(configmaps, 'dependent', { namespace: ns, propagationPolicy: 'Background' })) as Status | Stored;
    assert.ok(gone.kind === 'Status' || gone.kind === 'ConfigMap');
    const again = await rejection(client.delete(configmaps, 'dependent', { namespace: ns }));
    assert.equal(again.kind, 'NotFound');
  });

  it('merge-patches, and a JSON patch whose test op fails is refused without a change', async () => {
    await client.create(configmaps, cm('patched', { keep: 'yes', drop: 'yes' }));
    const merged = await client.patch<ConfigMap>(configmaps, 'patched', { type: 'merge', body: { data: { drop: null, added: 'yes' } } }, { namespace: ns });
    assert.deepEqual(merged.data, { keep: 'yes', added: 'yes' });

    const failed = await rejection(
      client.patch(configmaps, 'patched', { type: 'json', ops: [{ op: 'test', path: '/data/keep', value: 'no' }, { op: 'remove', path: '/data/keep' }] }, { namespace: ns }),
    );
    assert.equal(failed.kind, 'Invalid');
    assert.equal(failed.code, 422);
    // The server says no more than "an error in our request": the hint must say what it likely was.
    assert.deepEqual(failed.causes, []);
    assert.match(failed.hint, /"test" operation/);
    assert.deepEqual((await client.get<ConfigMap>(configmaps, 'patched', { namespace: ns })).data, merged.data);

    const swapped = await client.patch<ConfigMap>(
      configmaps,
      'patched',
      { type: 'json', ops: [{ op: 'test', path: '/data/keep', value: 'yes' }, { op: 'replace', path: '/data/keep', value: 'swapped' }] },
      { namespace: ns },
    );
    assert.equal(swapped.data?.['keep'], 'swapped');
  });

  it('server-side apply: a second field manager conflicts (typed Conflict with the manager named), force takes the field over', async () => {
    const desired = (value: string): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: ns }, data: { owner: value } });
    const first = await client.patch<ConfigMap>(configmaps, 'applied', { type: 'apply', body: desired('alpha'), fieldManager: 'alpha' });
    assert.equal(first.data?.['owner'], 'alpha');

    const conflict = await rejection(client.patch(configmaps, 'applied', { type: 'apply', body: desired('beta'), fieldManager: 'beta' }));
    assert.equal(conflict.kind, 'Conflict');
    assert.ok(conflict.causes.some((c) => c.reason === 'FieldManagerConflict' && c.field === '.data.owner'), JSON.stringify(conflict.causes));
    assert.match(conflict.message, /alpha/);

    const forced = await client.patch<ConfigMap>(configmaps, 'applied', { type: 'apply', body: desired('beta'), fieldManager: 'beta', force: true });
    assert.equal(forced.data?.['owner'], 'beta');
    const managers = (forced.metadata.managedFields ?? []).map((m) => m.manager);
    assert.ok(managers.includes('beta'));
    assert.ok(!managers.includes('alpha'), `alpha should have lost its only field: ${managers.join(',')}`);
  });

  it('the status subresource: a status patch leaves spec alone, a main patch cannot change status', async () => {
    const created = await client.create<Gadget>(gadgets, { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'g1', namespace: ns }, spec: { size: 1 } });
    assert.equal(created.status, undefined);

    const viaStatus = await client.patch<Gadget>(gadgets, 'g1', { type: 'merge', body: { spec: { size: 9 }, status: { phase: 'Ready' } } }, { namespace: ns, subresource: 'status' });
    assert.equal(viaStatus.status?.phase, 'Ready');
    assert.equal(viaStatus.spec?.size, 1);

    const viaMain = await client.patch<Gadget>(gadgets, 'g1', { type: 'merge', body: { spec: { size: 2 }, status: { phase: 'Hacked' } } }, { namespace: ns });
    assert.equal(viaMain.spec?.size, 2);
    assert.equal(viaMain.status?.phase, 'Ready');

    const statusRead = await client.get<Gadget>(gadgets, 'g1', { namespace: ns, subresource: 'status' });
    assert.equal(statusRead.status?.phase, 'Ready');
    const replaced = await client.replace<Gadget>(gadgets, { ...statusRead, status: { phase: 'Done' } }, { subresource: 'status' });
    assert.equal(replaced.status?.phase, 'Done');
    assert.equal(replaced.spec?.size, 2);
  });

  it('a custom resource violating its schema is Invalid, with one cause per field', async () => {
    const invalid = await rejection(
      client.create(gadgets, { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'bad', namespace: ns }, spec: { size: 99, color: 7 as unknown as string } }),
    );
    assert.equal(invalid.kind, 'Invalid');
    assert.equal(invalid.code, 422);
    const fields = invalid.causes.map((c) => c.field).sort();
    assert.deepEqual(fields, ['spec.color', 'spec.size']);
    assert.match(invalid.hint, /schema/);
  });

  it('cluster-scoped resources: namespaces and a cluster-scoped custom resource, no namespace needed', async () => {
    const own = await client.get(namespaces, ns);
    assert.equal(own.metadata.name, ns);
    const nsList = await client.list(namespaces, { limit: 500 });
    assert.ok(nsList.items.some((n) => n.metadata.name === ns));

    const zone = await client.create<KubeObject>(zones, { apiVersion: `${group}/v1`, kind: 'Zone', metadata: { name: `zone-${run}` }, spec: { size: 3 } });
    assert.equal(zone.metadata.namespace, undefined);
    const listed = await client.list(zones);
    assert.deepEqual(listed.items.map((z) => z.metadata.name), [`zone-${run}`]);
    await client.patch(zones, `zone-${run}`, { type: 'merge', body: { status: { phase: 'Open' } } }, { subresource: 'status' });
    assert.equal((await client.get<Gadget>(zones, `zone-${run}`)).status?.phase, 'Open');
    await client.delete(zones, `zone-${run}`);
    assert.equal((await client.list(zones)).items.length, 0);
  });

  it('Forbidden names the verb, resource and namespace the ServiceAccount lacks', async () => {
    await cluster.kubectl(['create', 'serviceaccount', 'limited', '-n', ns]);
    const token = (await cluster.kubectl(['create', 'token', 'limited', '-n', ns, '--duration=10m'])).trim();
    const dir = mkdtempSync(join(tmpdir(), 'operon-client-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const kubeconfig = join(dir, 'limited.kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{ name: plane, cluster: { server: "' + cluster.state.server + '", certificate-authority: "' + join(cluster.state.dir, 'pki', 'ca.crt') + '" } }]',
        `users: [{ name: limited, user: { token: "${token}" } }]`,
        `contexts: [{ name: limited, context: { cluster: plane, user: limited, namespace: ${ns} } }]`,
        'current-context: limited',
      ].join('\n'),
    );
    const limited = await KubeClient.load({ kubeconfig });
    after(() => limited.close());
    assert.equal(limited.namespace, ns);

    const denied = await rejection(limited.list(configmaps, { namespace: ns }));
    assert.equal(denied.kind, 'Forbidden');
    assert.equal(denied.code, 403);
    assert.deepEqual(denied.request, { verb: 'list', resource: 'configmaps', namespace: ns });
    assert.match(denied.message, new RegExp(`system:serviceaccount:${ns}:limited`));
    assert.match(denied.hint, new RegExp(`"list" on "configmaps" in namespace ${ns}`));

    const deniedCr = await rejection(limited.patch(gadgets, 'g1', { type: 'merge', body: { spec: { size: 3 } } }, { namespace: ns, subresource: 'status' }));
    assert.equal(deniedCr.kind, 'Forbidden');
    assert.match(deniedCr.hint, new RegExp(`"patch" on "gadgets.${group.replaceAll('.', '\\.')}/status" in namespace ${ns}`));

    const deniedCluster = await rejection(limited.list(namespaces));
    assert.match(deniedCluster.hint, /"list" on "namespaces" \(cluster-wide\)/);
  });
});
