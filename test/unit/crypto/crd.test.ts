/**
 * The checked-in `operators/crypto/crd.yaml` is exactly what `operon crd` generates from the
 * declaration, and it keeps the design document's CRD: group, names, the coin enum, required
 * fields, unknown fields kept, and the Coin/Amount/Value columns (plus Change). When the first test
 * fails after a change to `resource.ts`, regenerate:
 *
 *     node -C operon-source src/cli/main.ts crd operators/crypto/resource.ts > operators/crypto/crd.yaml
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { crdToYaml, toCrd } from '../../../src/index.ts';
import { CryptoValueCalculators } from '../../../operators/crypto/resource.ts';
import { FROM_SOURCE } from '../../support/source.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const checkedIn = readFileSync(`${root}operators/crypto/crd.yaml`, 'utf8');

describe('operators/crypto/crd.yaml', () => {
  it('is byte for byte what `operon crd operators/crypto/resource.ts` prints (regenerate when this fails)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [...FROM_SOURCE, `${root}src/cli/main.ts`, 'crd', `${root}operators/crypto/resource.ts`]);
    assert.equal(checkedIn, stdout, 'crd.yaml is stale: run `node -C operon-source src/cli/main.ts crd operators/crypto/resource.ts > operators/crypto/crd.yaml`');
    assert.equal(checkedIn, crdToYaml(toCrd(CryptoValueCalculators)));
  });

  it("keeps the design document's names, scope, fields and columns", () => {
    const crd = YAML.parse(checkedIn);
    assert.equal(crd.metadata.name, 'cryptovaluecalculators.crypto.tools');
    assert.equal(crd.spec.group, 'crypto.tools');
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.deepEqual(crd.spec.names, {
      kind: 'CryptoValueCalculator',
      listKind: 'CryptoValueCalculatorList',
      plural: 'cryptovaluecalculators',
      singular: 'cryptovaluecalculator',
      shortNames: ['cvc', 'cvcs'],
    });
    const [v1] = crd.spec.versions;
    assert.equal(v1.name, 'v1');
    assert.equal(v1.served, true);
    assert.equal(v1.storage, true);
    const schema = v1.schema.openAPIV3Schema;
    assert.deepEqual(schema.required, ['spec']);
    const spec = schema.properties.spec;
    assert.equal(spec['x-kubernetes-preserve-unknown-fields'], true);
    assert.deepEqual(spec.required, ['coin', 'amount']);
    assert.deepEqual(spec.properties.coin.enum, ['bitcoin', 'ethereum', 'dogecoin', 'shiba-inu']);
    assert.equal(spec.properties.coin.type, 'string');
    assert.equal(spec.properties.amount.type, 'number');
    assert.equal(spec.properties.amount.minimum, 0);
    assert.equal(spec.properties.amount.maximum, undefined, 'amounts the original CRD accepted still load; the operator flags absurd ones');
    assert.equal(schema.properties.status['x-kubernetes-preserve-unknown-fields'], true);
    assert.deepEqual(v1.subresources, { status: {} });
    assert.deepEqual(
      v1.additionalPrinterColumns.map((c: { name: string; type: string; jsonPath: string }) => [c.name, c.type, c.jsonPath]),
      [
        ['Coin', 'string', '.spec.coin'],
        ['Amount', 'number', '.spec.amount'],
        ['Value', 'string', '.status.value'],
        ['Change', 'string', '.status.change'],
        ['Paused', 'string', '.metadata.annotations.operon\\.dev/paused'],
      ],
    );
  });

  it('declares the status fields the operator writes', () => {
    const status = YAML.parse(checkedIn).spec.versions[0].schema.openAPIV3Schema.properties.status.properties;
    for (const field of ['value', 'change', 'exactValue', 'exactChange', 'price', 'priceTime', 'lastUpdated', 'observedGeneration', 'conditions']) assert.ok(status[field], field);
    assert.equal(status.change.type, 'string');
    assert.deepEqual(Object.keys(status.exactChange.properties), ['absolute', 'percent']);
  });
});
