/**
 * The kubeconfig loader agrees with kubectl on the same files: two files merged through
 * KUBECONFIG (first definition wins, relative paths resolved against their own file), the current
 * context and a context override. "Agrees" is checked twice: on what `kubectl config view --minify`
 * prints, and on who the API server says we are (`kubectl auth whoami` against a SelfSubjectReview
 * sent by our client).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KubeClient, loadClusterConfig } from '../../src/client/index.ts';
import type { ClusterConfig, ResourceRef } from '../../src/client/index.ts';
import { useCluster } from '../support/cluster.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('kubeconfig');
await cluster.kubectl(['create', 'serviceaccount', 'reader', '-n', ns]);
const token = (await cluster.kubectl(['create', 'token', 'reader', '-n', ns, '--duration=10m'])).trim();

const pki = join(cluster.state.dir, 'pki');
const dir = mkdtempSync(join(tmpdir(), 'operon-kubeconfig-'));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'b'));
copyFileSync(join(pki, 'admin.crt'), join(dir, 'b', 'admin.crt'));
copyFileSync(join(pki, 'admin.key'), join(dir, 'b', 'admin.key'));

const fileA = join(dir, 'a.yaml');
const fileB = join(dir, 'b', 'b.yaml');
writeFileSync(
  fileA,
  `apiVersion: v1
kind: Config
clusters:
- name: plane
  cluster:
    server: ${cluster.state.server}
    certificate-authority-data: ${readFileSync(join(pki, 'ca.crt')).toString('base64')}
users:
- name: reader
  user:
    token: ${token}
contexts:
- name: reader-ctx
  context: { cluster: plane, user: reader, namespace: alpha }
- name: admin-ctx
  context: { cluster: plane, user: admin, namespace: from-a }
current-context: reader-ctx
`,
);
writeFileSync(
  fileB,
  `apiVersion: v1
kind: Config
clusters:
- name: plane
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    client-certificate: admin.crt
    client-key: ./admin.key
contexts:
- name: admin-ctx
  context: { cluster: plane, user: admin, namespace: from-b }
- name: b-only
  context: { cluster: plane, user: admin }
current-context: b-only
`,
);
const KUBECONFIG = [fileA, fileB].join(delimiter);

interface Minified {
  clusters: Array<{ cluster: { server: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean } }>;
  users: Array<{ name: string; user: { token?: string; 'client-certificate-data'?: string; 'client-key-data'?: string } }>;
  contexts: Array<{ name: string; context: { namespace?: string } }>;
}

async function kubectlView(context?: string): Promise<Minified> {
  const args = ['config', 'view', '--minify', '--flatten', '--raw', '-o', 'json', ...(context ? ['--context', context] : [])];
  return JSON.parse(await cluster.kubectl(args, { kubeconfig: KUBECONFIG })) as Minified;
}

async function kubectlWhoami(context?: string): Promise<string> {
  const out = await cluster.kubectl(['auth', 'whoami', '-o', 'json', ...(context ? ['--context', context] : [])], { kubeconfig: KUBECONFIG });
  return (JSON.parse(out) as { status: { userInfo: { username: string } } }).status.userInfo.username;
}

const reviews: ResourceRef = { group: 'authentication.k8s.io', version: 'v1', plural: 'selfsubjectreviews', namespaced: false };

async function whoami(config: ClusterConfig): Promise<string> {
  const client = KubeClient.fromConfig(config);
  try {
    const review = await client.create<{ apiVersion: string; kind: string; status?: { userInfo?: { username?: string } } }>(reviews, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    return review.status?.userInfo?.username ?? '';
  } finally {
    client.close();
  }
}

function assertAgrees(ours: ClusterConfig, theirs: Minified): void {
  const c = theirs.clusters[0]?.cluster;
  const u = theirs.users[0]?.user;
  assert.ok(c && u, 'kubectl printed a cluster and a user');
  assert.equal(ours.server, c.server);
  assert.equal(ours.insecureSkipTlsVerify, c['insecure-skip-tls-verify'] === true);
  assert.equal(ours.ca?.toString('base64'), c['certificate-authority-data']);
  assert.equal(ours.namespace, theirs.contexts[0]?.context.namespace ?? 'default');
  if (u.token !== undefined) assert.deepEqual(ours.auth, { type: 'token', token: u.token });
  else assert.equal(ours.auth.type, 'clientCert');
  assert.equal(ours.clientCert?.toString('base64'), u['client-certificate-data']);
  assert.equal(ours.clientKey?.toString('base64'), u['client-key-data']);
}

describe('kubeconfig loading agrees with kubectl', () => {
  it('two merged files, current context: same server, CA, namespace, user and identity', async () => {
    const ours = loadClusterConfig({ env: { KUBECONFIG } });
    assertAgrees(ours, await kubectlView());
    assert.equal(ours.namespace, 'alpha');
    assert.equal(await whoami(ours), `system:serviceaccount:${ns}:reader`);
    assert.equal(await whoami(ours), await kubectlWhoami());
  });

  it('a context override: the first file wins for names defined twice, relative paths resolve against the second file', async () => {
    const ours = loadClusterConfig({ env: { KUBECONFIG }, context: 'admin-ctx' });
    assertAgrees(ours, await kubectlView('admin-ctx'));
    assert.equal(ours.namespace, 'from-a');
    assert.equal(await whoami(ours), 'admin');
    assert.equal(await whoami(ours), await kubectlWhoami('admin-ctx'));

    const bOnly = loadClusterConfig({ env: { KUBECONFIG }, context: 'b-only' });
    assertAgrees(bOnly, await kubectlView('b-only'));
    assert.equal(bOnly.namespace, 'default');
  });

  it('KubeClient.load with an explicit kubeconfig path and context reaches the server as that user', async () => {
    const client = await KubeClient.load({ kubeconfig: fileA, context: 'reader-ctx' });
    after(() => client.close());
    assert.equal(client.namespace, 'alpha');
    assert.equal(client.config.server, cluster.state.server);
    const denied = await client.list({ group: '', version: 'v1', plural: 'secrets', namespaced: true }, { namespace: ns }).catch((e: unknown) => e);
    assert.equal((denied as { kind?: string }).kind, 'Forbidden');
  });
});
