/**
 * Login handlers under `operon run` (the CLI process, not an embedded Operator), with re-login on
 * 401 (kopf's `@kopf.on.login`): the operator authenticates with the ServiceAccount token its
 * login handler returns; when that token is revoked (the ServiceAccount is deleted and made again,
 * so the API server answers 401), the login handler runs again and the operator carries on with
 * the new token.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { ApiError, builtin } from '../../src/index.ts';
import { waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { FROM_SOURCE } from '../support/source.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('login-relogin');
const admin = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => admin.close());
const configmaps = builtin('v1', 'ConfigMap');
const serviceaccounts = builtin('v1', 'ServiceAccount');
const bindings = builtin('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding');

const account = 'login-operator';
const binding = `operon-login-relogin-${ns}`;
await admin.create(bindings, {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: binding },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [{ kind: 'ServiceAccount', name: account, namespace: ns }],
});
after(() => admin.delete(bindings, binding).catch(() => undefined));

const vault = mkdtempSync(join(tmpdir(), 'operon-login-'));
after(() => rmSync(vault, { recursive: true, force: true }));
const tokenFile = join(vault, 'token');

/** A fresh ServiceAccount (new uid, so tokens of the previous one are revoked) and a token for it. */
async function newAccountToken(): Promise<string> {
  await admin.create(serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account, namespace: ns } });
  return (await cluster.kubectl(['create', 'token', account, '-n', ns, '--duration=1h'])).trim();
}

async function status(token: string): Promise<number> {
  const config = loadClusterConfig({ kubeconfig: cluster.kubeconfig });
  const probe = KubeClient.fromConfig({ ...config, clientCert: undefined, clientKey: undefined, auth: { type: 'token', token } });
  try {
    await probe.list(configmaps, { namespace: ns, limit: 1 });
    return 200;
  } catch (err) {
    return err instanceof ApiError ? err.code : 0;
  } finally {
    probe.close();
  }
}

describe('operon run: login handlers', () => {
  it('runs the login handler again after a 401 and carries on with the new token', async () => {
    const first = await newAccountToken();
    writeFileSync(tokenFile, first);
    const fixture = fileURLToPath(new URL('./fixtures/login-operator.ts', import.meta.url));
    // No --kubeconfig: the operator's only credentials are the login handler's.
    const child = spawn(process.execPath, [...FROM_SOURCE, 'src/cli/main.ts', 'run', fixture, '--no-check', '-n', ns, '--log-format', 'json'], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env: { ...process.env, KUBECONFIG: join(vault, 'absent'), FIXTURE_KUBECONFIG: cluster.kubeconfig, FIXTURE_TOKEN_FILE: tokenFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    after(() => child.kill('SIGKILL'));

    await admin.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'before', namespace: ns, labels: { 'login-test': 'yes' } } });
    const before = await waitFor(admin, configmaps, 'handled-before', ns, (o) => o !== undefined, { timeoutMs: 30_000, what: `handled-before (output: ${output})` });
    assert.equal(before?.['data']?.['logins'], '1');

    // Revoke: the token names the old ServiceAccount's uid.
    await admin.delete(serviceaccounts, account, { namespace: ns });
    await eventually(async () => (await status(first)) === 401, { timeoutMs: 30_000, what: 'the first token rejected with 401' });
    writeFileSync(tokenFile, await newAccountToken());

    // The API server caches a token's successful authentication for a few seconds, so objects are
    // created until one is handled after a re-login; none may be lost on the way.
    const created: string[] = [];
    let relogged: string | undefined;
    await eventually(
      async () => {
        const name = `after-${created.length}`;
        created.push(name);
        await admin.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels: { 'login-test': 'yes' } } });
        const handled = await waitFor(admin, configmaps, `handled-${name}`, ns, (o) => o !== undefined, { timeoutMs: 30_000 }).catch((error: unknown) => {
          // The operator's output as it is when the wait gives up, not when it began.
          throw new Error(`${error instanceof Error ? error.message : String(error)} (output: ${output})`);
        });
        if (handled?.['data']?.['logins'] === '2') relogged = name;
        return relogged !== undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, what: 'an object handled with the second login' },
    );
    assert.ok(relogged);
    assert.match(output, /answered 401 Unauthorized; running the login handlers again/);
    assert.equal((output.match(/fixture login/g) ?? []).length, 2, 'one login at start, one after the 401');
    child.kill('SIGTERM');
  });
});
