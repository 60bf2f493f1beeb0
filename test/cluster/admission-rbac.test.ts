/**
 * The RBAC `operon rbac` generates for an operator with admission handlers is enough to serve
 * them (Secret, configurations), and grants nothing past its own Secret and configurations.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { Registry, resource, rbacFor, Type } from '../../src/index.ts';
import { startOperator } from '../../src/testing/index.ts';
import { useCluster } from '../support/cluster.ts';
import { freePort } from '../support/processes.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('admission-rbac');
const admin = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => admin.close());

const decl = { group: 'admission-rbac.test.operon.dev', version: 'v1', kind: 'Gadget', spec: Type.Object({ n: Type.Integer() }) } as const;
await installCrd(admin, resource(decl, { registry: new Registry() }));
const name = `adm-rbac-${ns}`;

describe('admission RBAC', () => {
  it('the generated RBAC is enough to serve webhooks, and no more', async () => {
    const registry = new Registry();
    resource(decl, { registry }).validate(({ object }) => ((object?.spec?.n ?? 0) < 0 ? 'n must not be negative' : undefined), {
      id: 'sign',
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
    });
    const objects = rbacFor(registry, { name, namespace: ns, watchNamespaces: [ns], leaderElection: false });
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
    after(async () => {
      for (const kind of ['clusterrole', 'clusterrolebinding', 'validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
        await cluster.kubectlResult(['delete', kind, name, '--ignore-not-found']);
      }
    });
    const token = (await cluster.kubectl(['create', 'token', name, '-n', ns, '--duration=10m'])).trim();
    const config = loadClusterConfig({ kubeconfig: cluster.kubeconfig });
    const asAccount = KubeClient.fromConfig({ ...config, clientCert: undefined, clientKey: undefined, auth: { type: 'token', token } });
    after(() => asAccount.close());

    const port = await freePort();
    const run = startOperator(registry, { client: asAccount, namespaces: [ns], name, webhooks: { clientConfig: { url: `https://127.0.0.1:${port}` }, host: '127.0.0.1', port, certificates: { secret: { namespace: ns, name: `${name}-webhook-tls` } } } });
    after(() => run.stop());
    await run.ready;

    const refused = await cluster.kubectlResult(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: `${decl.group}/v1`, kind: 'Gadget', metadata: { name: 'neg', namespace: ns }, spec: { n: -1 } }),
    });
    assert.match(refused.stderr, /denied the request: n must not be negative/);

    const as = `system:serviceaccount:${ns}:${name}`;
    const can = async (...args: string[]): Promise<string> => (await cluster.kubectlResult(['auth', 'can-i', ...args, `--as=${as}`])).stdout.trim();
    assert.equal(await can('patch', `validatingwebhookconfigurations/${name}`), 'yes');
    assert.equal(await can('patch', 'validatingwebhookconfigurations/someone-else'), 'no');
    assert.equal(await can('get', 'secrets/other', '-n', ns), 'no');
    assert.equal(await can('list', 'secrets', '-n', ns), 'no');
    assert.equal(await can('watch', `gadgets.${decl.group}`, '-n', ns), 'no');
  });
});
