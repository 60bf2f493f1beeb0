import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/base/clock.ts';
import { CredentialError, ExecCredentialCache, ExecCredentials, TokenFileCredentials, credentialsFor, execCacheKey, parseExecCredential } from '../../../src/client/credentials.ts';
import type { ExecConfig } from '../../../src/client/kubeconfig.ts';
import { script, tempDir } from './fixtures.ts';

const V1 = 'client.authentication.k8s.io/v1';

/** A plugin that counts its runs, records KUBERNETES_EXEC_INFO and prints token "tok-<run>". */
function plugin(dir: string, expiry?: string): { exec: ExecConfig; runs: () => number; info: () => unknown } {
  const count = join(dir, 'count');
  const info = join(dir, 'info.json');
  const command = script(
    dir,
    'plugin.sh',
    [
      'n=$(cat "$COUNT_FILE" 2>/dev/null || echo 0)',
      'n=$((n+1))',
      'echo "$n" > "$COUNT_FILE"',
      'printf "%s" "$KUBERNETES_EXEC_INFO" > "$INFO_FILE"',
      'if [ -n "$EXPIRY" ]; then exp=",\\"expirationTimestamp\\":\\"$EXPIRY\\""; else exp=""; fi',
      `printf '{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"tok-%s"%s}}\\n' "$n" "$exp"`,
    ].join('\n'),
  );
  const env = [
    { name: 'COUNT_FILE', value: count },
    { name: 'INFO_FILE', value: info },
    { name: 'EXPIRY', value: expiry ?? '' },
  ];
  return {
    exec: { apiVersion: V1, command, args: [], env, provideClusterInfo: false },
    runs: () => {
      try {
        return Number(readFileSync(count, 'utf8'));
      } catch {
        return 0;
      }
    },
    info: () => JSON.parse(readFileSync(info, 'utf8')),
  };
}

const env = { PATH: process.env['PATH'] };

describe('exec credential plugins', () => {
  it('caches the token until its expiry minus the margin', async (t) => {
    const dir = tempDir(t);
    const clock = new ManualClock();
    const expiry = new Date(clock.now() + 60_000).toISOString();
    const p = plugin(dir, expiry);
    const provider = new ExecCredentials(p.exec, { clock, cache: new ExecCredentialCache(), expiryMarginMs: 10_000, env });
    assert.deepEqual(await provider.get(), { authorization: 'Bearer tok-1' });
    assert.deepEqual(await provider.get(), { authorization: 'Bearer tok-1' });
    await clock.advance(49_999);
    assert.equal((await provider.get()).authorization, 'Bearer tok-1');
    assert.equal(p.runs(), 1);
    await clock.advance(1);
    assert.equal((await provider.get()).authorization, 'Bearer tok-2');
    assert.equal(p.runs(), 2);
  });

  it('trusts a credential without expiry for the TTL only', async (t) => {
    const dir = tempDir(t);
    const clock = new ManualClock();
    const p = plugin(dir);
    const provider = new ExecCredentials(p.exec, { clock, cache: new ExecCredentialCache(), ttlMs: 600_000, env });
    await provider.get();
    await clock.advance(599_999);
    assert.equal((await provider.get()).authorization, 'Bearer tok-1');
    await clock.advance(1);
    assert.equal((await provider.get()).authorization, 'Bearer tok-2');
  });

  it('re-runs the plugin after invalidate, but only once for a burst of 401s on the same credential', async (t) => {
    const dir = tempDir(t);
    const clock = new ManualClock();
    const p = plugin(dir);
    const provider = new ExecCredentials(p.exec, { clock, cache: new ExecCredentialCache(), env });
    const first = await provider.get();
    provider.invalidate(first);
    const second = await provider.get();
    assert.equal(second.authorization, 'Bearer tok-2');
    // A late 401 for the old credential must not throw away the fresh one.
    provider.invalidate(first);
    assert.equal((await provider.get()).authorization, 'Bearer tok-2');
    provider.invalidate();
    assert.equal((await provider.get()).authorization, 'Bearer tok-3');
  });

  it('runs once for concurrent callers', async (t) => {
    const dir = tempDir(t);
    const p = plugin(dir);
    const provider = new ExecCredentials(p.exec, { clock: new ManualClock(), cache: new ExecCredentialCache(), env });
    const all = await Promise.all([provider.get(), provider.get(), provider.get()]);
    assert.deepEqual(new Set(all.map((c) => c.authorization)), new Set(['Bearer tok-1']));
    assert.equal(p.runs(), 1);
  });

  it('keys the cache by the whole exec config and kubeconfig path, not the user name (client-node #592)', async (t) => {
    const dir = tempDir(t);
    const clock = new ManualClock();
    const p = plugin(dir);
    const cache = new ExecCredentialCache();
    const a = new ExecCredentials(p.exec, { clock, cache, kubeconfigPath: '/home/me/.kube/a', env });
    const aAgain = new ExecCredentials({ ...p.exec }, { clock, cache, kubeconfigPath: '/home/me/.kube/a', env });
    const b = new ExecCredentials(p.exec, { clock, cache, kubeconfigPath: '/home/me/.kube/b', env });
    const c = new ExecCredentials({ ...p.exec, args: ['--profile', 'other'] }, { clock, cache, kubeconfigPath: '/home/me/.kube/a', env });
    assert.equal((await a.get()).authorization, 'Bearer tok-1');
    assert.equal((await aAgain.get()).authorization, 'Bearer tok-1');
    assert.equal((await b.get()).authorization, 'Bearer tok-2');
    assert.equal((await c.get()).authorization, 'Bearer tok-3');
    assert.notEqual(execCacheKey(p.exec, '/a'), execCacheKey(p.exec, '/b'));
  });

  it('sends KUBERNETES_EXEC_INFO, with the cluster only when provideClusterInfo is set', async (t) => {
    const dir = tempDir(t);
    const p = plugin(dir);
    const cluster = { server: 'https://k:6443', ca: Buffer.from('CA'), insecureSkipTlsVerify: false, tlsServerName: 'api' };
    await new ExecCredentials(p.exec, { clock: new ManualClock(), cache: new ExecCredentialCache(), cluster, env }).get();
    assert.deepEqual(p.info(), { apiVersion: V1, kind: 'ExecCredential', spec: { interactive: false } });
    const withInfo = { ...p.exec, provideClusterInfo: true, clusterExtension: { audience: 'x' } };
    await new ExecCredentials(withInfo, { clock: new ManualClock(), cache: new ExecCredentialCache(), cluster, env }).get();
    assert.deepEqual(p.info(), {
      apiVersion: V1,
      kind: 'ExecCredential',
      spec: { interactive: false, cluster: { server: 'https://k:6443', 'tls-server-name': 'api', 'certificate-authority-data': 'Q0E=', config: { audience: 'x' } } },
    });
  });

  it('reports a failing or missing plugin with its stderr or install hint', async (t) => {
    const dir = tempDir(t);
    const failing = script(dir, 'fail.sh', 'echo "error: SSO session expired" >&2\nexit 3');
    const exec = (command: string, installHint?: string): ExecConfig => ({ apiVersion: V1, command, args: [], env: [], provideClusterInfo: false, ...(installHint ? { installHint } : {}) });
    await assert.rejects(
      new ExecCredentials(exec(failing), { cache: new ExecCredentialCache(), env }).get(),
      (err: unknown) => err instanceof CredentialError && /exit code 3\): error: SSO session expired/.test(err.message),
    );
    await assert.rejects(
      new ExecCredentials(exec(join(dir, 'absent'), 'brew install absent'), { cache: new ExecCredentialCache(), env }).get(),
      /was not found\. Fix: brew install absent/,
    );
    const slow = script(dir, 'slow.sh', 'sleep 5');
    await assert.rejects(new ExecCredentials(exec(slow), { cache: new ExecCredentialCache(), env, timeoutMs: 100 }).get(), /did not answer within 100 ms/);
  });

  it('validates what the plugin prints', () => {
    const exec = { command: 'p', apiVersion: V1 };
    const out = (status: unknown, apiVersion = V1): string => JSON.stringify({ apiVersion, kind: 'ExecCredential', status });
    assert.deepEqual(parseExecCredential(out({ token: 't', expirationTimestamp: '2030-01-01T00:00:00Z' }), exec), {
      credential: { authorization: 'Bearer t' },
      expiresAt: Date.parse('2030-01-01T00:00:00Z'),
    });
    const certs = parseExecCredential(out({ clientCertificateData: 'CERT', clientKeyData: 'KEY' }), exec);
    assert.equal(certs.credential.clientCert?.toString(), 'CERT');
    assert.equal(certs.credential.clientKey?.toString(), 'KEY');
    assert.throws(() => parseExecCredential(out({ token: 't' }, 'client.authentication.k8s.io/v1beta1'), exec), /asks for client\.authentication\.k8s\.io\/v1/);
    assert.throws(() => parseExecCredential(out({ clientCertificateData: 'CERT' }), exec), /certificate without a key/);
    assert.throws(() => parseExecCredential(out({}), exec), /neither status\.token/);
    assert.throws(() => parseExecCredential(out({ token: 't', expirationTimestamp: 'soon' }), exec), /not RFC 3339/);
    assert.throws(() => parseExecCredential('please log in', exec), /not JSON/);
  });
});

describe('token files', () => {
  it('re-reads a rotating token file after the interval, and at once after invalidate', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'token');
    writeFileSync(path, 'one\n');
    const clock = new ManualClock();
    const provider = new TokenFileCredentials(path, { clock, rereadMs: 60_000 });
    assert.deepEqual(await provider.get(), { authorization: 'Bearer one' });
    writeFileSync(path, 'two');
    await clock.advance(59_999);
    assert.equal((await provider.get()).authorization, 'Bearer one');
    await clock.advance(1);
    assert.equal((await provider.get()).authorization, 'Bearer two');
    writeFileSync(path, 'three');
    provider.invalidate();
    assert.equal((await provider.get()).authorization, 'Bearer three');
  });

  it('keeps the last good token when a re-read fails, and fails clearly when there never was one', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'token');
    writeFileSync(path, 'good');
    const clock = new ManualClock();
    const provider = new TokenFileCredentials(path, { clock });
    await provider.get();
    rmSync(path);
    provider.invalidate();
    assert.equal((await provider.get()).authorization, 'Bearer good');
    await assert.rejects(new TokenFileCredentials(path, { clock }).get(), (err: unknown) => err instanceof CredentialError && err.message.includes(path) && /ENOENT/.test(err.message));
    writeFileSync(path, '  \n');
    await assert.rejects(new TokenFileCredentials(path, { clock }).get(), /is empty/);
  });
});

describe('credentialsFor', () => {
  it('builds static bearer and basic credentials', async () => {
    const base = { server: 'https://k', insecureSkipTlsVerify: false, namespace: 'default', source: 'test' };
    assert.deepEqual(await credentialsFor({ ...base, auth: { type: 'token', token: 'abc' } }).get(), { authorization: 'Bearer abc' });
    assert.deepEqual(await credentialsFor({ ...base, auth: { type: 'basic', username: 'u', password: 'p' } }).get(), { authorization: 'Basic dTpw' });
    const none = credentialsFor({ ...base, auth: { type: 'none' } });
    assert.deepEqual(await none.get(), {});
    assert.equal(none.refreshable, false);
  });
});
