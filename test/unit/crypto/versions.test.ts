/**
 * CVC v1 (amount a JSON number) and v2 (amount an exact decimal string): conversions both ways,
 * lossless round trips, the design document's objects unchanged, and every digit of a v2 amount
 * reaching the valuation.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import type { KubeObject } from '../../../src/client/types.ts';
import { convertObject, convertReview } from '../../../src/schema/conversion.ts';
import { toCrd } from '../../../src/manifests/crd.ts';
import { Decimal } from '../../../operators/crypto/price/index.ts';
import { CryptoValueCalculators, exactAmount } from '../../../operators/crypto/resource.ts';
import { parseSpec, valuate } from '../../../operators/crypto/valuation.ts';

const V1 = 'crypto.tools/v1';
const V2 = 'crypto.tools/v2';
const meta = { name: 'bitcoin-stash', namespace: 'default', uid: 'u', generation: 1 };
const v1 = (amount: number, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: V1, kind: 'CryptoValueCalculator', metadata: meta, spec: { coin: 'bitcoin', amount, ...extra } });
const v2 = (amount: string): KubeObject => ({ apiVersion: V2, kind: 'CryptoValueCalculator', metadata: meta, spec: { coin: 'bitcoin', amount } });

describe('CryptoValueCalculator v1 ⇄ v2', () => {
  it('v1 → v2 writes the shortest decimal that reads back as the number, never an exponent', () => {
    for (const [n, text] of [[0.0023, '0.0023'], [1.47, '1.47'], [1e-7, '0.0000001'], [1e21, '1000000000000000000000'], [0, '0'], [0.1 + 0.2, '0.30000000000000004']] as const) {
      assert.equal((convertObject(CryptoValueCalculators, v1(n), V2).spec as { amount: string }).amount, text);
    }
  });
  it('v2 → v1 → v2 gives back every digit, through crypto.tools/conversion-data', () => {
    for (const text of ['0.0023', '0.00230000000000000000001', '1.0', '123456789012345678901234567890.5', '0']) {
      const stored = convertObject(CryptoValueCalculators, v2(text), V1);
      assert.equal(typeof (stored.spec as { amount: unknown }).amount, 'number');
      assert.deepEqual(convertObject(CryptoValueCalculators, stored, V2), v2(text));
    }
  });
  it('v1 → v2 → v1 is byte-identical, unknown spec fields included', () => {
    for (const object of [v1(0.0023), v1(Number.MAX_VALUE), v1(Number.MIN_VALUE), v1(3, { note: 'kept' })]) {
      assert.equal(JSON.stringify(convertObject(CryptoValueCalculators, convertObject(CryptoValueCalculators, object, V2), V1)), JSON.stringify(object));
    }
  });
  it("the design document's v1 object converts without any annotation", () => {
    const seed = YAML.parse(readFileSync(new URL('../../../operators/crypto/examples/bitcoin.yaml', import.meta.url), 'utf8')) as KubeObject;
    const reply = convertReview(CryptoValueCalculators, { apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', request: { uid: '1', desiredAPIVersion: V2, objects: [seed] } });
    assert.equal(reply.response?.result.status, 'Success');
    assert.deepEqual(reply.response?.convertedObjects[0]?.spec, { coin: 'bitcoin', amount: '0.0023' });
    assert.equal(reply.response?.convertedObjects[0]?.metadata?.annotations, undefined);
  });
  it('the valuation carries every digit of a v2 amount stored as v1', () => {
    const stored = convertObject(CryptoValueCalculators, v2('0.00230000000000000000001'), V1) as Parameters<typeof exactAmount>[0] & KubeObject;
    const amount = exactAmount(stored);
    assert.equal(amount, '0.00230000000000000000001');
    const parsed = parseSpec({ coin: 'bitcoin', amount });
    assert.ok(parsed.ok);
    const price = Decimal.parse('100000');
    const result = valuate({ metadata: { name: 'x', namespace: 'ns', generation: 1 }, spec: { coin: 'bitcoin', amount } }, parsed, {
      state: 'fresh', coin: 'bitcoin', price: { coin: 'bitcoin', price, change24hPercent: undefined, updatedAt: undefined }, fetchedAt: 0, ageMs: 0,
    }, { now: 0, refreshMs: 60_000 });
    assert.equal(result.kind === 'unchanged' ? undefined : result.status.exactValue, '230.000000000000000001');
  });
  it('an amount edited in v1 wins over the kept v2 text', () => {
    const stored = convertObject(CryptoValueCalculators, v2('0.00230000000000000000001'), V1);
    assert.equal(exactAmount({ ...stored, spec: { coin: 'bitcoin', amount: 5 } } as Parameters<typeof exactAmount>[0]), 5);
  });
  it('serves the same columns in both versions, v1 stored, v2 with a Webhook conversion', () => {
    const crd = toCrd(CryptoValueCalculators);
    const [a, b] = crd.spec.versions;
    assert.deepEqual(a?.additionalPrinterColumns?.map((c) => [c.name, c.jsonPath]), b?.additionalPrinterColumns?.map((c) => [c.name, c.jsonPath]));
    assert.deepEqual([a?.name, a?.storage, b?.name, b?.storage], ['v1', true, 'v2', false]);
    assert.equal(crd.spec.conversion?.strategy, 'Webhook');
  });
});
