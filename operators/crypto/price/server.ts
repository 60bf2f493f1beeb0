/**
 * A local stand-in for CoinGecko's `/simple/price`, for tests, the demo and benchmarks. The real
 * client talks to it over real HTTP exactly as it would to api.coingecko.com.
 *
 * Guarantees:
 * - Listens on 127.0.0.1 only (port 0, i.e. any free port, by default); never reaches the internet.
 * - Answers `GET /api/v3/simple/price` in CoinGecko's format: an object keyed by requested id, each
 *   with `<cur>`, and `<cur>_24h_change` / `last_updated_at` when `include_24hr_change` /
 *   `include_last_updated_at` are `true`. Ids it has no price for are absent (HTTP 200, possibly
 *   `{}`), as CoinGecko does. Prices are written from their decimal text, so what
 *   {@link CoinGeckoServer.setPrice} stores is exactly what a client reads. `precision=0..18`
 *   rounds half-up; `full` or no precision sends every stored digit.
 * - Every request is logged in {@link CoinGeckoServer.requests} (time, path, query, key headers,
 *   status) before it is answered, so a test can count requests per refresh.
 * - Faults queued with {@link CoinGeckoServer.failNext} apply to the next N price requests, in
 *   order: 429 (with or without Retry-After), 5xx, a hang (no answer until closed), malformed JSON,
 *   a coin left out, a refused key.
 * - With `apiKey` configured it checks the header as CoinGecko does (approximately): missing or
 *   wrong key → 401 error 10002; a pro key on the public root → 10010; a demo key on the pro
 *   root → 10011.
 * - {@link CoinGeckoServer.close} ends hung requests too, so tests never leak sockets.
 *
 * Standalone: `node operators/crypto/price/server.ts --port 0` prints one JSON line
 * `{"url":"http://127.0.0.1:PORT","baseUrl":"http://127.0.0.1:PORT/api/v3"}` and serves until
 * SIGINT/SIGTERM. Options: `--host`, `--plan demo|pro --api-key KEY`, `--price coin=value` (repeatable).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Decimal } from './decimal.ts';

/**
 * Prices that reproduce the design document's `kubectl get cvc`:
 * 0.0023 × 41222 = 94.8106 exactly, and 1.47 × 3095.76 = 4550.7672 exactly. (For ethereum 3095.76
 * is the only cent price that rounds to 4550.7672; for bitcoin 41221.98 to 41222.02 all round to
 * 94.8106, and 41222 is the one whose product needs no rounding.) Dogecoin and shiba-inu are
 * plausible prices from the same period (early 2022), for the CRD's other two coins.
 */
export const SAMPLE_PRICES: Readonly<Record<string, string>> = {
  bitcoin: '41222',
  ethereum: '3095.76',
  dogecoin: '0.1465',
  'shiba-inu': '0.00002371',
};

/** Illustrative 24 h changes (percent) to go with {@link SAMPLE_PRICES}. */
export const SAMPLE_CHANGES_24H: Readonly<Record<string, string>> = {
  bitcoin: '1.8344',
  ethereum: '-0.7213',
  dogecoin: '2.41',
  'shiba-inu': '-3.0562',
};

/** A failure to serve instead of a normal answer. */
export type Fault =
  | { kind: 'RateLimited'; retryAfterSeconds?: number }
  | { kind: 'ServerError'; status?: number }
  /** Accept the request and never answer (until the server closes). */
  | { kind: 'Hang' }
  | { kind: 'Malformed'; body?: string }
  /** Answer normally but leave `coin` out. */
  | { kind: 'MissingCoin'; coin: string }
  | { kind: 'Unauthorized'; status?: number; errorCode?: number };

/** One logged request. */
export interface ServedRequest {
  /** Server time (ms since the epoch) when it arrived. */
  time: number;
  method: string;
  path: string;
  query: Record<string, string>;
  demoKey: string | undefined;
  proKey: string | undefined;
  /** Status sent, 0 for a hang. */
  status: number;
}

export interface CoinGeckoServerOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** USD prices to start with. Default {@link SAMPLE_PRICES}. */
  prices?: Readonly<Record<string, string | number>>;
  /** Require this key, sent the way its plan sends it. Default: no key needed. */
  apiKey?: { plan: 'demo' | 'pro'; key: string };
  /** Clock for `last_updated_at` and the request log. Default Date.now. */
  now?: () => number;
}

interface Quote {
  price: Decimal;
  change24h: Decimal | undefined;
}

/**
 * The local CoinGecko.
 *
 * @example
 * ```ts
 * const server = await CoinGeckoServer.start();
 * const client = new CoinGeckoClient({ baseUrl: server.baseUrl });
 * server.setPrice('bitcoin', '42000.5');
 * server.failNext({ kind: 'RateLimited', retryAfterSeconds: 30 });
 * await client.fetchPrices(['bitcoin']); // { kind: 'RateLimited', retryAfterMs: 30000, ... }
 * await server.close();
 * ```
 */
export class CoinGeckoServer {
  /** Every request served, oldest first. Tests may clear it with `requests.length = 0`. */
  readonly requests: ServedRequest[] = [];
  readonly #server: Server;
  readonly #quotes = new Map<string, Map<string, Quote>>();
  readonly #faults: Fault[] = [];
  readonly #apiKey: CoinGeckoServerOptions['apiKey'];
  readonly #now: () => number;
  #url = '';
  #connections = 0;

  private constructor(options: CoinGeckoServerOptions) {
    this.#apiKey = options.apiKey;
    this.#now = options.now ?? Date.now;
    for (const [coin, price] of Object.entries(options.prices ?? SAMPLE_PRICES)) {
      this.setPrice(coin, price, { change24h: options.prices === undefined ? SAMPLE_CHANGES_24H[coin] : undefined });
    }
    this.#server = process.getBuiltinModule('node:http').createServer((req, res) => this.#handle(req, res));
    this.#server.on('connection', () => this.#connections++);
    // Clients keep connections alive; do not let an idle one hold up close().
    this.#server.keepAliveTimeout = 5_000;
  }

  /**
   * Starts listening and resolves once the port is bound.
   *
   * @example
   * ```ts
   * const server = await CoinGeckoServer.start({ apiKey: { plan: 'demo', key: 'k' } });
   * ```
   */
  static async start(options: CoinGeckoServerOptions = {}): Promise<CoinGeckoServer> {
    const s = new CoinGeckoServer(options);
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject);
      s.#server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        s.#server.off('error', reject);
        resolve();
      });
    });
    const address = s.#server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    s.#url = `http://${host}:${address.port}`;
    return s;
  }

  /** `http://127.0.0.1:PORT`. */
  get url(): string {
    return this.#url;
  }

  /** The API root to give a client: `http://127.0.0.1:PORT/api/v3`. */
  get baseUrl(): string {
    return `${this.#url}/api/v3`;
  }

  /** TCP connections accepted so far: shows whether a client keeps its connection alive. */
  get connectionCount(): number {
    return this.#connections;
  }

  /** Price requests logged so far (other paths excluded). */
  get priceRequestCount(): number {
    return this.requests.filter((r) => r.path === '/api/v3/simple/price').length;
  }

  /**
   * Sets a coin's price (decimal text or number) in `currency` (default usd), effective at once.
   *
   * @example
   * ```ts
   * server.setPrice('ethereum', '3100.01', { change24h: '0.14' });
   * ```
   */
  setPrice(coin: string, price: string | number, options: { currency?: string; change24h?: string | number | undefined } = {}): void {
    const currency = (options.currency ?? 'usd').toLowerCase();
    let byCurrency = this.#quotes.get(coin);
    if (byCurrency === undefined) {
      byCurrency = new Map();
      this.#quotes.set(coin, byCurrency);
    }
    const previous = byCurrency.get(currency);
    const change24h = options.change24h === undefined ? previous?.change24h : Decimal.parse(options.change24h);
    byCurrency.set(currency, { price: Decimal.parse(price), change24h });
  }

  /** Forgets a coin: it is then absent from answers, like an unknown id. */
  removeCoin(coin: string): void {
    this.#quotes.delete(coin);
  }

  /**
   * Serves `fault` instead of a normal answer to the next `times` price requests (after any
   * faults already queued).
   *
   * @example
   * ```ts
   * server.failNext({ kind: 'ServerError' }, 3);
   * ```
   */
  failNext(fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.#faults.push(fault);
  }

  /** Drops queued faults. */
  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** Stops listening and ends every connection, hung ones included. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const header = (name: string): string | undefined => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const entry: ServedRequest = {
      time: this.#now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      demoKey: header('x-cg-demo-api-key') ?? query['x_cg_demo_api_key'],
      proKey: header('x-cg-pro-api-key') ?? query['x_cg_pro_api_key'],
      status: 0,
    };
    this.requests.push(entry);
    const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(body);
    };
    const error = (status: number, code: number, message: string): void =>
      send(status, JSON.stringify({ status: { error_code: code, error_message: message } }));

    if (req.method !== 'GET') return send(405, JSON.stringify({ error: 'Method Not Allowed' }));
    if (url.pathname === '/api/v3/ping') return send(200, JSON.stringify({ gecko_says: '(V3) To the Moon!' }));
    if (url.pathname !== '/api/v3/simple/price') return send(404, JSON.stringify({ error: 'Not Found' }));

    const keyProblem = this.#checkKey(entry);
    if (keyProblem !== undefined) return error(401, keyProblem.code, keyProblem.message);

    const fault = this.#faults.shift();
    let leaveOut: string | undefined;
    switch (fault?.kind) {
      case 'RateLimited':
        return send(
          429,
          JSON.stringify({ status: { error_code: 429, error_message: "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits." } }),
          fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
        );
      case 'ServerError':
        return send(fault.status ?? 500, JSON.stringify({ error: 'Internal Server Error' }));
      case 'Hang':
        return; // the request stays open until the client gives up or close() ends it
      case 'Malformed':
        return send(200, fault.body ?? '{"bitcoin":{"usd":41222,');
      case 'Unauthorized':
        return error(fault.status ?? 401, fault.errorCode ?? 10002, 'Invalid API Key');
      case 'MissingCoin':
        leaveOut = fault.coin;
        break;
      case undefined:
        break;
    }

    const vs = query['vs_currencies'];
    if (!vs) return send(400, JSON.stringify({ error: 'Missing parameter vs_currencies' }));
    const idsParam = query['ids'];
    if (!idsParam) return send(400, JSON.stringify({ error: 'Missing parameter ids' }));
    const precision = query['precision'];
    let places: number | undefined;
    if (precision !== undefined && precision !== 'full') {
      if (!/^([0-9]|1[0-8])$/.test(precision)) return send(400, JSON.stringify({ error: 'Invalid precision' }));
      places = Number(precision);
    }
    const withChange = query['include_24hr_change'] === 'true';
    const withUpdated = query['include_last_updated_at'] === 'true';
    const currencies = vs.toLowerCase().split(',').map((c) => c.trim()).filter(Boolean);
    const updatedAt = Math.floor(this.#now() / 1000);

    // Written by hand so each number goes out as its decimal text, never via a binary float.
    const coins: string[] = [];
    for (const id of new Set(idsParam.toLowerCase().split(',').map((c) => c.trim()))) {
      const quotes = this.#quotes.get(id);
      if (quotes === undefined || id === leaveOut) continue;
      const fields: string[] = [];
      for (const cur of currencies) {
        const q = quotes.get(cur);
        if (q === undefined) continue;
        fields.push(`${JSON.stringify(cur)}:${(places === undefined ? q.price : q.price.round(places)).toString()}`);
        if (withChange) fields.push(`${JSON.stringify(`${cur}_24h_change`)}:${q.change24h?.toString() ?? 'null'}`);
      }
      if (withUpdated) fields.push(`"last_updated_at":${updatedAt}`);
      coins.push(`${JSON.stringify(id)}:{${fields.join(',')}}`);
    }
    send(200, `{${coins.join(',')}}`);
  }

  #checkKey(entry: ServedRequest): { code: number; message: string } | undefined {
    const expected = this.#apiKey;
    if (expected === undefined) return undefined;
    const own = expected.plan === 'pro' ? entry.proKey : entry.demoKey;
    const other = expected.plan === 'pro' ? entry.demoKey : entry.proKey;
    if (own === undefined && other !== undefined) {
      return expected.plan === 'pro'
        ? { code: 10011, message: 'If you are using Demo API key, please change your root URL from pro-api.coingecko.com to api.coingecko.com' }
        : { code: 10010, message: 'If you are using Pro API key, please change your root URL from api.coingecko.com to pro-api.coingecko.com' };
    }
    if (own === undefined) return { code: 10002, message: 'API Key Missing' };
    if (own !== expected.key) return { code: 10002, message: 'Invalid API Key' };
    return undefined;
  }
}

/** Command-line entry: see the file comment. */
async function main(argv: string[]): Promise<void> {
  const options: CoinGeckoServerOptions = {};
  const prices: Array<[string, string]> = [];
  let plan: 'demo' | 'pro' = 'demo';
  let key: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const need = (): string => {
      if (value === undefined) throw new Error(`${flag} needs a value`);
      i++;
      return value;
    };
    if (flag === '--port') options.port = Number(need());
    else if (flag === '--host') options.host = need();
    else if (flag === '--api-key') key = need();
    else if (flag === '--plan') {
      const p = need();
      if (p !== 'demo' && p !== 'pro') throw new Error('--plan is demo or pro');
      plan = p;
    } else if (flag === '--price') {
      const [coin, price] = need().split('=');
      if (!coin || !price) throw new Error('--price takes coin=value');
      prices.push([coin, price]);
    } else throw new Error(`unknown option ${flag}`);
  }
  if (key !== undefined) options.apiKey = { plan, key };
  const server = await CoinGeckoServer.start(options);
  for (const [coin, price] of prices) server.setPrice(coin, price);
  process.stdout.write(`${JSON.stringify({ url: server.url, baseUrl: server.baseUrl })}\n`);
  const shutdown = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
}
