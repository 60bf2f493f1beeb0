import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseCommand } from '../../../src/cli/args.ts';
import { addResourceCommand, checkNames, initCommand, projectFiles } from '../../../src/cli/init.ts';
import { CliError } from '../../../src/cli/load.ts';
import { stateDirFor } from '../../../src/cluster/recipe.ts';

const names = { group: 'example.com', kind: 'Echo', version: 'v1alpha1' };

describe('operon init: names', () => {
  const rejected: Array<[string, Partial<typeof names>, RegExp]> = [
    ['a lower-case kind', { kind: 'echo' }, /--kind "echo" must be UpperCamelCase/],
    ['a kind with a dash', { kind: 'My-Kind' }, /--kind "My-Kind" must be UpperCamelCase/],
    ['a group without a dot', { group: 'example' }, /--group "example" must be a DNS subdomain with a dot/],
    ['an upper-case group', { group: 'Example.com' }, /--group "Example.com"/],
    ['a version without v', { version: '1' }, /--version "1" must be a Kubernetes API version/],
    ['a version v1beta', { version: 'v1beta' }, /--version "v1beta"/],
  ];
  for (const [what, change, message] of rejected) {
    it(`refuses ${what} with one line naming the rule`, () => {
      const problem = checkNames({ ...names, ...change });
      assert.match(problem ?? '', message);
      assert.equal(problem?.includes('\n'), false);
    });
  }
  it('accepts v1, v2beta3 and a multi-label group', () => {
    assert.equal(checkNames({ group: 'crypto.tools.example.org', kind: 'CryptoValue', version: 'v1' }), undefined);
    assert.equal(checkNames({ ...names, version: 'v2beta3' }), undefined);
  });
  it('parses defaults and flags; an invalid kind is exit 2 when run', async () => {
    const c = parseCommand(['init', 'my-op', '--kind', 'Widget']);
    assert.equal(c.command, 'invoke');
    if (c.command !== 'invoke') return;
    assert.deepEqual(c.options, { command: 'init', dir: 'my-op', group: 'example.com', kind: 'Widget', version: 'v1alpha1' });
    assert.equal(parseCommand(['init', 'a', 'b']).command, 'usage');
  });
});

describe('operon init: files', () => {
  it('writes the project, and refuses to overwrite anything, listing the conflicts and writing nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'operon-init-'));
    try {
      initCommand({ command: 'init', dir, ...names }, () => {});
      for (const f of ['package.json', 'tsconfig.json', '.gitignore', 'README.md', 'Dockerfile', 'src/echo.ts', 'src/operator.ts', 'test/operator.test.ts', 'config/crd/crd.yaml', 'config/rbac/rbac.yaml', 'config/manager/deployment.yaml', 'config/kustomization.yaml']) {
        assert.ok(existsSync(join(dir, f)), f);
      }
      const other = mkdtempSync(join(tmpdir(), 'operon-init-'));
      writeFileSync(join(other, 'README.md'), 'mine');
      mkdirSync(join(other, 'src'));
      writeFileSync(join(other, 'src', 'operator.ts'), 'mine');
      assert.throws(
        () => initCommand({ command: 'init', dir: other, ...names }, () => {}),
        (err: unknown) => err instanceof CliError && err.exitCode === 2 && /already has README\.md, src\/operator\.ts: nothing was written/.test(err.message),
      );
      assert.deepEqual(readdirSync(other).sort(), ['README.md', 'src']);
      rmSync(other, { recursive: true });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('takes the place of the package.json `npm install operon-k8s` left, keeping what it installed, and of no other', () => {
    const dir = mkdtempSync(join(tmpdir(), 'operon-init-'));
    try {
      const installed = { dependencies: { 'operon-k8s': 'file:../operon-k8s-0.1.0.tgz', yaml: '^2.8.0' } };
      writeFileSync(join(dir, 'package.json'), JSON.stringify(installed, null, 2));
      initCommand({ command: 'init', dir, ...names }, () => {});
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { type: string; scripts: Record<string, string>; dependencies: Record<string, string> };
      assert.equal(pkg.type, 'module');
      assert.ok(pkg.scripts['test']);
      assert.deepEqual(pkg.dependencies, installed.dependencies);
      assert.ok(existsSync(join(dir, 'src', 'operator.ts')));

      const other = mkdtempSync(join(tmpdir(), 'operon-init-'));
      writeFileSync(join(other, 'package.json'), JSON.stringify({ name: 'mine', dependencies: { 'operon-k8s': '^0.1.0' } }));
      assert.throws(() => initCommand({ command: 'init', dir: other, ...names }, () => {}), /already has package\.json: nothing was written/);
      assert.deepEqual(readdirSync(other), ['package.json']);
      rmSync(other, { recursive: true });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('gives the dependency as ^<version>, or OPERON_INIT_DEPENDENCY; package.json has the scripts the README uses', () => {
    const files = projectFiles({ name: 'my-op', ...names, dependency: '^0.1.0' });
    const pkg = JSON.parse(files.get('package.json') ?? '{}') as { type: string; scripts: Record<string, string>; dependencies: Record<string, string> };
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.dependencies['operon-k8s'], '^0.1.0');
    assert.deepEqual(Object.keys(pkg.scripts).sort(), ['check', 'generate', 'start', 'test']);
    const tsconfig = JSON.parse(files.get('tsconfig.json') ?? '{}') as { compilerOptions: Record<string, unknown> };
    for (const option of ['strict', 'noEmit', 'allowImportingTsExtensions', 'erasableSyntaxOnly']) assert.equal(tsconfig.compilerOptions[option], true, option);
    assert.equal(tsconfig.compilerOptions['module'], 'nodenext');
    assert.match(files.get('config/manager/deployment.yaml') ?? '', /containerPort: 8081[\s\S]*containerPort: 8080/);
    assert.match(files.get('.gitignore') ?? '', /^\.operon\/$/m);
  });
});

describe('operon add resource', () => {
  it("writes src/<kind>.ts in the project's group and version, re-exports it, and refuses to overwrite", () => {
    const dir = mkdtempSync(join(tmpdir(), 'operon-add-'));
    try {
      initCommand({ command: 'init', dir, group: 'shop.example.org', kind: 'Order', version: 'v1' }, () => {});
      addResourceCommand({ command: 'add-resource', dir, kind: 'Invoice', group: undefined, version: undefined }, () => {});
      const added = readFileSync(join(dir, 'src', 'invoice.ts'), 'utf8');
      assert.match(added, /group: 'shop\.example\.org',\n {2}version: 'v1',\n {2}kind: 'Invoice'/);
      assert.match(added, /invoices\.reconcile\(/);
      assert.match(readFileSync(join(dir, 'src', 'operator.ts'), 'utf8'), /export \* from '\.\/invoice\.ts';\n$/);
      assert.match(readFileSync(join(dir, 'config', 'samples', 'invoice.yaml'), 'utf8'), /^apiVersion: shop\.example\.org\/v1\nkind: Invoice\n/);
      assert.throws(
        () => addResourceCommand({ command: 'add-resource', dir, kind: 'Invoice', group: undefined, version: undefined }, () => {}),
        (err: unknown) => err instanceof CliError && err.exitCode === 2 && /invoice\.ts already exists: nothing was written/.test(err.message),
      );
      assert.throws(
        () => addResourceCommand({ command: 'add-resource', dir, kind: 'invoice2', group: undefined, version: undefined }, () => {}),
        (err: unknown) => err instanceof CliError && /^the kind "invoice2" must be UpperCamelCase/.test(err.message),
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('refuses a folder that is not a project, naming operon init', () => {
    const dir = mkdtempSync(join(tmpdir(), 'operon-add-'));
    try {
      assert.throws(() => addResourceCommand({ command: 'add-resource', dir, kind: 'Invoice', group: undefined, version: undefined }, () => {}), /run operon init first/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('the local cluster: where state lives', () => {
  it('OPERON_CONTROLPLANE_DIR, else .operon/cluster in a project, else the XDG cache; never node_modules', () => {
    const project = mkdtempSync(join(tmpdir(), 'operon-state-'));
    try {
      writeFileSync(join(project, 'package.json'), '{"name":"mine"}');
      mkdirSync(join(project, 'src'));
      assert.equal(stateDirFor(join(project, 'src'), { OPERON_CONTROLPLANE_DIR: '/x/y' }), '/x/y');
      assert.equal(stateDirFor(join(project, 'src'), {}), join(project, '.operon', 'cluster'));
      const pkgInModules = join(project, 'node_modules', 'dep');
      mkdirSync(pkgInModules, { recursive: true });
      writeFileSync(join(pkgInModules, 'package.json'), '{"name":"dep"}');
      assert.equal(stateDirFor(pkgInModules, { XDG_CACHE_HOME: '/cache' }), '/cache/operon/cluster');
    } finally {
      rmSync(project, { recursive: true });
    }
  });
});
