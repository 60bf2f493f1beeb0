/**
 * Node's compile cache for TypeScript operators (`src/cli/compile-cache.ts`): `operon prepare`
 * fills it, and a process started later over the same files loads no TypeScript stripper, the
 * 28 MiB an operator from `.ts` sources used to carry. Whether the stripper loaded is read from
 * `process.moduleLoadList`, which names every built-in module a process has loaded.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { operon } from './process.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'operon-compile-cache-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** An operator-shaped module: ESM with types, importing a helper of its own. */
function project(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'helper.ts'), 'export interface Price { usd: number }\nexport const double = (p: Price): number => p.usd * 2;\n');
  writeFileSync(join(dir, 'operator.ts'), "import { double, type Price } from './helper.ts';\nconst price: Price = { usd: 21 };\nexport const value: number = double(price);\n");
  return join(dir, 'operator.ts');
}

function environment(cache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_COMPILE_CACHE: cache };
  delete env['NODE_OPTIONS'];
  delete env['NODE_DISABLE_COMPILE_CACHE'];
  delete env['NODE_COMPILE_CACHE_PORTABLE'];
  return env;
}

/** Imports `file` in a new process with the given cache; says whether Node loaded its TypeScript stripper. */
function loadsStripper(file: string, cache: string): Promise<boolean> {
  const probe = `const m = await import(${JSON.stringify(file)}); if (m.value !== 42) throw new Error('wrong value ' + m.value); console.log(process.moduleLoadList.some((name) => name.includes('amaro')));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', probe], { env: environment(cache) }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout.trim() === 'true')));
  });
}

const uid = process.getuid?.() ?? 0;

describe('operon prepare', () => {
  it('fills the cache so that a later start over the same files loads no TypeScript stripper', async () => {
    const file = project('prepared');
    const cache = join(work, 'cache-prepared');
    assert.equal(await loadsStripper(file, join(work, 'cache-empty')), true, 'without a filled cache Node strips the types');
    const r = await operon(['prepare', file], root, environment(cache));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^operon prepare: \\d+ compiled modules cached in ${cache}/v${process.versions.node}-${process.arch}-[0-9a-f]+-${uid}; start the operator with NODE_COMPILE_CACHE=${cache}`));
    assert.equal(await loadsStripper(file, cache), false);
  });

  it("compiles the files under the V8 flags operon run loads them with, so V8 keeps the cached code", async () => {
    // V8 refuses cached code compiled under other flags, and `--jit lazy`, run's default, changes
    // them before the files load. Node says so with NODE_DEBUG_NATIVE=COMPILE_CACHE.
    const rejected = async (prepareArgs: string[]): Promise<string[]> => {
      const file = project(`flags${prepareArgs.join('')}`);
      const cache = join(work, `cache-flags${prepareArgs.join('')}`);
      const r = await operon(['prepare', file, ...prepareArgs], root, environment(cache));
      assert.equal(r.code, 0, r.stderr);
      const jit = new URL('../../../src/cli/jit.ts', import.meta.url).href;
      const probe = `(await import(${JSON.stringify(jit)})).deferJit('lazy'); await import(${JSON.stringify(file)});`;
      const stderr = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, ['--input-type=module', '-e', probe], { env: { ...environment(cache), NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } }, (err, _out, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stderr)));
      });
      return stderr.split('\n').filter((line) => line.includes('was rejected') && line.includes(dirname(file)));
    };
    assert.deepEqual(await rejected([]), []);
    assert.equal((await rejected(['--jit', 'eager'])).length, 2, 'prepared under other flags, both files are compiled again');
  });

  it('names the folder after the user the operator runs as, given --uid', async () => {
    const file = project('other-user');
    const cache = join(work, 'cache-other-user');
    const r = await operon(['prepare', file, '--uid', '65532'], root, environment(cache));
    assert.equal(r.code, 0, r.stderr);
    const folders = readdirSync(cache);
    assert.equal(folders.length, 1, folders.join(', '));
    assert.match(folders[0] ?? '', uid === 65532 ? /-65532$/ : new RegExp(`^v${process.versions.node}-${process.arch}-[0-9a-f]+-65532$`));
    assert.match(r.stderr, /as user 65532/);
  });

  it('refuses a missing file list and a uid that is not a number, in one line', async () => {
    const none = await operon(['prepare'], root);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^operon prepare: needs the operator files, e\.g\. operon prepare src\/operator\.ts\n$/);
    const bad = await operon(['prepare', 'operator.ts', '--uid', 'nonroot'], root);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^operon prepare: --uid wants a numeric user id, e\.g\. 65532, not "nonroot"\n$/);
  });

  it('says how to fix a cache Node cannot write', async () => {
    const blocker = join(work, 'not-a-folder');
    writeFileSync(blocker, '');
    const r = await operon(['prepare', project('unwritable')], root, environment(join(blocker, 'cache')));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^operon: Node could not open its compile cache in .*not-a-folder\/cache: .*; set NODE_COMPILE_CACHE to a folder this user can write\n$/);
  });
});

describe('the commands that load operator files', () => {
  // Without NODE_COMPILE_CACHE (which turns the cache on in any Node process), in Node's default
  // folder: <tmpdir>/node-compile-cache, with TMPDIR pointing at a folder of the test's.
  function defaultCacheEnv(tmp: string): NodeJS.ProcessEnv {
    mkdirSync(tmp, { recursive: true });
    const env: NodeJS.ProcessEnv = { ...environment(''), TMPDIR: tmp };
    delete env['NODE_COMPILE_CACHE'];
    return env;
  }

  it('turn the cache on for .ts files, and leave an operator of .js files alone', async () => {
    const typed = join(work, 'tmp-crd-ts');
    const r = await operon(['crd', join(root, 'operators/printer/resource.ts')], root, defaultCacheEnv(typed));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(typed, 'node-compile-cache')), 'operon crd on a .ts file keeps a compile cache');

    const dir = join(work, 'plain');
    mkdirSync(dir);
    writeFileSync(join(dir, 'operator.mjs'), 'export const value = 42;\n');
    const plain = join(work, 'tmp-crd-js');
    await operon(['crd', join(dir, 'operator.mjs')], root, defaultCacheEnv(plain));
    assert.equal(existsSync(join(plain, 'node-compile-cache')), false, 'operon crd on .mjs files turned the compile cache on');
  });
});
