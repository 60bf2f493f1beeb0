/**
 * The CVC's valuation as a pure function: the document's numbers, change since the previous
 * value, no write when nothing changed, stale and missing prices, and absurd amounts.
 */
import '../../support/source.ts'; // fails fast without the operon-source condition
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cryptoConfig } from '../../../operators/crypto/config.ts';
import { Decimal, type PriceReading } from '../../../operators/crypto/price/index.ts';
import { ageStep, formatDuration, parseSpec, valuate, type ValuedObject } from '../../../operators/crypto/valuation.ts';

const NOW = Date.parse('2025-03-01T12:00:00Z');
const options = { now: NOW, refreshMs: 60_000 };

function fresh(coin: string, price: string, ageMs = 5_000): PriceReading {
  return { state: 'fresh', coin, price: { coin, price: Decimal.parse(price), change24hPercent: undefined, updatedAt: undefined }, fetchedAt: NOW - ageMs, ageMs };
}

function cvc(spec: Record<string, unknown>, generation = 1, status?: ValuedObject['status'], annotations?: Record<string, string>): ValuedObject {
  return { metadata: { name: 'stash', namespace: 'ns', generation, ...(annotations ? { annotations } : {}) }, spec, ...(status ? { status } : {}) };
}

/** Applies a valuation's writes to the object, as the API server would. */
function applied(object: ValuedObject, spec: Record<string, unknown>, reading: PriceReading | undefined, now = NOW): ValuedObject {
  const v = valuate(object, parseSpec(spec), reading, { ...options, now });
  if (v.kind === 'unchanged') return object;
  const annotations = { ...object.metadata.annotations };
  for (const [k, value] of Object.entries(v.annotations)) if (value === null) delete annotations[k];
  else annotations[k] = value;
  const status: Record<string, unknown> = { ...object.status };
  for (const [k, value] of Object.entries(v.status)) if (value === null) delete status[k];
  else status[k] = value;
  return { ...object, metadata: { ...object.metadata, annotations }, status };
}

describe('valuate', () => {
  it("shows the design document's values: $94.8106 and $4550.7672, every digit too, in one status write", () => {
    const spec = { coin: 'bitcoin', amount: 0.0023 };
    const v = valuate(cvc(spec), parseSpec(spec), fresh('bitcoin', '41222'), options);
    assert.equal(v.kind, 'write');
    assert.deepEqual(v.kind === 'write' && v.annotations, {}, 'nothing but the status is written');
    const btc = applied(cvc(spec), spec, fresh('bitcoin', '41222'));
    assert.equal(btc.status?.value, '$94.8106');
    assert.equal(btc.status?.exactValue, '94.8106');
    assert.equal(btc.status?.price, '41222');
    assert.equal(btc.status?.observedGeneration, 1);
    assert.equal(btc.status?.change, undefined, 'a first value has no change');
    const eth = applied(cvc({ coin: 'ethereum', amount: 1.47 }), { coin: 'ethereum', amount: 1.47 }, fresh('ethereum', '3095.76'));
    assert.equal(eth.status?.value, '$4550.7672');
    const shib = applied(cvc({ coin: 'shiba-inu', amount: 3 }), { coin: 'shiba-inu', amount: 3 }, fresh('shiba-inu', '0.00002371'));
    assert.equal(shib.status?.exactValue, '0.00007113');
    assert.equal(shib.status?.value, '$0.0001');
    assert.deepEqual(
      (btc.status?.conditions ?? []).map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'True', 'ValueComputed'],
        ['PriceStale', 'False', 'PriceFresh'],
        ['PriceMissing', 'False', 'CoinListed'],
      ],
    );
  });

  it('asks for no write when the price and spec are the same', () => {
    const spec = { coin: 'bitcoin', amount: 0.0023 };
    const once = applied(cvc(spec), spec, fresh('bitcoin', '41222'));
    assert.deepEqual(valuate(once, parseSpec(spec), fresh('bitcoin', '41222', 1_000), { ...options, now: NOW + 60_000 }), { kind: 'unchanged' });
    // Amount 0: the price moves, the value does not; still nothing to write.
    const zero = applied(cvc({ coin: 'bitcoin', amount: 0 }), { coin: 'bitcoin', amount: 0 }, fresh('bitcoin', '41222'));
    assert.deepEqual(valuate(zero, parseSpec({ coin: 'bitcoin', amount: 0 }), fresh('bitcoin', '50000'), options), { kind: 'unchanged' });
  });

  it('records the change when the price moves, and starts afresh when the spec changes', () => {
    const spec = { coin: 'bitcoin', amount: 0.0023 };
    const first = applied(cvc(spec), spec, fresh('bitcoin', '41222'));
    const moved = applied(first, spec, fresh('bitcoin', '43283.1'), NOW + 60_000);
    assert.equal(moved.status?.value, '$99.5511');
    assert.equal(moved.status?.change, '+$4.7405 (+5.00%)');
    assert.deepEqual(moved.status?.exactChange, { absolute: '4.74053', percent: '5' });
    assert.equal(moved.status?.lastUpdated, '2025-03-01T12:01:00Z');
    const edited = applied({ ...moved, metadata: { ...moved.metadata, generation: 2 } }, { coin: 'bitcoin', amount: 1 }, fresh('bitcoin', '43283.1'));
    assert.equal(edited.status?.value, '$43283.1000');
    assert.equal(edited.status?.change, undefined);
    assert.equal(edited.status?.exactChange, undefined);
    assert.equal(edited.status?.observedGeneration, 2);
  });

  it('keeps the last value through an outage with PriceStale, its age in doubling steps, and one problem', () => {
    const spec = { coin: 'bitcoin', amount: 0.0023 };
    const ok = applied(cvc(spec), spec, fresh('bitcoin', '41222'));
    const failure = { kind: 'RateLimited' as const, retryAfterMs: undefined, status: 429, message: 'the price API answered 429 Too Many Requests.', hint: 'Reduce the refresh rate.' };
    // The same reading, seen later and later: its age grows, its fetch time stays.
    const stale = (ageMs: number): PriceReading => ({
      ...(fresh('bitcoin', '41222', 150_000) as Extract<PriceReading, { state: 'fresh' }>),
      ageMs,
      state: 'stale',
      reason: failure,
      retryAt: undefined,
    });
    const v = valuate(ok, parseSpec(spec), stale(150_000), options);
    assert.equal(v.kind, 'write');
    assert.equal(v.kind === 'write' && v.status['value'], undefined, 'the value stays');
    const after = applied(ok, spec, stale(150_000));
    const condition = after.status?.conditions?.find((c) => c.type === 'PriceStale');
    assert.equal(condition?.status, 'True');
    assert.equal(condition?.reason, 'RateLimited');
    assert.match(condition?.message ?? '', /fetched at 2025-03-01T11:57:30Z, over 2m old: .*429/);
    assert.deepEqual(v.kind === 'write' && v.problems.map((p) => p.reason), ['PriceStale']);
    // Older, but within the same step: no rewrite.
    assert.deepEqual(valuate(after, parseSpec(spec), stale(200_000), options), { kind: 'unchanged' });
    const later = valuate(after, parseSpec(spec), stale(250_000), options);
    assert.equal(later.kind, 'write');
    assert.deepEqual(later.kind === 'write' && later.problems, [], 'still stale: no new Event');
  });

  it('flags a coin the price API does not list, and an absurd amount, and removes a value computed for another spec', () => {
    const spec = { coin: 'dogecoin', amount: 10 };
    const missing = applied(cvc(spec), spec, { state: 'missing', coin: 'dogecoin', checkedAt: NOW });
    assert.deepEqual(
      missing.status?.conditions?.filter((c) => c.status !== 'False' || c.type === 'Ready').map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'False', 'PriceMissing'],
        ['PriceMissing', 'True', 'CoinNotListed'],
        ['PriceStale', 'True', 'CoinNotListed'],
      ],
    );
    const valued = applied(cvc({ coin: 'bitcoin', amount: 1 }), { coin: 'bitcoin', amount: 1 }, fresh('bitcoin', '41222'));
    const absurd = { coin: 'bitcoin', amount: 1e308 };
    const v = valuate({ ...valued, metadata: { ...valued.metadata, generation: 2 } }, parseSpec(absurd), undefined, options);
    assert.equal(v.kind, 'write');
    if (v.kind !== 'write') return;
    assert.equal(v.status['value'], null);
    assert.equal(v.status['exactValue'], null);
    const ready = (v.status['conditions'] as Array<{ type: string; status: string; reason: string; message: string }>).find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'InvalidAmount');
    assert.match(ready?.message ?? '', /spec\.amount 1e\+308 is more bitcoin than exists .*set spec\.amount to the number of coins held, from 0 to 1000000000000000/);
    assert.deepEqual(v.problems.map((p) => p.reason), ['InvalidAmount']);
  });

  it("removes the design document's annotations and revalues an object an earlier operator wrote", () => {
    const spec = { coin: 'bitcoin', amount: 0.0023 };
    // As the previous schema left it: the annotations, and the exact value in status.value.
    const earlier = cvc(spec, 1, { value: '94.8106', observedGeneration: 1 }, { value: '$94.8106', change: '+$1.0000 (+1.07%)', other: 'kept' });
    const v = valuate(earlier, parseSpec(spec), fresh('bitcoin', '41222'), options);
    assert.equal(v.kind, 'write');
    if (v.kind !== 'write') return;
    assert.deepEqual(v.annotations, { value: null, change: null });
    assert.equal(v.status['value'], '$94.8106');
    assert.equal(v.status['exactValue'], '94.8106');
    const after = applied(earlier, spec, fresh('bitcoin', '41222'));
    assert.deepEqual(after.metadata.annotations, { other: 'kept' });
    assert.deepEqual(valuate(after, parseSpec(spec), fresh('bitcoin', '41222'), options), { kind: 'unchanged' });
  });

  it('values amounts up to 1e15 and refuses larger ones, negative ones and unknown coins', () => {
    assert.equal(parseSpec({ coin: 'shiba-inu', amount: 1e15 }).ok, true);
    assert.equal(parseSpec({ coin: 'shiba-inu', amount: 1e15 + 1 }).ok, false);
    assert.equal(parseSpec({ coin: 'bitcoin', amount: -1 }).ok, false);
    assert.deepEqual(parseSpec({ coin: 'monero', amount: 1 }).ok, false);
    assert.equal(parseSpec({ coin: 'bitcoin' }).ok, false);
  });
});

describe('ageStep and formatDuration', () => {
  it('grows the shown age in doubling steps of the refresh interval', () => {
    assert.equal(ageStep(10_000, 60_000), 60_000);
    assert.equal(ageStep(119_999, 60_000), 60_000);
    assert.equal(ageStep(120_000, 60_000), 120_000);
    assert.equal(ageStep(3_900_000, 60_000), 3_840_000);
    assert.equal(formatDuration(3_840_000), '1h4m');
    assert.equal(formatDuration(4_000), '4s');
  });
});

describe('cryptoConfig', () => {
  it('defaults to 60 s and scales backoff and timeout down for short intervals', () => {
    assert.deepEqual(cryptoConfig({}), { refreshMs: 60_000, backoffInitialMs: 10_000, requestTimeoutMs: 10_000, apiKeySecret: undefined });
    assert.deepEqual(cryptoConfig({ CVC_REFRESH_SECONDS: '2' }), { refreshMs: 2_000, backoffInitialMs: 2_000, requestTimeoutMs: 1_000, apiKeySecret: undefined });
  });

  it('reads COINGECKO_API_KEY_SECRET as namespace/name/key', () => {
    assert.deepEqual(cryptoConfig({ COINGECKO_API_KEY_SECRET: 'crypto/coingecko/api-key' }).apiKeySecret, { namespace: 'crypto', name: 'coingecko', key: 'api-key' });
  });

  it('refuses bad values with the variable and an example', () => {
    assert.throws(() => cryptoConfig({ CVC_REFRESH_SECONDS: 'soon' }), /CVC_REFRESH_SECONDS="soon" .* e\.g\. CVC_REFRESH_SECONDS=60/);
    assert.throws(() => cryptoConfig({ CVC_REFRESH_SECONDS: '0' }), /from 1 to 86400/);
    assert.throws(() => cryptoConfig({ COINGECKO_API_KEY_SECRET: 'coingecko/api-key' }), /is not namespace\/name\/key/);
    assert.throws(() => cryptoConfig({ COINGECKO_API_KEY_SECRET: 'a/b/c', COINGECKO_API_KEY: 'k' }), /both set/);
  });
});
