import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, fromKubeConfigObject, loadClusterConfig, loadInCluster, loadKubeconfigFiles, mergeKubeconfigs } from '../../../src/client/kubeconfig.ts';
import { tempDir } from './fixtures.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function kubeconfig(parts: { current?: string; clusters?: string; users?: string; contexts?: string }): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    parts.current !== undefined ? `current-context: ${parts.current}` : '',
    `clusters:${parts.clusters ?? ' []'}`,
    `users:${parts.users ?? ' []'}`,
    `contexts:${parts.contexts ?? ' []'}`,
  ].join('\n');
}

describe('kubeconfig merging', () => {
  it('lets the first file win for a duplicate name and for current-context', (t) => {
    const dir = tempDir(t);
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(
      a,
      kubeconfig({
        current: 'dev',
        clusters: `\n- name: shared\n  cluster: { server: 'https://a.example:6443', certificate-authority-data: ${b64('CA-A')} }`,
        users: `\n- name: me\n  user: { token: token-a }`,
        contexts: `\n- name: dev\n  context: { cluster: shared, user: me, namespace: team-a }`,
      }),
    );
    writeFileSync(
      b,
      kubeconfig({
        current: 'prod',
        clusters: `\n- name: shared\n  cluster: { server: 'https://b.example:6443' }\n- name: prod\n  cluster: { server: 'https://prod.example' }`,
        users: `\n- name: me\n  user: { token: token-b }\n- name: ops\n  user: { username: ops, password: secret }`,
        contexts: `\n- name: dev\n  context: { cluster: prod, user: ops }\n- name: prod\n  context: { cluster: prod, user: ops }`,
      }),
    );
    const config = loadClusterConfig({ env: { KUBECONFIG: [a, b].join(delimiter) }, homeDir: dir });
    assert.equal(config.server, 'https://a.example:6443');
    assert.equal(config.ca?.toString(), 'CA-A');
    assert.deepEqual(config.auth, { type: 'token', token: 'token-a' });
    assert.equal(config.namespace, 'team-a');
    assert.match(config.source, /context "dev" in .*a\.yaml/);

    // A context defined only in the second file is reachable with the override.
    const prod = loadClusterConfig({ env: { KUBECONFIG: [a, b].join(delimiter) }, context: 'prod' });
    assert.equal(prod.server, 'https://prod.example');
    assert.deepEqual(prod.auth, { type: 'basic', username: 'ops', password: 'secret' });
    assert.equal(prod.namespace, 'default');
  });

  it('takes current-context from the first file that sets one', () => {
    const merged = mergeKubeconfigs([
      { path: '/x/one', text: kubeconfig({ contexts: '\n- name: c1\n  context: { cluster: k }' }) },
      { path: '/x/two', text: kubeconfig({ current: 'c2' }) },
      { path: '/x/three', text: kubeconfig({ current: 'c3' }) },
    ]);
    assert.equal(merged.currentContext, 'c2');
    assert.equal(merged.contexts.get('c1')?.file, '/x/one');
  });

  it('skips missing KUBECONFIG entries and empty files, and ignores ~/.kube/config when KUBECONFIG is set', (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, '.kube'));
    writeFileSync(join(dir, '.kube', 'config'), kubeconfig({ current: 'home', clusters: "\n- name: h\n  cluster: { server: 'https://home' }", contexts: '\n- name: home\n  context: { cluster: h }' }));
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '');
    const real = join(dir, 'real.yaml');
    writeFileSync(real, kubeconfig({ current: 'r', clusters: "\n- name: r\n  cluster: { server: 'https://real/' }", contexts: '\n- name: r\n  context: { cluster: r }' }));
    const config = loadClusterConfig({ env: { KUBECONFIG: [join(dir, 'missing.yaml'), empty, real].join(delimiter) }, homeDir: dir });
    assert.equal(config.server, 'https://real');
    assert.deepEqual(config.auth, { type: 'none' });
    assert.equal(loadClusterConfig({ env: {}, homeDir: dir }).server, 'https://home');
  });

  it('resolves relative paths against the file that names them', (t) => {
    const dir = tempDir(t);
    const sub = join(dir, 'sub');
    mkdirSync(join(sub, 'certs'), { recursive: true });
    writeFileSync(join(sub, 'certs', 'ca.pem'), 'CA-PEM');
    writeFileSync(join(sub, 'certs', 'client.pem'), 'CERT-PEM');
    writeFileSync(join(sub, 'certs', 'client-key.pem'), 'KEY-PEM');
    const file = join(sub, 'config');
    writeFileSync(
      file,
      kubeconfig({
        current: 'c',
        clusters: "\n- name: k\n  cluster: { server: 'https://k:6443', certificate-authority: certs/ca.pem, tls-server-name: api.internal, proxy-url: 'http://proxy:3128' }",
        users: '\n- name: u\n  user: { client-certificate: certs/client.pem, client-key: ./certs/client-key.pem }',
        contexts: '\n- name: c\n  context: { cluster: k, user: u }',
      }),
    );
    // The process's working directory must not matter.
    const config = loadKubeconfigFiles([file]);
    assert.equal(config.ca?.toString(), 'CA-PEM');
    assert.equal(config.clientCert?.toString(), 'CERT-PEM');
    assert.equal(config.clientKey?.toString(), 'KEY-PEM');
    assert.deepEqual(config.auth, { type: 'clientCert' });
    assert.equal(config.tlsServerName, 'api.internal');
    assert.equal(config.proxyUrl, 'http://proxy:3128');

    writeFileSync(
      file,
      kubeconfig({
        current: 'c',
        clusters: "\n- name: k\n  cluster: { server: 'https://k:6443' }",
        users: '\n- name: u\n  user: { tokenFile: secrets/token }\n- name: e\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./bin/plugin\n      args: [--x]\n      env: [{ name: A, value: b }]\n      provideClusterInfo: true\n- name: p\n  user:\n    exec: { apiVersion: client.authentication.k8s.io/v1beta1, command: aws }',
        contexts: '\n- name: c\n  context: { cluster: k, user: u }\n- name: e\n  context: { cluster: k, user: e }\n- name: p\n  context: { cluster: k, user: p }',
      }),
    );
    assert.deepEqual(loadKubeconfigFiles([file]).auth, { type: 'tokenFile', path: join(sub, 'secrets', 'token') });
    assert.deepEqual(loadKubeconfigFiles([file], { context: 'e' }).auth, {
      type: 'exec',
      kubeconfigPath: file,
      exec: { apiVersion: 'client.authentication.k8s.io/v1', command: join(sub, 'bin', 'plugin'), args: ['--x'], env: [{ name: 'A', value: 'b' }], provideClusterInfo: true },
    });
    const onPath = loadKubeconfigFiles([file], { context: 'p' }).auth;
    assert.equal(onPath.type === 'exec' && onPath.exec.command, 'aws');
  });

  it('explains what is wrong and how to fix it', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'config');
    writeFileSync(file, kubeconfig({ current: 'dev', clusters: "\n- name: k\n  cluster: { server: 'https://k' }", contexts: '\n- name: dev\n  context: { cluster: k, user: ghost }\n- name: qa\n  context: { cluster: k }' }));
    assert.throws(() => loadKubeconfigFiles([file], { context: 'nope' }), (err: unknown) => err instanceof ConfigError && err.message.includes(`no context named "nope" in kubeconfig ${file}`) && /use one of "dev", "qa"/.test(err.message));
    assert.throws(() => loadKubeconfigFiles([file]), /refers to user "ghost", which is not defined/);

    writeFileSync(file, kubeconfig({ current: 'dev' }));
    assert.throws(() => loadKubeconfigFiles([file]), /no clusters are defined in kubeconfig .*config\. Fix: add a cluster/);

    writeFileSync(file, 'clusters: [oops');
    assert.throws(() => loadKubeconfigFiles([file]), /is not valid YAML/);

    writeFileSync(file, kubeconfig({ current: 'c', clusters: "\n- name: k\n  cluster: { server: 'https://k', certificate-authority: nowhere.pem }", contexts: '\n- name: c\n  context: { cluster: k }' }));
    assert.throws(() => loadKubeconfigFiles([file]), (err: unknown) => err instanceof ConfigError && err.message.includes(join(dir, 'nowhere.pem')) && err.message.includes('ENOENT'));

    writeFileSync(file, kubeconfig({ current: 'c', clusters: "\n- name: k\n  cluster: { server: 'https://k' }", users: '\n- name: u\n  user: { auth-provider: { name: oidc } }', contexts: '\n- name: c\n  context: { cluster: k, user: u }' }));
    assert.throws(() => loadKubeconfigFiles([file]), /auth-provider "oidc".*kubelogin/);

    writeFileSync(file, kubeconfig({ current: 'c', clusters: "\n- name: k\n  cluster: { server: 'https://k' }", users: '\n- name: u\n  user: { exec: { apiVersion: client.authentication.k8s.io/v1alpha1, command: x } }', contexts: '\n- name: c\n  context: { cluster: k, user: u }' }));
    assert.throws(() => loadKubeconfigFiles([file]), /v1alpha1" is not supported/);

    assert.throws(() => loadClusterConfig({ kubeconfig: join(dir, 'missing'), env: {} }), /does not exist\. Fix: check the --kubeconfig path/);
    assert.throws(() => loadClusterConfig({ env: { KUBECONFIG: join(dir, 'missing') }, homeDir: dir }), /none of the KUBECONFIG files exist/);
  });

  it('prefers an explicit path over KUBECONFIG', (t) => {
    const dir = tempDir(t);
    const explicit = join(dir, 'explicit');
    writeFileSync(explicit, kubeconfig({ current: 'e', clusters: "\n- name: k\n  cluster: { server: 'https://explicit' }", contexts: '\n- name: e\n  context: { cluster: k }' }));
    const env = { KUBECONFIG: join(dir, 'other') };
    writeFileSync(env.KUBECONFIG, kubeconfig({ current: 'o', clusters: "\n- name: k\n  cluster: { server: 'https://other' }", contexts: '\n- name: o\n  context: { cluster: k }' }));
    assert.equal(loadClusterConfig({ kubeconfig: explicit, env }).server, 'https://explicit');
  });
});

describe('in-cluster configuration', () => {
  it('reads the ServiceAccount directory and brackets an IPv6 host', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'token'), 'sa-token\n');
    writeFileSync(join(dir, 'ca.crt'), 'CLUSTER-CA');
    writeFileSync(join(dir, 'namespace'), 'operators\n');
    const config = loadInCluster({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: dir });
    assert.equal(config.server, 'https://[fd00::1]:443');
    assert.equal(config.ca?.toString(), 'CLUSTER-CA');
    assert.equal(config.namespace, 'operators');
    assert.deepEqual(config.auth, { type: 'tokenFile', path: join(dir, 'token') });
    assert.equal(config.source, 'in-cluster');
    assert.equal(loadInCluster({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '6443' }, serviceAccountDir: dir }).server, 'https://10.96.0.1:6443');
  });

  it('is the fallback when no kubeconfig exists, and explains when neither is available', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'token'), 't');
    const env = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    assert.equal(loadClusterConfig({ env, homeDir: dir, serviceAccountDir: dir }).server, 'https://10.0.0.1:443');
    assert.equal(loadClusterConfig({ env, homeDir: dir, serviceAccountDir: dir }).namespace, 'default');
    assert.throws(() => loadClusterConfig({ env: {}, homeDir: dir }), /no Kubernetes configuration found/);
    assert.throws(() => loadInCluster({ env: {}, serviceAccountDir: dir }), /KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set/);
    assert.throws(() => loadInCluster({ env, serviceAccountDir: join(dir, 'none') }), /no ServiceAccount token/);
  });
});

describe('a KubeConfig object from @kubernetes/client-node (duck-typed)', () => {
  it('converts cluster, user and context namespace', () => {
    const kc = {
      currentContext: 'dev',
      getCurrentCluster: () => ({ name: 'k', server: 'https://k:6443/', caData: b64('CA'), skipTLSVerify: false, tlsServerName: 'api' }),
      getCurrentUser: () => ({ name: 'u', certData: b64('CERT'), keyData: b64('KEY'), token: 'tok' }),
      getContextObject: (name: string) => (name === 'dev' ? { namespace: 'ns1' } : null),
    };
    const config = fromKubeConfigObject(kc);
    assert.equal(config.server, 'https://k:6443');
    assert.equal(config.ca?.toString(), 'CA');
    assert.equal(config.clientCert?.toString(), 'CERT');
    assert.deepEqual(config.auth, { type: 'token', token: 'tok' });
    assert.equal(config.namespace, 'ns1');
    assert.equal(config.tlsServerName, 'api');
  });

  it('maps its in-cluster tokenFile provider and its exec users', () => {
    const base = { currentContext: 'c', getCurrentCluster: () => ({ server: 'https://10.0.0.1:443' }), getContextObject: () => null };
    assert.deepEqual(
      fromKubeConfigObject({ ...base, getCurrentUser: () => ({ authProvider: { name: 'tokenFile', config: { tokenFile: '/var/run/token' } } }) }).auth,
      { type: 'tokenFile', path: '/var/run/token' },
    );
    const exec = fromKubeConfigObject({ ...base, getCurrentUser: () => ({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'gke-gcloud-auth-plugin' } }) }).auth;
    assert.equal(exec.type, 'exec');
    assert.throws(() => fromKubeConfigObject({ ...base, getCurrentCluster: () => null, getCurrentUser: () => null }), /has no current cluster/);
  });
});
