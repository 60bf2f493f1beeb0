/**
 * `operon check` and the check `operon run` does first, on small projects of their own in a
 * temporary directory (issue #13: `patch.spec.replcias = 3` ran, and the API server dropped it).
 * The projects use this checkout's TypeScript through a symlinked node_modules, as a user's
 * project uses its own.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { operon } from './process.ts';

const repo = new URL('../../../', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'operon-check-'));
after(() => rmSync(root, { recursive: true, force: true }));

const TSCONFIG = JSON.stringify({
  compilerOptions: {
    target: 'es2024',
    lib: ['es2024'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node'],
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    verbatimModuleSyntax: true,
    skipLibCheck: true,
  },
  include: ['*.ts'],
});

/** A project whose operator's handler body is `body`; with `typescript: false`, no node_modules. */
function project(name: string, body: string, options: { typescript?: boolean } = {}): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'tsconfig.json'), TSCONFIG);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, type: 'module', private: true }));
  if (options.typescript !== false) symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(
    join(dir, 'operator.ts'),
    [
      `import { resource, Type } from '${join(repo, 'src/index.ts')}';`,
      'export const webs = resource({',
      "  group: 'check.operon.dev', version: 'v1', kind: 'Web',",
      '  spec: Type.Object({ replicas: Type.Integer() }),',
      '  status: Type.Object({ seen: Type.Optional(Type.Integer()) }),',
      '});',
      'webs.onCreate(({ patch }) => {',
      `  ${body}`,
      '});',
      '',
    ].join('\n'),
  );
  return dir;
}

describe('operon check', () => {
  it('passes a project that type-checks, exit 0', async () => {
    const dir = project('clean', 'patch.spec.replicas = 3; patch.status.seen = 1;');
    const { code, stderr } = await operon(['check'], dir);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, 'operon check: no type errors\n');
  });

  it('fails a misspelt spec field in a patch with the compiler diagnostic and one line, exit 2', async () => {
    const dir = project('spec-typo', 'patch.spec.replcias = 3;');
    const { code, stdout, stderr } = await operon(['check'], dir);
    assert.equal(code, 2);
    assert.match(stdout, /operator\.ts\(8,14\): error TS\d+: .*'replcias'/);
    assert.equal(stderr, 'operon: check: type errors in the project of tsconfig.json (listed above): fix them\n');
  });

  it('fails a misspelt status field, as the declared status schema types patch.status', async () => {
    const dir = project('status-typo', 'patch.status.sene = 1;');
    const { code, stdout } = await operon(['check', 'operator.ts'], dir);
    assert.equal(code, 2);
    assert.match(stdout, /operator\.ts\(8,16\): error TS\d+: .*'sene'/);
  });

  it("checks a named file that the tsconfig's include leaves out", async () => {
    const dir = project('outside-include', 'patch.spec.replicas = 3;');
    mkdirSync(join(dir, 'scratch'));
    writeFileSync(join(dir, 'scratch', 'try.ts'), ["import { webs } from '../operator.ts';", 'webs.onCreate(({ patch }) => {', '  patch.spec.replcias = 3;', '});', ''].join('\n'));
    const { code, stdout } = await operon(['check', 'scratch/try.ts'], dir);
    assert.equal(code, 2);
    assert.deepEqual(stdout.match(/error TS\d+/g), ['error TS2551'], stdout);
    assert.match(stdout, /scratch\/try\.ts\(3,14\): error TS\d+: .*'replcias'/);
    writeFileSync(join(dir, 'scratch', 'try.ts'), "import { webs } from '../operator.ts';\nexport const kind = webs.kind;\n");
    const clean = await operon(['check', 'scratch/try.ts'], dir);
    assert.equal(clean.code, 0, clean.stdout);
    assert.equal((await operon(['check'], dir)).code, 0, 'the project alone, as its include says, has no error');
  });

  it('keeps the rootDir of a tsconfig that lays out output (outDir): no file is outside it for adding one', async () => {
    const dir = project('with-outdir', 'patch.spec.replicas = 3;');
    const tsconfig = JSON.parse(TSCONFIG) as { compilerOptions: Record<string, unknown> };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig, compilerOptions: { ...tsconfig.compilerOptions, outDir: 'dist', declaration: true, rootDir: '/' } }));
    mkdirSync(join(dir, 'scratch'));
    writeFileSync(join(dir, 'scratch', 'try.ts'), "import { webs } from '../operator.ts';\nexport const kind = webs.kind;\n");
    const { code, stdout } = await operon(['check', 'scratch/try.ts'], dir);
    assert.equal(code, 0, stdout);
  });

  it('checks the whole project as well when it adds a named file, also with no include in the tsconfig', async () => {
    const dir = project('no-include', 'patch.spec.replcias = 3;');
    const tsconfig = JSON.parse(TSCONFIG) as { include?: string[] };
    delete tsconfig.include;
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    writeFileSync(join(dir, 'scratch.mts'), 'export const fine = 1;\n');
    const { code, stdout } = await operon(['check', 'scratch.mts'], dir);
    assert.equal(code, 2);
    assert.match(stdout, /operator\.ts\(8,14\): error TS\d+: .*'replcias'/);
  });

  it('says in one line how to install TypeScript when the project has none', async () => {
    const dir = project('no-typescript', 'patch.spec.replicas = 3;', { typescript: false });
    const { code, stderr } = await operon(['check'], dir);
    assert.equal(code, 2);
    assert.equal(stderr, 'operon: check: TypeScript is not installed in .: install it with npm install --save-dev typescript\n');
  });

  it('names a missing --tsconfig and how to make one', async () => {
    const dir = project('no-tsconfig', 'patch.spec.replicas = 3;');
    const { code, stderr } = await operon(['check', '--tsconfig', 'nope.json'], dir);
    assert.equal(code, 2);
    assert.match(stderr, /^operon: check: no nope\.json: create one \(npx tsc --init\) or name it with --tsconfig\n$/);
  });
});

describe('operon run type-checks first', () => {
  it('refuses to start an operator with a type error, before loading it or touching a cluster', async () => {
    const dir = project('run-typo', 'patch.spec.replcias = 3;');
    // No cluster is configured: getting past the check would fail on the kubeconfig instead.
    const env = { ...process.env, KUBECONFIG: join(dir, 'no-kubeconfig') };
    const { code, stderr } = await operon(['run', 'operator.ts'], dir, env);
    assert.equal(code, 2);
    assert.match(stderr, /operator\.ts\(8,14\): error TS\d+: .*'replcias'/);
    assert.match(stderr, /^operon: check: type errors in the project of tsconfig\.json \(listed above\): fix them, or start anyway with --no-check$/m);
    const skipped = await operon(['run', 'operator.ts', '--no-check'], dir, env);
    assert.doesNotMatch(skipped.stderr, /type errors/);
    assert.match(skipped.stderr, /cluster configuration/);
  });

  it('does not check in production (the image runs compiled JavaScript)', async () => {
    const dir = project('run-production', 'patch.spec.replcias = 3;');
    const env = { ...process.env, NODE_ENV: 'production', KUBECONFIG: join(dir, 'no-kubeconfig') };
    const { stderr } = await operon(['run', 'operator.ts'], dir, env);
    assert.doesNotMatch(stderr, /type errors/);
    assert.match(stderr, /cluster configuration/);
  });
});
