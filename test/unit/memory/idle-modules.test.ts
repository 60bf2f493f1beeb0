/**
 * What an idle operator loads: every module costs resident memory in every operator
 * (docs/performance.md, "Idle memory and per-object cost"), so the ones no idle operator uses
 * must stay unloaded. Each check runs in a fresh Node process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

/** Imports `specifiers` in a fresh process and returns Node's list of loaded built-in modules. */
function builtinsLoadedBy(specifiers: readonly string[]): string[] {
  const script = `${specifiers.map((s) => `await import(${JSON.stringify(s)});`).join('\n')}\nconsole.log(JSON.stringify(process.moduleLoadList));`;
  const run = spawnSync(process.execPath, ['--conditions=operon-source', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('../../..', import.meta.url).pathname });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as string[];
}

describe('modules an idle operator loads', () => {
  it('the framework, its API client, its health server and the CVC operator load neither http2 nor undici', () => {
    // An ES import of node:http reads all its exports; the lazy ones load http2, zlib and undici.
    const loaded = builtinsLoadedBy(['operon-k8s', './src/client/transport.ts', './src/server/health.ts', './operators/crypto/operator.ts']);
    assert.ok(loaded.includes('NativeModule http'), 'node:http itself is loaded (the check would prove nothing otherwise)');
    for (const unwanted of ['NativeModule http2', 'NativeModule internal/deps/undici/undici', 'NativeModule zlib']) {
      assert.ok(!loaded.includes(unwanted), `${unwanted} is loaded`);
    }
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
