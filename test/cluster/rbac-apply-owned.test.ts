/**
 * A reconcile that keeps an owned child in shape with `applyOwned` (server-side apply), run as a
 * ServiceAccount that has exactly what `operon rbac` generates: the child is created owned and
 * controlled, and a change of the parent is applied to it, with no 403. Regression for issue #13,
 * where the generated rules gave owned kinds `create` but not the `patch` an apply is, and the
 * user met a loop of 403s at run time.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ConfigMap } from 'kubernetes-types/core/v1.d.ts';
import { rbacToYaml } from '../../src/cli/rbac.ts';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { applyOwned, builtin, Registry, resource, Type } from '../../src/index.ts';
import { rbacFor } from '../../src/manifests/rbac.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('apply-owned');
const config = loadClusterConfig({ kubeconfig: cluster.kubeconfig });
const admin = KubeClient.fromConfig(config);
after(() => admin.close());

const registry = new Registry();
const sites = resource(
  { group: 'apply.test.operon.dev', version: 'v1', kind: 'Site', spec: Type.Object({ html: Type.String() }), status: Type.Object({ page: Type.Optional(Type.String()) }) },
  { registry },
);
const configmaps = builtin('v1', 'ConfigMap');
sites.owns(configmaps);
sites.reconcile(async ({ body, spec, client, patch }) => {
  const page = await applyOwned(client, configmaps, body, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${body.metadata.name}-page` }, data: { 'index.html': spec.html } } satisfies ConfigMap);
  patch.status.page = page.metadata.name;
});
await installCrd(admin, sites);

const name = `operon-apply-${ns}`;
const generated = rbacFor(registry, { name, namespace: ns, leaderElection: false });
after(async () => {
  await cluster.kubectlResult(['delete', 'clusterrole,clusterrolebinding', name, '--ignore-not-found']);
});
await cluster.kubectl(['apply', '-f', '-'], { input: rbacToYaml(generated) });
const token = (await cluster.kubectl(['create', 'token', name, '-n', ns, '--duration=10m'])).trim();
const client = KubeClient.fromConfig({ ...config, clientCert: undefined, clientKey: undefined, auth: { type: 'token', token } });
after(() => client.close());

describe('applyOwned under the generated RBAC', () => {
  it('regression #13: creates the child owned and controlled, and applies a change of the parent, with no 403', async () => {
    const run = startOperator(registry, { client, namespaces: [ns] });
    after(() => run.stop());
    await run.ready;

    const site = await admin.create(sites, { apiVersion: sites.apiVersion, kind: sites.kind, metadata: { name: 'home', namespace: ns }, spec: { html: '<h1>v1</h1>' } });
    await waitFor(admin, sites, 'home', ns, (s) => s?.status?.page === 'home-page');
    const page = await admin.get(configmaps, 'home-page', { namespace: ns });
    assert.equal(page.data?.['index.html'], '<h1>v1</h1>');
    assert.deepEqual(
      page.metadata.ownerReferences?.map((r) => ({ kind: r.kind, uid: r.uid, controller: r.controller })),
      [{ kind: 'Site', uid: site.metadata.uid, controller: true }],
    );

    await admin.patch(sites, 'home', { type: 'merge', body: { spec: { html: '<h1>v2</h1>' } } }, { namespace: ns });
    await eventually(async () => (await admin.get(configmaps, 'home-page', { namespace: ns })).data?.['index.html'] === '<h1>v2</h1>', { what: 'the change to reach the child' });
    assert.equal(run.logs.filter((r) => /forbidden|403/i.test(`${r.msg} ${JSON.stringify(r)}`)).length, 0, 'no request was refused');
  });
});
