import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { crdCommand } from '../../../src/cli/crd.ts';
import { CliError } from '../../../src/cli/load.ts';

const index = new URL('../../../src/index.ts', import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), 'operon-crd-'));
const file = (name: string, body: string): string => {
  const path = join(dir, name);
  writeFileSync(path, `import { conversion, defineResource, defineVersions, Type } from ${JSON.stringify(index)};\n${body}`);
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
  it('refuses two versions exported without defineVersions in one line that says how to fix it', async () => {
    await assert.rejects(crdCommand([file('loose.ts', `${v1}\n${v2}`)]), (e: unknown) => e instanceof CliError && e.exitCode === 2 && /group them with defineVersions/.test(e.message));
  });
});
