/**
 * The shared price cache on a manual clock: single-flight, the refresh interval, backoff growth and
 * cap, stale prices through an outage and recovery. A scripted source stands in for the API where
 * the test must control when an answer arrives; the last tests use the real client and the local
 * server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/base/clock.ts';
import { PriceCache } from '../../../operators/crypto/price/cache.ts';
import type { PriceReading } from '../../../operators/crypto/price/cache.ts';
import { CoinGeckoClient } from '../../../operators/crypto/price/coingecko.ts';
import type { CoinPrice, PriceFailure, PriceFetch, PriceSource } from '../../../operators/crypto/price/coingecko.ts';
import { Decimal } from '../../../operators/crypto/price/decimal.ts';
import { CoinGeckoServer } from '../../../operators/crypto/price/server.ts';

type Answer = PriceFetch | 'hold';

/** A price source whose answers the test scripts; 'hold' keeps a request open until `release()`. */
class ScriptedSource implements PriceSource {
  readonly calls: string[][] = [];
  readonly prices = new Map<string, string>([
    ['bitcoin', '41222'],
    ['ethereum', '3095.76'],
  ]);
  readonly #script: Answer[] = [];
  #held: Array<() => void> = [];

  next(...answers: Answer[]): void {
    this.#script.push(...answers);
  }

  release(): void {
    const held = this.#held;
    this.#held = [];
    for (const r of held) r();
  }

  fetchPrices(coins: readonly string[], signal?: AbortSignal): Promise<PriceFetch> {
    this.calls.push([...coins]);
    const answer = this.#script.shift();
    const ok = (): PriceFetch => this.ok(coins);
    if (answer === 'hold') {
      return new Promise((resolve) => {
        this.#held.push(() => resolve(ok()));
        signal?.addEventListener('abort', () => resolve(fail('Aborted')), { once: true });
      });
    }
    return Promise.resolve(answer ?? ok());
  }

  ok(coins: readonly string[]): PriceFetch {
    const prices = new Map<string, CoinPrice>();
    const missing: string[] = [];
    for (const coin of coins) {
      const p = this.prices.get(coin);
      if (p === undefined) missing.push(coin);
      else prices.set(coin, { coin, price: Decimal.parse(p), change24hPercent: undefined, updatedAt: undefined });
    }
    return { kind: 'Prices', prices, missing };
  }
}

function fail(kind: PriceFailure['kind'], retryAfterMs?: number): PriceFailure {
  const base = { status: 0, message: kind, hint: '' };
  switch (kind) {
    case 'RateLimited':
      return { ...base, kind, status: 429, retryAfterMs };
    case 'Unauthorized':
    case 'Rejected':
      return { ...base, kind, errorCode: undefined };
    default:
      return { ...base, kind };
  }
}

function priceOf(r: PriceReading | undefined): string | undefined {
  return r?.state === 'fresh' || r?.state === 'stale' ? r.price.price.toString() : undefined;
}

function setup(options: { random?: () => number; refreshIntervalMs?: number } = {}): { clock: ManualClock; source: ScriptedSource; cache: PriceCache } {
  const clock = new ManualClock();
  const source = new ScriptedSource();
  // random() = 1 puts jitter at the top of [d/2, d], so delays are the nominal ones.
  const cache = new PriceCache({ source, clock, random: options.random ?? (() => 1), refreshIntervalMs: options.refreshIntervalMs });
  return { clock, source, cache };
}

describe('price cache: single-flight', () => {
  it('serves 20 concurrent callers from one request', async () => {
    const { source, cache } = setup();
    source.next('hold');
    const readers = Array.from({ length: 20 }, (_, i) => cache.get(i % 2 === 0 ? 'bitcoin' : 'ethereum'));
    await Promise.resolve();
    source.release();
    const readings = await Promise.all(readers);
    assert.equal(source.calls.length, 1);
    assert.deepEqual(source.calls[0], ['bitcoin', 'ethereum']);
    assert.ok(readings.every((r) => r.state === 'fresh'));
    assert.equal(priceOf(readings[0]), '41222');
    assert.equal(priceOf(readings[1]), '3095.76');
    assert.equal(cache.stats().requests, 1);
  });

  it('lets callers that arrive while the request is on the wire wait for it', async () => {
    const { clock, source, cache } = setup();
    source.next('hold');
    const first = cache.get('bitcoin');
    await clock.advance(0);
    const later = Array.from({ length: 19 }, () => cache.get('bitcoin'));
    source.release();
    await Promise.all([first, ...later]);
    assert.equal(source.calls.length, 1);
  });

  it('sends one follow-up, for all coins, when new coins are asked for during a request', async () => {
    const { clock, source, cache } = setup();
    source.prices.set('dogecoin', '0.1465');
    source.next('hold');
    const btc = cache.get('bitcoin');
    await clock.advance(0);
    const eth = cache.get('ethereum');
    const doge = cache.get('dogecoin');
    source.release();
    const readings = await Promise.all([btc, eth, doge]);
    assert.deepEqual(source.calls, [['bitcoin'], ['bitcoin', 'dogecoin', 'ethereum']]);
    assert.deepEqual(readings.map(priceOf), ['41222', '3095.76', '0.1465']);
  });
});

describe('price cache: refresh interval', () => {
  it('serves a price younger than the interval without a request', async () => {
    const { clock, source, cache } = setup();
    await cache.get('bitcoin');
    await clock.advance(59_999);
    const r = await cache.get('bitcoin');
    assert.equal(r.state, 'fresh');
    assert.equal(r.state === 'fresh' ? r.ageMs : -1, 59_999);
    assert.equal(source.calls.length, 1);
    await clock.advance(1);
    source.prices.set('bitcoin', '41300.5');
    assert.equal(priceOf(await cache.get('bitcoin')), '41300.5');
    assert.equal(source.calls.length, 2);
  });

  it('polls every interval in the background once started, and honours a configured interval', async () => {
    const { clock, source, cache } = setup({ refreshIntervalMs: 20_000 });
    cache.track(['bitcoin', 'ethereum']);
    cache.start();
    await clock.advance(0);
    assert.equal(source.calls.length, 1);
    await clock.advance(19_999);
    assert.equal(source.calls.length, 1);
    await clock.advance(1);
    assert.equal(source.calls.length, 2);
    await clock.advance(40_000);
    assert.equal(source.calls.length, 4);
    // Readers between polls never wait for the API.
    assert.equal((await cache.get('ethereum')).state, 'fresh');
    assert.equal(source.calls.length, 4);
    cache.stop();
    await clock.advance(100_000);
    assert.equal(source.calls.length, 4);
    assert.equal(clock.pending, 0);
  });

  it('reports a coin the API does not know as missing, without failing the others', async () => {
    const { source, cache } = setup();
    const all = await cache.getMany(['bitcoin', 'no-such-coin']);
    assert.equal(all.get('bitcoin')?.state, 'fresh');
    assert.equal(all.get('no-such-coin')?.state, 'missing');
    assert.equal(cache.stats().missingCoins, 1);
    assert.equal(source.calls.length, 1);
  });
});

describe('price cache: backoff', () => {
  it('grows the delay exponentially on repeated errors and caps it at 5 minutes', async () => {
    const { clock, source, cache } = setup();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      source.next(fail(i % 2 === 0 ? 'ServerError' : 'Timeout'));
      await cache.get('bitcoin');
      const retryAt = cache.stats().retryAt ?? 0;
      delays.push(retryAt - clock.now());
      // Nothing goes out before the retry time, however often readers ask.
      await clock.advance(retryAt - clock.now() - 1);
      const r = await cache.get('bitcoin');
      assert.equal(r.state, 'unavailable');
      assert.equal(source.calls.length, i + 1);
      await clock.advance(1);
    }
    assert.deepEqual(delays, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    const stats = cache.stats();
    assert.equal(stats.consecutiveFailures, 8);
    assert.deepEqual([stats.failures.ServerError, stats.failures.Timeout, stats.requests, stats.successes], [4, 4, 8, 0]);
  });

  it('jitters each delay within [d/2, d]', async () => {
    const { clock, source, cache } = setup({ random: () => 0 });
    source.next(fail('ServerError'), fail('ServerError'));
    await cache.get('bitcoin');
    assert.equal((cache.stats().retryAt ?? 0) - clock.now(), 5_000);
    await clock.advance(5_000);
    await cache.get('bitcoin');
    assert.equal((cache.stats().retryAt ?? 0) - clock.now(), 10_000);
  });

  it('waits at least as long as Retry-After, but no longer than the cap', async () => {
    const { clock, source, cache } = setup();
    source.next(fail('RateLimited', 45_000));
    await cache.get('bitcoin');
    assert.equal((cache.stats().retryAt ?? 0) - clock.now(), 45_000);
    await clock.advance(45_000);
    source.next(fail('RateLimited', 3_600_000));
    await cache.get('bitcoin');
    assert.equal((cache.stats().retryAt ?? 0) - clock.now(), 300_000);
    assert.equal(cache.stats().failures.RateLimited, 2);
  });

  it('keeps the last good price through an outage, stale with its age, and recovers afterwards', async () => {
    const { clock, source, cache } = setup();
    cache.track(['bitcoin']);
    cache.start();
    await clock.advance(0);
    assert.equal((await cache.get('bitcoin')).state, 'fresh');

    source.next(fail('ServerError'), fail('RateLimited'), fail('Timeout'));
    await clock.advance(60_000); // poll fails: backoff 10 s
    let r = await cache.get('bitcoin');
    assert.equal(r.state, 'stale');
    if (r.state === 'stale') {
      assert.equal(r.price.price.toString(), '41222');
      assert.equal(r.ageMs, 60_000);
      assert.equal(r.reason?.kind, 'ServerError');
      assert.equal(r.retryAt, clock.now() + 10_000);
    }
    await clock.advance(10_000); // fails again: 20 s
    await clock.advance(20_000); // and again: 40 s
    assert.equal(source.calls.length, 4);
    r = await cache.get('bitcoin');
    assert.equal(r.state === 'stale' ? r.ageMs : -1, 90_000);
    assert.equal(r.state === 'stale' ? r.reason?.kind : '', 'Timeout');

    source.prices.set('bitcoin', '40000.01');
    await clock.advance(40_000); // recovery
    assert.equal(source.calls.length, 5);
    r = await cache.get('bitcoin');
    assert.equal(r.state, 'fresh');
    assert.equal(priceOf(r), '40000.01');
    assert.equal(cache.stats().consecutiveFailures, 0);
    assert.equal(cache.stats().retryAt, undefined);
    // And the normal interval resumes.
    await clock.advance(60_000);
    assert.equal(source.calls.length, 6);
    cache.stop();
  });

  it('reports a price older than staleAfter as stale even without a failure', async () => {
    const { clock, cache } = setup();
    await cache.get('bitcoin');
    await clock.advance(120_000);
    assert.equal(cache.peek('bitcoin').state, 'stale');
  });

  it('does not back off when it aborts its own request on stop()', async () => {
    const { clock, source, cache } = setup();
    source.next('hold');
    cache.track(['bitcoin']);
    cache.start();
    await clock.advance(0);
    cache.stop();
    await clock.advance(0);
    assert.equal(cache.stats().failures.Aborted, 1);
    assert.equal(cache.stats().retryAt, undefined);
    assert.equal((await cache.get('bitcoin')).state, 'fresh');
    assert.equal(source.calls.length, 2);
  });
});

describe('price cache with the real client and the local server', () => {
  it('costs one request per refresh for 50 CVCs', async (t) => {
    const server = await CoinGeckoServer.start();
    const client = new CoinGeckoClient({ baseUrl: server.baseUrl });
    t.after(async () => {
      client.close();
      await server.close();
    });
    const clock = new ManualClock();
    const cache = new PriceCache({ source: client, clock });
    const coins = ['bitcoin', 'ethereum', 'dogecoin', 'shiba-inu'];
    const cvcs = Array.from({ length: 50 }, (_, i) => coins[i % coins.length] ?? 'bitcoin');
    const round = (): Promise<PriceReading[]> => Promise.all(cvcs.map((coin) => cache.get(coin)));

    const first = await round();
    assert.equal(server.priceRequestCount, 1);
    assert.equal(server.requests[0]?.query['ids'], 'bitcoin,dogecoin,ethereum,shiba-inu');
    assert.equal(priceOf(first[0]), '41222');
    await clock.advance(30_000);
    await round();
    assert.equal(server.priceRequestCount, 1);
    await clock.advance(30_000);
    server.setPrice('ethereum', '3100');
    const third = await round();
    assert.equal(server.priceRequestCount, 2);
    assert.equal(priceOf(third[1]), '3100');
  });

  it('keeps prices through a real 429 with Retry-After and recovers', async (t) => {
    const server = await CoinGeckoServer.start();
    const client = new CoinGeckoClient({ baseUrl: server.baseUrl });
    t.after(async () => {
      client.close();
      await server.close();
    });
    const clock = new ManualClock();
    const cache = new PriceCache({ source: client, clock, random: () => 1 });
    await cache.get('bitcoin');
    await clock.advance(60_000);
    server.failNext({ kind: 'RateLimited', retryAfterSeconds: 90 });
    const during = await cache.get('bitcoin');
    assert.equal(during.state, 'stale');
    assert.equal(during.state === 'stale' ? during.reason?.kind : '', 'RateLimited');
    assert.equal((cache.stats().retryAt ?? 0) - clock.now(), 90_000);
    await clock.advance(90_000);
    assert.equal((await cache.get('bitcoin')).state, 'fresh');
    assert.equal(server.priceRequestCount, 3);
  });
});
