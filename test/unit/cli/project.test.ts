import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CliError, loadError } from '../../../src/cli/load.ts';
import { checkProjects, releaseLine } from '../../../src/cli/project.ts';

const root = mkdtempSync(join(tmpdir(), 'operon-project-'));
after(() => rmSync(root, { recursive: true, force: true }));

function project(name: string, packageJson: object | undefined): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  if (packageJson) writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson));
  const file = join(dir, 'src', 'operator.ts');
  writeFileSync(file, '');
  return file;
}

const refused = (pattern: RegExp) => (err: unknown) => err instanceof CliError && err.exitCode === 2 && pattern.test(err.message) && !err.message.includes('\n');

describe('operon run/crd/rbac: the file must be in a project this operon can run', () => {
  it('reads release lines as npm caret ranges do: 0.x by minor, then by major', () => {
    assert.equal(releaseLine('^0.1.0'), '0.1');
    assert.equal(releaseLine('0.1.7'), '0.1');
    assert.equal(releaseLine('^1.2.3'), '1');
    assert.equal(releaseLine('~2.0.0'), '2');
    assert.equal(releaseLine('file:../operon-k8s-0.1.0.tgz'), undefined);
    assert.equal(releaseLine('latest'), undefined);
  });

  it('refuses a file in no project that imports operon-k8s, naming operon init (a file that does not import it may run)', () => {
    const loose = mkdtempSync('/tmp/operon-loose-');
    writeFileSync(join(loose, 'op.ts'), '');
    try {
      checkProjects([join(loose, 'op.ts')], '0.1.0');
      writeFileSync(join(loose, 'op.ts'), "import { resource } from 'operon-k8s';\n");
      assert.throws(() => checkProjects([join(loose, 'op.ts')], '0.1.0'), refused(/is in no project .*create one with npx operon init/));
      const err = loadError(join(loose, 'op.ts'), Object.assign(new Error("Cannot find package 'operon-k8s' imported from op.ts"), { code: 'ERR_MODULE_NOT_FOUND' }));
      assert.equal(err.exitCode, 2);
      assert.match(err.message, /is in no project \(no package\.json at or above it\), so operon-k8s cannot be found: create one with npx operon init/);
    } finally {
      rmSync(loose, { recursive: true });
    }
  });

  it('refuses a project that asks for another release line, naming both versions', () => {
    const file = project('pins-two', { name: 'x', dependencies: { 'operon-k8s': '^2.0.0' } });
    assert.throws(() => checkProjects([file], '0.1.0'), refused(/asks for operon-k8s \^2\.0\.0, but this operon is 0\.1\.0/));
    const zero = project('pins-zero-two', { name: 'y', dependencies: { 'operon-k8s': '^0.2.0' } });
    assert.throws(() => checkProjects([zero], '0.1.0'), refused(/asks for operon-k8s \^0\.2\.0/));
  });

  it('accepts a matching range, a file: tarball, and a project without the dependency', () => {
    checkProjects([project('matches', { name: 'a', dependencies: { 'operon-k8s': '^0.1.0' } })], '0.1.4');
    checkProjects([project('tarball', { name: 'b', dependencies: { 'operon-k8s': 'file:/tmp/x.tgz' } })], '0.1.0');
    checkProjects([project('none', { name: 'c' })], '0.1.0');
  });
});
