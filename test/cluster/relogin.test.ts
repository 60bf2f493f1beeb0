/**
 * Login handlers and re-login on a real API server: the operator logs in with a ServiceAccount
 * token from its login handler; when that token is revoked (the ServiceAccount is deleted and made
 * again, which invalidates its bound tokens), the next request gets 401 Unauthorized, the login
 * handler runs again, and the request goes through with the new token: the operator carries on.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig, type ClusterConfig } from '../../src/client/kubeconfig.ts';
import { builtin, isApiError, onLogin, Registry, resource } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('relogin');
const admin = loadClusterConfig({ kubeconfig: cluster.kubeconfig });
const client = KubeClient.fromConfig(admin);
after(() => client.close());
const binding = `relogin-${ns}`;
await cluster.kubectl(['create', 'serviceaccount', 'relogin', '-n', ns]);
await cluster.kubectl(['create', 'clusterrolebinding', binding, '--clusterrole=cluster-admin', `--serviceaccount=${ns}:relogin`]);
after(() => cluster.kubectl(['delete', 'clusterrolebinding', binding, '--ignore-not-found']));

const registry = new Registry();
const configmaps = builtin('v1', 'ConfigMap');
let logins = 0;
onLogin(
  async () => {
    logins++;
    const token = (await cluster.kubectl(['create', 'token', 'relogin', '-n', ns, '--duration', '10m'])).trim();
    const { clientCert: _cert, clientKey: _key, ...rest } = admin;
    const config: ClusterConfig = { ...rest, auth: { type: 'token', token } };
    return KubeClient.fromConfig(config);
  },
  { registry },
);
resource(configmaps, { registry }).onCreate(({ patch }) => {
  patch.metadata.annotations['relogin/seen'] = 'yes';
}, { labels: { relogin: 'yes' } });

const run = startOperator(registry, { namespaces: [ns] });
after(() => run.stop());
await run.ready;

const cm = (name: string) => ({ apiVersion: 'v1' as const, kind: 'ConfigMap' as const, metadata: { name, namespace: ns, labels: { relogin: 'yes' } } });

describe('login handlers', () => {
  it('log in again on 401 when the token is revoked, and the operator carries on', async () => {
    await client.create(configmaps, cm('before'));
    await waitFor(client, configmaps, 'before', ns, (o) => o?.metadata.annotations?.['relogin/seen'] === 'yes', { timeoutMs: 30_000 });
    assert.equal(logins, 1);
    assert.equal(run.operator.client?.config.auth.type, 'token', 'the operator talks with the login handler’s token');

    // Revoke: a ServiceAccount made again has a new uid, and its old bound tokens are refused.
    await cluster.kubectl(['delete', 'serviceaccount', 'relogin', '-n', ns, '--wait=true']);
    await cluster.kubectl(['create', 'serviceaccount', 'relogin', '-n', ns]);
    // The API server caches a token's authentication for a few seconds: wait until it refuses it.
    const revoked = KubeClient.fromConfig(run.operator.client?.config as ClusterConfig);
    after(() => revoked.close());
    await eventually(async () => (await revoked.list(configmaps, { namespace: ns }).then(() => 'ok', (e: unknown) => (isApiError(e, 'Unauthorized') ? '401' : 'other'))) === '401', {
      timeoutMs: 60_000,
      what: 'the old token to be refused',
    });
    await client.create(configmaps, cm('after'));
    await waitFor(client, configmaps, 'after', ns, (o) => o?.metadata.annotations?.['relogin/seen'] === 'yes', { timeoutMs: 30_000, what: 'the object handled after the revocation' });
    assert.equal(logins, 2, 'the login handler ran again once');
    assert.ok(run.logs.some((r) => String(r.msg).startsWith('logged in again after 401')), 'the re-login is logged');
  });
});
