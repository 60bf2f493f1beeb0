/**
 * The published package works where users run it: packed with `npm pack`, installed from the
 * tarball into a new project outside the checkout. Issue #14: package.json pointed `exports` and
 * `bin` at .ts files, so `npx operon --help` failed there with
 * ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING while every test in the repository passed.
 * No cluster needed; the pack (a build) and the install happen once for the whole file.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mustRun, packAndInstall, repoRoot, type InstalledProject } from '../support/package.ts';

const repoPackage = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');

let project: InstalledProject;
let entries: string[];

before(async () => {
  project = await packAndInstall(undefined, { devDependencies: [`@types/node@${repoPackage.devDependencies['@types/node']}`] });
  entries = (await mustRun('tar', ['-tvzf', project.tarball], project.dir)).trim().split('\n');
});
after(() => {
  if (!project) return;
  rmSync(project.dir, { recursive: true, force: true });
  rmSync(dirname(project.tarball), { recursive: true, force: true });
});

/** The tarball's paths, without tar's `package/` prefix. */
const paths = (): string[] => entries.map((line) => line.slice(line.indexOf('package/') + 'package/'.length));

describe('the packed operon-k8s, installed in a new project', () => {
  it('holds the compiled entries, their declarations and the CLI, executable with a shebang', () => {
    const files = paths();
    for (const f of ['package.json', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/testing/index.js', 'dist/src/testing/index.d.ts', 'dist/src/cli/main.js']) {
      assert.ok(files.includes(f), `${f} is missing from the tarball`);
    }
    const main = entries.find((line) => line.endsWith('package/dist/src/cli/main.js')) ?? '';
    assert.match(main, /^-rwx/, 'the bin is executable');
    assert.match(readFileSync(join(project.dir, 'node_modules/operon-k8s/dist/src/cli/main.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });

  it('ships JavaScript without comments (an operator keeps every module source in memory) and declarations with their TSDoc', () => {
    const dist = join(project.dir, 'node_modules/operon-k8s/dist/src');
    for (const module of ['index', 'runtime/operator', 'client/client', 'cli/main']) {
      const js = readFileSync(join(dist, `${module}.js`), 'utf8');
      assert.doesNotMatch(js, /^\s*(\/\*\*|\/\/ )/m, `${module}.js has comments`);
    }
    assert.match(readFileSync(join(dist, 'runtime/operator.d.ts'), 'utf8'), /\/\*\*[^]*@example/, 'operator.d.ts keeps its TSDoc');
  });

  it('holds no tests, benchmarks, results, reference operators or development files', () => {
    const unwanted = paths().filter((f) => /(^|\/)(test|tests|bench|results|operators|examples|controlplane\/\.cache|scripts|deploy|docs)\/|\.test\.|^tsconfig|^\.|package-lock\.json$/.test(f));
    assert.deepEqual(unwanted, []);
  });

  it('regression #14: npx operon --help runs the compiled CLI from node_modules', async () => {
    const r = await project.run('npx', ['--no-install', 'operon', '--help']);
    assert.equal(r.stderr.includes('ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING'), false, r.stderr);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: operon <command>/);
    assert.match(r.stdout, /^ {2}run +run the handlers the files register$/m);
    const version = await project.run('npx', ['--no-install', 'operon', 'version']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, new RegExp(`^operon \\(operon-k8s\\) ${repoPackage.version.replaceAll('.', '\\.')} `));
  });

  it('imports operon-k8s and operon-k8s/testing in plain Node, from ESM and CommonJS, and hides the internals', async () => {
    const script = [
      "const api = await import('operon-k8s');",
      "const testing = await import('operon-k8s/testing');",
      'console.log(typeof api.resource, typeof api.KubeClient, typeof testing.startOperator, typeof testing.ManualClock);',
      "try { await import('operon-k8s/dist/src/client/client.js'); console.log('internal import worked'); } catch (err) { console.log(err.code); }",
    ].join('\n');
    const r = await project.run('node', ['--input-type=module', '-e', script]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['function function function function', 'ERR_PACKAGE_PATH_NOT_EXPORTED']);

    // CommonJS callers too: Node 24 require()s an ES module graph without top-level await.
    const cjs = await project.run('node', ['--input-type=commonjs', '-e', "console.log(typeof require('operon-k8s').resource, typeof require('operon-k8s/testing').waitFor)"]);
    assert.equal(cjs.code, 0, cjs.stderr);
    assert.equal(cjs.stdout.trim(), 'function function');
  });

  it("type-checks a user's .ts operator against the shipped declarations, and catches its type errors", async () => {
    const tsconfig = {
      compilerOptions: { target: 'es2024', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, verbatimModuleSyntax: true, types: ['node'] },
      include: ['*.ts'],
    };
    writeFileSync(join(project.dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const operator = (statusLine: string) => `import { resource, Type } from 'operon-k8s';
import { ManualClock } from 'operon-k8s/testing';

export const widgets = resource({
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  spec: Type.Object({ size: Type.Number() }),
  status: Type.Object({ seen: Type.Optional(Type.Number()) }),
});

widgets.onCreate(async ({ spec, patch }) => {
  ${statusLine}
});

export const clock = new ManualClock();
`;
    writeFileSync(join(project.dir, 'widget.ts'), operator('patch.status.seen = spec.size;'));
    const ok = await project.run('node', [tsc, '-p', '.']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);

    // The types are real, not `any`: a string where the schema says number does not compile.
    writeFileSync(join(project.dir, 'widget.ts'), operator('const size: string = spec.size; patch.status.seen = Number(size);'));
    const bad = await project.run('node', [tsc, '-p', '.']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout, /widget\.ts.*error TS2322: Type 'number' is not assignable to type 'string'/);
    writeFileSync(join(project.dir, 'widget.ts'), operator('patch.status.seen = spec.size;'));
  });

  it("runs the user's own .ts, .js and .mjs operator files with the compiled CLI (operon crd)", async () => {
    const js = `import { resource, Type } from 'operon-k8s';
export const gadgets = resource({ group: 'example.com', version: 'v1', kind: 'Gadget', spec: Type.Object({ size: Type.Number() }) });
`;
    writeFileSync(join(project.dir, 'gadget.js'), js);
    writeFileSync(join(project.dir, 'gizmo.mjs'), js.replaceAll('Gadget', 'Gizmo').replaceAll('gadgets', 'gizmos'));
    writeFileSync(
      join(project.dir, 'widget.ts'),
      `import { resource, Type } from 'operon-k8s';
export const widgets = resource({ group: 'example.com', version: 'v1', kind: 'Widget', spec: Type.Object({ size: Type.Number() }) });
`,
    );
    const r = await project.run('npx', ['--no-install', 'operon', 'crd', 'widget.ts', 'gadget.js', 'gizmo.mjs']);
    assert.equal(r.code, 0, r.stderr);
    const names = [...r.stdout.matchAll(/^ {2}name: (\S+)$/gm)].map((m) => m[1]);
    assert.deepEqual(names, ['widgets.example.com', 'gadgets.example.com', 'gizmos.example.com']);
  });
});
