/**
 * docs/concepts/client.md is one script in pieces: its `ts` blocks, joined, type-check (with
 * `operon check`, in a project of their own) and run to the end against the real API server, so
 * the page cannot drift from the client's signatures or behaviour.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { useCluster } from '../support/cluster.ts';
import { operon } from '../unit/cli/process.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('client-doc');
const repo = new URL('../../', import.meta.url).pathname;
const page = readFileSync(join(repo, 'docs/concepts/client.md'), 'utf8');
const blocks = [...page.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
const script = blocks
  .join('\n')
  .replace(`from 'operon-k8s'`, `from ${JSON.stringify(join(repo, 'src/index.ts'))}`)
  .replace(`const ns = 'default';`, `const ns = ${JSON.stringify(ns)};`);

const dir = mkdtempSync(join(tmpdir(), 'operon-client-doc-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'client.ts'), script);
writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'client-doc', type: 'module', private: true }));
writeFileSync(
  join(dir, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: { target: 'es2024', lib: ['es2024', 'dom'], module: 'nodenext', moduleResolution: 'nodenext', types: ['node'], strict: true, noEmit: true, allowImportingTsExtensions: true, verbatimModuleSyntax: true, skipLibCheck: true },
    include: ['*.ts'],
  }),
);
symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');

describe('docs/concepts/client.md', () => {
  it('has the snippets this test joins: connect, create/get/list, patch, errors, watch, delete', () => {
    assert.equal(blocks.length, 6);
    assert.ok(script.includes(pathToFileURL(join(repo, 'src/index.ts')).pathname) && script.includes(ns));
  });

  it('type-checks', async () => {
    const { code, stdout, stderr } = await operon(['check'], dir);
    assert.equal(code, 0, stdout + stderr);
  });

  it('runs to the end against the API server: apply sets the data, the watch sees the delete', async () => {
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
      execFile(process.execPath, [join(dir, 'client.ts')], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout }),
      ),
    );
    assert.match(stdout, /^fast$/m);
    assert.match(stdout, /no-such-map.*\(NotFound, HTTP 404\)/);
    assert.match(stdout, /'DELETED settings'/);
    assert.match(stdout, /'ADDED settings'|'MODIFIED settings'/);
  });
});
