/**
 * The CLI as a user meets it, run as a child process on operator files with mistakes in them
 * (issue #13): a syntax error and an error thrown while a helper module loads must name the file,
 * line and column, with a code frame or the user's stack, and never Operon's own stack.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { operon } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'operon-load-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const files: Record<string, string> = {
  'syntax.ts': ["// The parameter list on line 4 is not closed.", "const greeting = 'hello';", '', 'function greet(name: string {', '  return greeting + name;', '}', '', 'export { greet };', ''].join('\n'),
  'helper.ts': ['// Throws while it loads, as a helper reading a missing setting would.', "export const setting = 'x';", '', 'export function required(): never {', "  throw new Error('PRICE_URL is not set');", '}', '', 'required();', ''].join('\n'),
  'throwing.ts': ["import { setting } from './helper.ts';", '', 'export const value = setting;', ''].join('\n'),
  'broken.mjs': ['const a = 1;', 'export const b = (a +;', ''].join('\n'),
  'imports-broken.mjs': ["import { b } from './broken.mjs';", '', 'export const c = b;', ''].join('\n'),
  'imports-syntax.ts': ["import { greet } from './syntax.ts';", '', 'export const hello = greet;', ''].join('\n'),
};
// A declaration Operon refuses: the error comes from Operon's schema code, the mistake is on line 4 here.
const framework = new URL('../../../src/index.ts', import.meta.url).href;
files['bad-schema.ts'] = [`import { resource, Type } from '${framework}';`, '', '// A union of objects has no structural schema.', "export const things = resource({ group: 'example.com', version: 'v1', kind: 'Thing', spec: Type.Object({ x: Type.Union([Type.Object({ a: Type.String() }), Type.Object({ b: Type.Number() })]) }) });", ''].join('\n');
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);

describe('operon reports load errors where they are', () => {
  it('a syntax error in the operator file: file:line:col and a code frame with a caret, exit 2', async () => {
    const { code, stderr } = await operon(['run', 'syntax.ts', '--no-check'], dir);
    assert.equal(code, 2);
    assert.match(stderr, /^operon: loading syntax\.ts failed: SyntaxError at syntax\.ts:4:29: /);
    assert.match(stderr, /^> 4 \| function greet\(name: string \{$/m);
    assert.match(stderr, /^ {4}\| {29}\^$/m, 'the caret sits under column 29');
    assert.doesNotMatch(stderr, /node:internal|src\/cli/);
  });

  it('a syntax error in a module the operator imports names that module, not the operator', async () => {
    const { code, stderr } = await operon(['crd', 'imports-syntax.ts'], dir);
    assert.equal(code, 2);
    assert.match(stderr, /^operon: loading imports-syntax\.ts failed: SyntaxError at syntax\.ts:4:29: /);
    assert.match(stderr, /^> 4 \| function greet/m);
  });

  it('a syntax error in a JavaScript module (V8 gives no location) still names its file, line and column', async () => {
    const { code, stderr } = await operon(['crd', 'imports-broken.mjs'], dir);
    assert.equal(code, 2);
    assert.match(stderr, /^operon: loading imports-broken\.mjs failed: SyntaxError at broken\.mjs:2:22: Unexpected token ';'$/m);
    assert.match(stderr, /^> 2 \| export const b = \(a \+;$/m);
  });

  it("an error a helper throws while loading: the helper's file:line:col and the user's stack, not Operon's", async () => {
    const { code, stderr } = await operon(['run', 'throwing.ts', '--no-check'], dir);
    assert.equal(code, 1);
    assert.match(stderr, /^operon: loading throwing\.ts failed at helper\.ts:5:9: Error: PRICE_URL is not set$/m);
    assert.match(stderr, /^ {4}at required \(helper\.ts:5:9\)$/m);
    assert.match(stderr, /^ {4}at helper\.ts:8:1$/m);
    assert.doesNotMatch(stderr, /node:internal|src\/cli|unexpected error/);
  });

  it("an error Operon throws from the user's declaration names the user's line, not Operon's", async () => {
    const { code, stderr } = await operon(['crd', 'bad-schema.ts'], dir);
    assert.equal(code, 1);
    assert.match(stderr, /^operon: loading bad-schema\.ts failed at bad-schema\.ts:4:\d+: /m);
    assert.doesNotMatch(stderr, /src\/schema|node:internal/);
  });

  it('a missing file is one line and exit 2', async () => {
    const { code, stderr } = await operon(['run', 'nope.ts', '--no-check'], dir);
    assert.equal(code, 2);
    assert.match(stderr, /^operon: no such file: nope\.ts \(.*\)\n$/);
  });
});

describe('operon usage errors and help, as a process', () => {
  it('a mistyped flag: one line with the closest flag, exit 2', async () => {
    const { code, stdout, stderr } = await operon(['run', 'syntax.ts', '--concurency', '4'], dir);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(stderr, 'operon run: unknown flag --concurency; did you mean --concurrency?\n');
  });

  for (const command of ['run', 'check', 'crd', 'rbac']) {
    it(`operon ${command} --help prints its flags and exits 0`, async () => {
      const { code, stdout, stderr } = await operon([command, '--help'], dir);
      assert.equal(code, 0);
      assert.equal(stderr, '');
      assert.match(stdout, new RegExp(`^Usage: operon ${command} `));
      assert.match(stdout, /^ {2}-h, --help +show this help$/m);
    });
  }
});
