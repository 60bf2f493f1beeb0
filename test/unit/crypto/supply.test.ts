import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSupply, supplyRefusal } from '../../../operators/crypto/supply.ts';
import type { AdmissionContext } from '../../../src/index.ts';

describe('supplyRefusal', () => {
  const rows: Array<[string, { coin?: unknown; amount?: unknown }, RegExp | undefined]> = [
    ['the whole supply fits', { coin: 'bitcoin', amount: 21_000_000 }, undefined],
    ['one satoshi past it is refused, naming the limit', { coin: 'bitcoin', amount: 21_000_000.00000001 }, /more than the supply of bitcoin \(21000000 coins can exist\); set an amount from 0 to 21000000/],
    ['shiba-inu up to a quadrillion', { coin: 'shiba-inu', amount: 1e15 }, undefined],
    ['shiba-inu past a quadrillion', { coin: 'shiba-inu', amount: 2e15 }, /supply of shiba-inu \(1000000000000000/],
    ['an exact decimal string', { coin: 'ethereum', amount: '150000000.000000000000000001' }, /supply of ethereum/],
    ['an unknown coin is left to the schema', { coin: 'gold', amount: 1e30 }, undefined],
    ['a non-number is left to the schema', { coin: 'bitcoin', amount: 'lots' }, undefined],
  ];
  for (const [name, spec, expected] of rows) {
    it(name, () => {
      const refusal = supplyRefusal(spec);
      if (expected) assert.match(refusal ?? '', expected);
      else assert.equal(refusal, undefined);
    });
  }
});

describe('checkSupply', () => {
  const context = (operation: 'CREATE' | 'UPDATE', amount: number, oldAmount?: number): AdmissionContext<never> =>
    ({
      operation,
      object: { spec: { coin: 'bitcoin', amount } },
      oldObject: oldAmount === undefined ? null : { spec: { coin: 'bitcoin', amount: oldAmount } },
    }) as unknown as AdmissionContext<never>;

  it('lets an update that keeps coin and amount through, so stored objects stay editable', () => {
    assert.equal(checkSupply(context('UPDATE', 30_000_000, 30_000_000)), undefined);
  });
  it('refuses an update that changes the amount past the supply', () => {
    assert.match(checkSupply(context('UPDATE', 40_000_000, 30_000_000)) ?? '', /supply of bitcoin/);
  });
  it('refuses a create past the supply', () => {
    assert.match(checkSupply(context('CREATE', 30_000_000)) ?? '', /supply of bitcoin/);
  });
});

describe('the CVC operator', () => {
  it('registers checkSupply as its validating webhook "supply"', async () => {
    const { default: operator } = await import('../../../operators/crypto/operator.ts');
    const { CryptoValueCalculator } = await import('../../../operators/crypto/resource.ts');
    const registry = await operator.build();
    assert.deepEqual(registry.for(CryptoValueCalculator).admission.map((a) => [a.type, a.id, a.fn]), [['validate', 'supply', checkSupply]]);
  });
});
