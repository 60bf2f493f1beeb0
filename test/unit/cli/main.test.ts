/**
 * The `operon` command from the repository's sources. Operator files import `operon-k8s`; without
 * the `operon-source` condition that name means the compiled dist/, a second copy of Operon whose
 * registry the command never reads, so the operator would run no handlers and say nothing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FROM_SOURCE } from '../../support/source.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function operon(nodeArgs: readonly string[], args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // NODE_OPTIONS removed: the test decides the conditions.
    const env = { ...process.env };
    delete env['NODE_OPTIONS'];
    execFile(process.execPath, [...nodeArgs, `${root}src/cli/main.ts`, ...args], { cwd: root, env }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('operon from the sources', () => {
  it('refuses, in one line naming the fix, to load operators when operon-k8s resolves to another copy', async () => {
    const r = await operon([], ['crd', 'operators/printer/resource.ts']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^operon: this operon command \(.*src\/cli\/main\.ts\) runs from the sources, but operon-k8s resolves to .*dist\/src\/index\.js: run it as node --conditions=operon-source src\/cli\/main\.ts/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('loads them under the operon-source condition', async () => {
    const r = await operon(FROM_SOURCE, ['crd', 'operators/printer/resource.ts']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}name: printers\./m);
  });

  it('prints help and the package name and version either way', async () => {
    const help = await operon([], ['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /npm package operon-k8s/);
    const version = await operon([], ['version']);
    assert.match(version.stdout, /^operon \(operon-k8s\) \d+\.\d+\.\d+ \(node v24\./);
  });
});
