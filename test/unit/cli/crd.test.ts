import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { crdCommand } from '../../../src/cli/crd.ts';
import { CliError } from '../../../src/cli/load.ts';

const index = new URL('../../../src/index.ts', import.meta.url).href;
const cel = new URL('../../../src/schema/cel.ts', import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), 'operon-crd-'));
const file = (name: string, body: string): string => {
  const path = join(dir, name);
  writeFileSync(path, `import { conversion, defineResource, defineVersions, Type } from ${JSON.stringify(index)};\nimport { withRules } from ${JSON.stringify(cel)};\n${body}`);
  return path;
};
const v1 = "export const V1 = defineResource({ group: 'example.com', version: 'v1', kind: 'Thing', spec: Type.Object({ a: Type.Number() }) });";
const v2 = "export const V2 = defineResource({ group: 'example.com', version: 'v2', kind: 'Thing', spec: Type.Object({ a: Type.String() }) });";

describe('operon crd', () => {
  it('prints one CRD with every version and a Webhook conversion for an exported defineVersions', async () => {
    const path = file(
      'versioned.ts',
      `${v1}\n${v2}\nexport const Things = defineVersions({ versions: [V1, V2], storage: 'v1', conversions: [conversion(V1, V2, { up: (o) => ({ spec: { a: String(o.spec?.a) } }), down: (o) => ({ spec: { a: Number(o.spec?.a) } }) })] });`,
    );
    const docs = YAML.parseAllDocuments(await crdCommand([path])).map((d) => d.toJS() as { spec: { versions: { name: string; storage: boolean }[]; conversion: { strategy: string } } });
    assert.equal(docs.length, 1);
    assert.deepEqual(docs[0]?.spec.versions.map((v) => [v.name, v.storage]), [['v1', true], ['v2', false]]);
    assert.equal(docs[0]?.spec.conversion.strategy, 'Webhook');
  });
  it("names the conversion webhook in the shape the operator patches in: the local URL by default, or the Service given", async () => {
    const path = file(
      'versioned-config.ts',
      `${v1}\n${v2}\nexport const Things = defineVersions({ versions: [V1, V2], storage: 'v1', conversions: [conversion(V1, V2, { up: (o) => ({ spec: { a: String(o.spec?.a) } }), down: (o) => ({ spec: { a: Number(o.spec?.a) } }) })] });`,
    );
    type Doc = { spec: { conversion: { webhook: { clientConfig: unknown } } } };
    const clientConfig = async (conversion?: Parameters<typeof crdCommand>[1]): Promise<unknown> =>
      (YAML.parse(await crdCommand([path], conversion)) as Doc).spec.conversion.webhook.clientConfig;
    assert.deepEqual(await clientConfig(), { url: 'https://127.0.0.1:9443/convert/things.example.com' });
    assert.deepEqual(await clientConfig({ service: { namespace: 'ops', name: 'things-webhooks', port: 443 } }), {
      service: { namespace: 'ops', name: 'things-webhooks', port: 443, path: '/convert/things.example.com' },
    });
    assert.deepEqual(await clientConfig({ url: 'https://127.0.0.1:18443' }), { url: 'https://127.0.0.1:18443/convert/things.example.com' });
  });
  it('refuses two versions exported without defineVersions in one line that says how to fix it', async () => {
    await assert.rejects(crdCommand([file('loose.ts', `${v1}\n${v2}`)]), (e: unknown) => e instanceof CliError && e.exitCode === 2 && /group them with defineVersions/.test(e.message));
  });
  it('refuses a rule that is not valid CEL, naming where it is', async () => {
    const path = file('syntax.ts', "export const R = defineResource({ group: 'example.com', version: 'v1', kind: 'Range', spec: withRules(Type.Object({ min: Type.Integer() }), [{ rule: 'self.min <=' }]) });");
    await assert.rejects(
      crdCommand([path]),
      (e: unknown) => e instanceof CliError && e.exitCode === 2 && e.message.startsWith('Range.v1.openAPIV3Schema.properties.spec.x-kubernetes-validations[0].rule: "self.min <=" is not valid CEL'),
    );
  });
  it('accepts CEL with optional syntax and messageExpression, as the API server does', async () => {
    const path = file('optional.ts', "export const R = defineResource({ group: 'example.com', version: 'v1', kind: 'Range', spec: withRules(Type.Object({ min: Type.Optional(Type.Integer()) }), [{ rule: 'self.?min.orValue(0) >= 0', messageExpression: \"'min is ' + string(self.min)\" }]) });");
    assert.match(await crdCommand([path]), /orValue/);
  });
  it('is the only importer of the CEL parser, and operon run never imports it', () => {
    const src = new URL('../../../src/', import.meta.url);
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const importers = (needle: RegExp): string[] => files.filter((f) => needle.test(readFileSync(new URL(f, src), 'utf8'))).sort();
    assert.deepEqual(importers(/from '@marcbachmann\/cel-js'|import\('@marcbachmann\/cel-js'\)/), ['cli/cel-syntax.ts']);
    assert.deepEqual(importers(/cel-syntax\.ts'/), ['cli/crd.ts']);
    // Nothing imports crd.ts statically; the command table loads it only for the crd command.
    assert.deepEqual(importers(/^import [^;]*from '\.\/crd\.ts'/m), []);
    assert.match(readFileSync(new URL('cli/args.ts', src), 'utf8'), /name: 'crd',[^]*?await import\('\.\/crd\.ts'\)/);
  });
});
