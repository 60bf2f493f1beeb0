/**
 * What an idle operator loads: every module costs resident memory in every operator
 * (docs/performance.md, "Idle memory and per-object cost"), so the ones no idle operator uses
 * must stay unloaded. Each check runs in a fresh Node process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

/** Imports `specifiers` in a fresh process and returns Node's list of loaded built-in modules. */
function builtinsLoadedBy(specifiers: readonly string[]): string[] {
  const script = `${specifiers.map((s) => `await import(${JSON.stringify(s)});`).join('\n')}\nconsole.log(JSON.stringify(process.moduleLoadList));`;
  const run = spawnSync(process.execPath, ['--conditions=operon-source', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('../../..', import.meta.url).pathname });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as string[];
}

/** Runs `body` (an ES module's text) in a fresh process that records every resolved URL; returns those whose URL contains `fragment`. */
function urlsLoadedBy(body: string, fragment: string): string[] {
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ resolve: (s, c, next) => { const r = next(s, c); loaded.push(r.url); return r; } });
    ${body}
    console.log(JSON.stringify(loaded.filter((u) => u.includes(${JSON.stringify(fragment)}))));
  `;
  const run = spawnSync(process.execPath, ['--conditions=operon-source', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('../../..', import.meta.url).pathname });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as string[];
}

describe('modules an idle operator loads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'operon-idle-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'token'), 'a-token');
  writeFileSync(join(dir, 'namespace'), 'ops');
  const kubeconfig = { apiVersion: 'v1', kind: 'Config', 'current-context': 'c', contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }], clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:6443' } }], users: [{ name: 'u', user: { token: 't' } }] };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(kubeconfig));
  writeFileSync(join(dir, 'config.yaml'), `apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: 'https://127.0.0.1:6443'}}]\nusers: [{name: u, user: {token: t}}]\n`);
  const loadConfig = (options: object): string =>
    `const { loadClusterConfig } = await import('./src/client/kubeconfig.ts'); await import('operon-k8s'); loadClusterConfig(${JSON.stringify(options)});`;

  it('an in-cluster operator and one given a JSON kubeconfig load no yaml module; a YAML kubeconfig loads it', () => {
    // yaml is 72 modules and 1.5 MiB of an idle operator's memory (docs/performance.md); a pod reads no kubeconfig.
    const inCluster = { env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, homeDir: dir, serviceAccountDir: dir };
    assert.deepEqual(urlsLoadedBy(loadConfig(inCluster), '/node_modules/yaml/'), []);
    assert.deepEqual(urlsLoadedBy(loadConfig({ kubeconfig: join(dir, 'config.json') }), '/node_modules/yaml/'), []);
    assert.notDeepEqual(urlsLoadedBy(loadConfig({ kubeconfig: join(dir, 'config.yaml') }), '/node_modules/yaml/'), [], 'a YAML kubeconfig loads yaml (the check would prove nothing otherwise)');
  });

  it('the framework, its API client, its health server and the CVC operator load neither http2 nor undici', () => {
    // An ES import of node:http reads all its exports; the lazy ones load http2, zlib and undici.
    const loaded = builtinsLoadedBy(['operon-k8s', './src/client/transport.ts', './src/server/health.ts', './operators/crypto/operator.ts']);
    assert.ok(loaded.includes('NativeModule http'), 'node:http itself is loaded (the check would prove nothing otherwise)');
    for (const unwanted of ['NativeModule http2', 'NativeModule internal/deps/undici/undici', 'NativeModule zlib']) {
      assert.ok(!loaded.includes(unwanted), `${unwanted} is loaded`);
    }
  });

  it('the framework, operon run and its operator loader load no child_process (only an exec credential plugin and a syntax-error report run a process)', () => {
    const loaded = builtinsLoadedBy(['operon-k8s', './src/cli/run.ts', './src/cli/load.ts', './src/client/credentials.ts', './operators/crypto/operator.ts']);
    assert.ok(loaded.includes('NativeModule fs'), 'the list is of built-in modules (the check would prove nothing otherwise)');
    for (const unwanted of ['NativeModule child_process', 'NativeModule dgram']) assert.ok(!loaded.includes(unwanted), `${unwanted} is loaded`);
  });

  it('the CVC and Printer operators load no TypeBox module (their declarations use the common builders)', () => {
    const script = `
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({ resolve: (s, c, next) => { const r = next(s, c); loaded.push(r.url); return r; } });
      await import('./operators/crypto/operator.ts');
      await import('./operators/printer/operator.ts');
      console.log(JSON.stringify(loaded.filter((u) => u.includes('/@sinclair/typebox/'))));
    `;
    const run = spawnSync(process.execPath, ['--conditions=operon-source', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('../../..', import.meta.url).pathname });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), []);
  });
});
