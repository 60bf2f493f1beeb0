/**
 * The real client against the local CoinGecko over loopback HTTP: each server behaviour or fault
 * must come back as its typed outcome, and nothing may throw.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import {
  COINGECKO_PRO_BASE_URL,
  COINGECKO_PUBLIC_BASE_URL,
  CoinGeckoClient,
  coinGeckoOptionsFromEnv,
  parseRetryAfter,
} from '../../../operators/crypto/price/coingecko.ts';
import type { CoinGeckoOptions, PriceFetch, PriceSnapshot } from '../../../operators/crypto/price/coingecko.ts';
import { CoinGeckoServer } from '../../../operators/crypto/price/server.ts';
import type { CoinGeckoServerOptions } from '../../../operators/crypto/price/server.ts';

type TestContext = { after(fn: () => Promise<void> | void): void };

async function setup(t: TestContext, server: CoinGeckoServerOptions = {}, client: CoinGeckoOptions = {}): Promise<{ server: CoinGeckoServer; client: CoinGeckoClient }> {
  const s = await CoinGeckoServer.start(server);
  const c = new CoinGeckoClient({ baseUrl: s.baseUrl, ...client });
  t.after(async () => {
    c.close();
    await s.close();
  });
  return { server: s, client: c };
}

function prices(result: PriceFetch): PriceSnapshot {
  assert.equal(result.kind, 'Prices', JSON.stringify(result));
  return result as PriceSnapshot;
}

/** The HTTP status of a failure (200 for prices), for compact assertions. */
function statusOf(result: PriceFetch): number {
  return result.kind === 'Prices' ? 200 : result.status;
}

const ALL = ['shiba-inu', 'ethereum', 'bitcoin', 'dogecoin', 'bitcoin'];

describe('CoinGecko client with the local server', () => {
  it('asks for every coin in one request, ids sorted and de-duplicated, with the documented parameters', async (t) => {
    const { server, client } = await setup(t);
    const result = prices(await client.fetchPrices(ALL));
    assert.equal(server.requests.length, 1);
    const [req] = server.requests;
    assert.equal(req?.path, '/api/v3/simple/price');
    assert.deepEqual(req?.query, {
      ids: 'bitcoin,dogecoin,ethereum,shiba-inu',
      vs_currencies: 'usd',
      include_24hr_change: 'true',
      include_last_updated_at: 'true',
      precision: 'full',
    });
    assert.deepEqual([...result.prices.keys()], ['bitcoin', 'dogecoin', 'ethereum', 'shiba-inu']);
    assert.equal(result.prices.get('bitcoin')?.price.toString(), '41222');
    assert.equal(result.prices.get('ethereum')?.price.toString(), '3095.76');
    assert.equal(result.prices.get('shiba-inu')?.price.toString(), '0.00002371');
    assert.equal(result.prices.get('ethereum')?.change24hPercent?.toString(), '-0.7213');
    const updated = result.prices.get('bitcoin')?.updatedAt ?? 0;
    assert.ok(Math.abs(updated - Date.now()) < 5_000, 'last_updated_at is read as seconds and returned in ms');
    assert.deepEqual(result.missing, []);
  });

  it('keeps every digit the server sends, beyond what a double holds', async (t) => {
    const { server, client } = await setup(t);
    server.setPrice('bitcoin', '41222.0000000000001234');
    server.setPrice('ethereum', '3.09576e3', { change24h: '1e-2' });
    const result = prices(await client.fetchPrices(['bitcoin', 'ethereum']));
    assert.equal(result.prices.get('bitcoin')?.price.toString(), '41222.0000000000001234');
    assert.equal(result.prices.get('ethereum')?.price.toString(), '3095.76');
    assert.equal(result.prices.get('ethereum')?.change24hPercent?.toString(), '0.01');
  });

  it('reports a coin absent from the answer as missing and still returns the others', async (t) => {
    const { server, client } = await setup(t);
    server.failNext({ kind: 'MissingCoin', coin: 'dogecoin' });
    const first = prices(await client.fetchPrices(['bitcoin', 'dogecoin', 'not-a-coin']));
    assert.deepEqual(first.missing, ['dogecoin', 'not-a-coin']);
    assert.equal(first.prices.get('bitcoin')?.price.toString(), '41222');
    const second = prices(await client.fetchPrices(['bitcoin', 'dogecoin']));
    assert.deepEqual(second.missing, []);
  });

  it('sends no request for no coins and refuses ids that are not CoinGecko ids', async (t) => {
    const { server, client } = await setup(t);
    assert.deepEqual(prices(await client.fetchPrices([])).missing, []);
    const bad = await client.fetchPrices(['bitcoin', 'Bit coin&x=1']);
    assert.equal(bad.kind, 'Rejected');
    assert.equal(server.requests.length, 0);
  });

  it('sends a demo key as x-cg-demo-api-key', async (t) => {
    const { server, client } = await setup(t, { apiKey: { plan: 'demo', key: 'CG-demo' } }, { plan: 'demo', apiKey: 'CG-demo' });
    prices(await client.fetchPrices(['bitcoin']));
    assert.equal(server.requests[0]?.demoKey, 'CG-demo');
    assert.equal(server.requests[0]?.proKey, undefined);
  });

  it('sends a pro key as x-cg-pro-api-key', async (t) => {
    const { server, client } = await setup(t, { apiKey: { plan: 'pro', key: 'CG-pro' } }, { plan: 'pro', apiKey: 'CG-pro' });
    prices(await client.fetchPrices(['bitcoin']));
    assert.equal(server.requests[0]?.proKey, 'CG-pro');
    assert.equal(server.requests[0]?.demoKey, undefined);
  });

  it('reports refused keys as Unauthorized with CoinGecko error codes', async (t) => {
    const server = await CoinGeckoServer.start({ apiKey: { plan: 'pro', key: 'CG-pro' } });
    t.after(() => server.close());
    const cases: Array<[CoinGeckoOptions, number]> = [
      [{}, 10002], // keyless against a server that needs a key
      [{ plan: 'pro', apiKey: 'wrong' }, 10002],
      [{ plan: 'demo', apiKey: 'CG-pro' }, 10011], // a demo header on the pro root
    ];
    for (const [options, code] of cases) {
      const client = new CoinGeckoClient({ baseUrl: server.baseUrl, ...options });
      const result = await client.fetchPrices(['bitcoin']);
      client.close();
      assert.equal(result.kind, 'Unauthorized', JSON.stringify(options));
      if (result.kind === 'Unauthorized') {
        assert.equal(result.errorCode, code);
        assert.equal(result.status, 401);
        assert.ok(result.hint.length > 0);
      }
    }
  });

  it('reports 403 and key error codes in any status as Unauthorized', async (t) => {
    const { server, client } = await setup(t);
    server.failNext({ kind: 'Unauthorized', status: 403, errorCode: 1020 });
    server.failNext({ kind: 'Unauthorized', status: 400, errorCode: 10010 });
    const forbidden = await client.fetchPrices(['bitcoin']);
    assert.equal(forbidden.kind, 'Unauthorized');
    assert.equal(forbidden.status, 403);
    const wrongRoot = await client.fetchPrices(['bitcoin']);
    assert.equal(wrongRoot.kind, 'Unauthorized');
    assert.equal(wrongRoot.kind === 'Unauthorized' ? wrongRoot.errorCode : 0, 10010);
  });

  it('reports 429 as RateLimited, with Retry-After when sent', async (t) => {
    const { server, client } = await setup(t);
    server.failNext({ kind: 'RateLimited', retryAfterSeconds: 30 });
    server.failNext({ kind: 'RateLimited' });
    const withHeader = await client.fetchPrices(['bitcoin']);
    assert.equal(withHeader.kind, 'RateLimited');
    assert.equal(withHeader.kind === 'RateLimited' ? withHeader.retryAfterMs : -1, 30_000);
    const without = await client.fetchPrices(['bitcoin']);
    assert.equal(without.kind, 'RateLimited');
    assert.equal(without.kind === 'RateLimited' ? without.retryAfterMs : -1, undefined);
    prices(await client.fetchPrices(['bitcoin']));
  });

  it('reports 5xx as ServerError', async (t) => {
    const { server, client } = await setup(t);
    server.failNext({ kind: 'ServerError' });
    server.failNext({ kind: 'ServerError', status: 503 });
    const a = await client.fetchPrices(['bitcoin']);
    const b = await client.fetchPrices(['bitcoin']);
    assert.deepEqual([a.kind, statusOf(a), b.kind, statusOf(b)], ['ServerError', 500, 'ServerError', 503]);
  });

  it('reports a server that never answers as Timeout within the deadline', async (t) => {
    const { server, client } = await setup(t, {}, { timeoutMs: 150 });
    server.failNext({ kind: 'Hang' });
    const started = Date.now();
    const result = await client.fetchPrices(['bitcoin']);
    assert.equal(result.kind, 'Timeout');
    assert.ok(Date.now() - started < 2_000);
    // The next request works: the hung socket was discarded, not reused.
    prices(await client.fetchPrices(['bitcoin']));
  });

  it('reports bad JSON and wrong shapes as Malformed', async (t) => {
    const { server, client } = await setup(t);
    const bodies = ['{"bitcoin":{"usd":41222,', '[]', '{"bitcoin":{"usd":"41222"}}', '{"bitcoin":7}', '{"bitcoin":{"usd":-1}}', '{"bitcoin":{"usd":1e999999}}', '<html>busy</html>'];
    for (const body of bodies) server.failNext({ kind: 'Malformed', body });
    for (const body of bodies) {
      const result = await client.fetchPrices(['bitcoin']);
      assert.equal(result.kind, 'Malformed', body);
    }
  });

  it('treats a null price as missing and a null 24h change as absent, as CoinGecko sends for stale coins', async (t) => {
    const { server, client } = await setup(t);
    server.failNext({ kind: 'Malformed', body: '{"bitcoin":{"usd":41222,"usd_24h_change":null,"last_updated_at":1711356300},"ethereum":{"usd":null}}' });
    const result = prices(await client.fetchPrices(['bitcoin', 'ethereum']));
    assert.equal(result.prices.get('bitcoin')?.change24hPercent, undefined);
    assert.equal(result.prices.get('bitcoin')?.updatedAt, 1711356300_000);
    assert.deepEqual(result.missing, ['ethereum']);
  });

  it('refuses a body over the size limit as Malformed', async (t) => {
    const { server, client } = await setup(t, {}, { maxBodyBytes: 64 });
    server.failNext({ kind: 'Malformed', body: `{"bitcoin":{"usd":1},"pad":"${'x'.repeat(200)}"}` });
    assert.equal((await client.fetchPrices(['bitcoin'])).kind, 'Malformed');
  });

  it('reports other 4xx as Rejected', async (t) => {
    const { client } = await setup(t);
    const wrongRoot = new CoinGeckoClient({ baseUrl: client.baseUrl.replace('/api/v3', '/api/v2') });
    t.after(() => wrongRoot.close());
    const result = await wrongRoot.fetchPrices(['bitcoin']);
    assert.deepEqual([result.kind, statusOf(result)], ['Rejected', 404]);
  });

  it('reports a caller abort as Aborted and a closed port as Unreachable', async (t) => {
    const { server, client } = await setup(t);
    server.failNext({ kind: 'Hang' });
    const controller = new AbortController();
    const pending = client.fetchPrices(['bitcoin'], controller.signal);
    setTimeout(() => controller.abort(), 20);
    assert.equal((await pending).kind, 'Aborted');
    assert.equal((await client.fetchPrices(['bitcoin'], AbortSignal.abort())).kind, 'Aborted');

    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const nowhere = new CoinGeckoClient({ baseUrl: `http://127.0.0.1:${port}/api/v3` });
    const result = await nowhere.fetchPrices(['bitcoin']);
    nowhere.close();
    assert.equal(result.kind, 'Unreachable');
    assert.match(result.message, /ECONNREFUSED/);
  });

  it('retries once on a new connection when a kept-alive socket turns out closed', async (t) => {
    // Answers the first request on each connection; resets the connection on the second, as a
    // server does when it closed an idle socket just as the client reused it.
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      let served = 0;
      socket.on('data', () => {
        if (served++ > 0) {
          socket.resetAndDestroy();
          return;
        }
        const body = '{"bitcoin":{"usd":41222}}';
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`);
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const client = new CoinGeckoClient({ baseUrl: `http://127.0.0.1:${port}/api/v3` });
    t.after(() => {
      client.close();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    prices(await client.fetchPrices(['bitcoin']));
    const second = prices(await client.fetchPrices(['bitcoin']));
    assert.equal(second.prices.get('bitcoin')?.price.toString(), '41222');
    assert.equal(connections, 2);
  });

  it('reuses one kept-alive connection across polls', async (t) => {
    const { server, client } = await setup(t);
    for (let i = 0; i < 3; i++) prices(await client.fetchPrices(['bitcoin']));
    assert.equal(server.requests.length, 3);
    assert.equal(server.connectionCount, 1);
  });
});

describe('CoinGecko options', () => {
  it('picks the root and header from the plan', () => {
    assert.equal(new CoinGeckoClient().baseUrl, COINGECKO_PUBLIC_BASE_URL);
    assert.equal(new CoinGeckoClient({ apiKey: 'k' }).plan, 'demo');
    assert.equal(new CoinGeckoClient({ plan: 'pro', apiKey: 'k' }).baseUrl, COINGECKO_PRO_BASE_URL);
    assert.throws(() => new CoinGeckoClient({ plan: 'pro' }), /needs an API key/);
    assert.equal(
      new CoinGeckoClient().urlFor(['ethereum', 'bitcoin']),
      `${COINGECKO_PUBLIC_BASE_URL}/simple/price?ids=bitcoin,ethereum&vs_currencies=usd&include_24hr_change=true&include_last_updated_at=true&precision=full`,
    );
  });

  it('reads COINGECKO_* variables, and explicit values (a Secret) win', () => {
    const env = { COINGECKO_API_KEY: ' env-key ', COINGECKO_API_PLAN: 'PRO', COINGECKO_BASE_URL: 'http://127.0.0.1:9/api/v3' };
    assert.deepEqual(coinGeckoOptionsFromEnv(env), { apiKey: 'env-key', plan: 'pro', baseUrl: 'http://127.0.0.1:9/api/v3' });
    assert.deepEqual(coinGeckoOptionsFromEnv(env, { apiKey: 'from-secret', plan: undefined }), { apiKey: 'from-secret', plan: 'pro', baseUrl: 'http://127.0.0.1:9/api/v3' });
    assert.deepEqual(coinGeckoOptionsFromEnv({}), {});
    assert.throws(() => coinGeckoOptionsFromEnv({ COINGECKO_API_PLAN: 'gold' }), /not one of/);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2024-03-25T08:00:00Z');
    assert.equal(parseRetryAfter('30', now), 30_000);
    assert.equal(parseRetryAfter(['5', '7'], now), 5_000);
    assert.equal(parseRetryAfter('Mon, 25 Mar 2024 08:01:00 GMT', now), 60_000);
    assert.equal(parseRetryAfter('Mon, 25 Mar 2024 07:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('-1', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});
