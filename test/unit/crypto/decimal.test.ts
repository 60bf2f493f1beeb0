import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coinValue, Decimal, DecimalError, formatChange, formatUsd, valueChange } from '../../../operators/crypto/price/decimal.ts';
import { JsonNumber, JsonSyntaxError, parseJsonExact } from '../../../operators/crypto/price/json.ts';
import { SAMPLE_PRICES } from '../../../operators/crypto/price/server.ts';

const d = (text: string | number): Decimal => Decimal.parse(text);

function refuses(input: string | number, kind: DecimalError['kind']): void {
  assert.throws(() => Decimal.parse(input), (err: unknown) => err instanceof DecimalError && err.kind === kind, `${String(input).slice(0, 30)} should be refused as ${kind}`);
}

describe('decimal: the design document', () => {
  it('reproduces `bitcoin-stash 0.0023 $94.8106` and `lump-of-ethereum 1.47 $4550.7672` from the sample prices', () => {
    assert.equal(SAMPLE_PRICES['bitcoin'], '41222');
    assert.equal(SAMPLE_PRICES['ethereum'], '3095.76');
    const btc = coinValue(d('0.0023'), d(SAMPLE_PRICES['bitcoin'] ?? ''));
    const eth = coinValue(d('1.47'), d(SAMPLE_PRICES['ethereum'] ?? ''));
    assert.equal(btc.toString(), '94.8106');
    assert.equal(eth.toString(), '4550.7672');
    assert.equal(formatUsd(btc), '$94.8106');
    assert.equal(formatUsd(eth), '$4550.7672');
  });

  it('gives the same digits when the amount arrives as a JS number (the CR after JSON.parse)', () => {
    assert.equal(formatUsd(coinValue(d(0.0023), d(41222))), '$94.8106');
    assert.equal(formatUsd(coinValue(d(1.47), d(3095.76))), '$4550.7672');
    // Where binary floats drift, the exact product does not.
    assert.equal(String(0.1 * 3), '0.30000000000000004');
    assert.equal(coinValue(d(0.1), d(3)).toString(), '0.3');
  });

  it('keeps full precision for status and trims only trailing zeros', () => {
    assert.equal(coinValue(d('0.0023'), d('41222.00')).toString(), '94.8106');
    assert.equal(coinValue(d('0.123456789'), d('41222.123456789')).toString(), '5089.150997736750190521');
    assert.equal(JSON.stringify({ value: d('94.8106') }), '{"value":"94.8106"}');
  });
});

describe('decimal: rounding', () => {
  it('rounds half-up, ties away from zero, by default', () => {
    assert.equal(d('94.81055').toFixed(4), '94.8106');
    assert.equal(d('94.810549999').toFixed(4), '94.8105');
    assert.equal(d('0.00005').toFixed(4), '0.0001');
    assert.equal(d('0.00015').toFixed(4), '0.0002');
    assert.equal(d('0.00025').toFixed(4), '0.0003');
    assert.equal(d('-0.00005').toFixed(4), '-0.0001');
    assert.equal(d('9.99995').toFixed(4), '10.0000');
    assert.equal(d('0.99995').round(4).toString(), '1');
  });

  it('rounds half to even when asked', () => {
    assert.equal(d('0.00005').toFixed(4, 'half-even'), '0.0000');
    assert.equal(d('0.00015').toFixed(4, 'half-even'), '0.0002');
    assert.equal(d('0.00025').toFixed(4, 'half-even'), '0.0002');
    assert.equal(d('0.000250001').toFixed(4, 'half-even'), '0.0003');
    assert.equal(d('-0.00035').toFixed(4, 'half-even'), '-0.0004');
  });

  it('pads to four decimals in the annotation form and never shows "-$0.0000"', () => {
    assert.equal(formatUsd(d('12')), '$12.0000');
    assert.equal(formatUsd(d('0')), '$0.0000');
    assert.equal(formatUsd(d('-1.5')), '-$1.5000');
    assert.equal(formatUsd(d('-0.00001')), '$0.0000');
  });

  it('divides to a fixed number of places and refuses zero divisors', () => {
    assert.equal(d('1').dividedBy(d('3'), 4).toString(), '0.3333');
    assert.equal(d('2').dividedBy(d('3'), 4).toString(), '0.6667');
    assert.equal(d('-2').dividedBy(d('3'), 4).toString(), '-0.6667');
    assert.equal(d('1').dividedBy(d('-8'), 2).toString(), '-0.13');
    assert.equal(d('1').dividedBy(d('-8'), 2, 'half-even').toString(), '-0.12');
    assert.throws(() => d('1').dividedBy(d('0'), 2), (e: unknown) => e instanceof DecimalError && e.kind === 'DivisionByZero');
  });
});

describe('decimal: tiny, huge and exponent notation', () => {
  it('handles shiba-inu sized prices without losing digits', () => {
    const price = d('0.00002371');
    assert.equal(coinValue(d('1000000'), price).toString(), '23.71');
    assert.equal(formatUsd(coinValue(d('1'), price)), '$0.0000');
    assert.equal(coinValue(d('3'), price).toString(), '0.00007113');
    assert.equal(formatUsd(coinValue(d('3'), price)), '$0.0001');
  });

  it('reads exponent notation into plain text', () => {
    assert.equal(d('1E3').toString(), '1000');
    assert.equal(d('1e+2').toString(), '100');
    assert.equal(d('2.5e-7').toString(), '0.00000025');
    assert.equal(d('-1.5e-3').toString(), '-0.0015');
    assert.equal(d('4.1222e4').toString(), '41222');
    assert.equal(d(2.371e-5).toString(), '0.00002371');
    assert.equal(d(1e21).toString(), '1000000000000000000000');
  });

  it('accepts the whole double range: 1e308, the largest double, the smallest subnormal', () => {
    assert.equal(d('1e308').toString(), `1${'0'.repeat(308)}`);
    assert.equal(d(Number.MAX_VALUE).toString().length, 309);
    assert.equal(d('5e-324').toString(), `0.${'0'.repeat(323)}5`);
    assert.equal(d('4.9406564584124654e-324').scale, 340);
    assert.equal(coinValue(d('1e308'), d('41222')).toString(), `41222${'0'.repeat(308)}`);
  });

  it('treats zero with any exponent as zero', () => {
    assert.equal(d('0e999999999').toString(), '0');
    assert.equal(d('-0.000').toString(), '0');
  });

  it('refuses absurd magnitudes with a typed error instead of building a huge string', () => {
    refuses('1e1000000', 'OutOfRange');
    refuses('1e401', 'OutOfRange');
    refuses('1e-401', 'OutOfRange');
    refuses('1e999999999999999999', 'OutOfRange');
    refuses('1'.repeat(1001), 'OutOfRange');
    refuses(`0.${'1'.repeat(500)}`, 'OutOfRange');
  });

  it('refuses text that is not a JSON number', () => {
    for (const bad of ['', 'x', '01', '1.', '.5', '+1', '1e', '0x10', 'NaN', '1,5', '1 2', '--1']) refuses(bad, 'Syntax');
    refuses(Number.POSITIVE_INFINITY, 'Syntax');
    refuses(Number.NaN, 'Syntax');
    const err = (() => {
      try {
        Decimal.parse('abc');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof DecimalError && err.hint.length > 0);
  });
});

describe('decimal: change since the previous value', () => {
  it('reports absolute and percent change with direction', () => {
    const up = valueChange(d('94.8106'), d('99.5511'));
    assert.equal(up.absolute.toString(), '4.7405');
    assert.equal(up.percent?.toString(), '5');
    assert.equal(up.direction, 'up');
    assert.equal(formatChange(up), '+$4.7405 (+5.00%)');

    const down = valueChange(d('2'), d('1'));
    assert.equal(down.direction, 'down');
    assert.equal(formatChange(down), '-$1.0000 (-50.00%)');

    const same = valueChange(d('4550.7672'), d('4550.7672'));
    assert.equal(same.direction, 'unchanged');
    assert.equal(formatChange(same), '$0.0000 (0.00%)');
  });

  it('rounds the percentage to two places but keeps the absolute change exact', () => {
    const c = valueChange(d('94.8106'), d('94.8107'));
    assert.equal(c.absolute.toString(), '0.0001');
    assert.equal(c.percent?.toFixed(2), '0.00');
    assert.equal(valueChange(d('3'), d('4')).percent?.toString(), '33.33');
    assert.equal(valueChange(d('3'), d('4'), 4).percent?.toString(), '33.3333');
    assert.equal(valueChange(d('-2'), d('-1')).percent?.toString(), '50');
  });

  it('has no percentage from zero', () => {
    const c = valueChange(d('0'), d('5'));
    assert.equal(c.percent, undefined);
    assert.equal(formatChange(c), '+$5.0000');
  });
});

describe('exact JSON reader', () => {
  it('keeps number text as sent', () => {
    const body = parseJsonExact('{"bitcoin":{"usd":41222.00,"usd_24h_change":-1.5e-3,"last_updated_at":1711356300},"x":[true,false,null,"s"]}');
    assert.deepEqual(body, {
      bitcoin: { usd: new JsonNumber('41222.00'), usd_24h_change: new JsonNumber('-1.5e-3'), last_updated_at: new JsonNumber('1711356300') },
      x: [true, false, null, 's'],
    });
  });

  it('reads escapes and keeps "__proto__" as data', () => {
    const body = parseJsonExact('{"a\\n\\u00e9\\"":"\\\\\\/","__proto__":{"polluted":true}}') as Record<string, unknown>;
    assert.equal(body['a\né"'], '\\/');
    assert.ok(Object.hasOwn(body, '__proto__'));
    assert.equal(Object.getPrototypeOf(body), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('refuses what JSON refuses, with an offset', () => {
    for (const bad of ['', '{', '{"a":1,}', '[1,]', '01', '{"a":1} x', "{'a':1}", '{"a":NaN}', '"\u0001"', 'tru', '{"a" 1}', '1.', '-']) {
      assert.throws(() => parseJsonExact(bad), JsonSyntaxError, bad);
    }
  });

  it('refuses nesting deeper than the limit', () => {
    assert.throws(() => parseJsonExact('['.repeat(100) + ']'.repeat(100)), /nesting deeper than 64/);
    assert.deepEqual(parseJsonExact('[[[]]]', { maxDepth: 3 }), [[[]]]);
  });
});
