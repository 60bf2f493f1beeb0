/**
 * The CoinGecko `/simple/price` client: one GET for every coin the operator watches.
 *
 * Guarantees:
 * - {@link CoinGeckoClient.fetchPrices} never throws and never rejects: every result is a
 *   {@link PriceFetch} value whose `kind` says what happened (`Prices`, `RateLimited`,
 *   `ServerError`, `Timeout`, `Malformed`, `Unauthorized`, `Rejected`, `Unreachable`, `Aborted`).
 * - Coin ids are de-duplicated and sorted, so the same set of coins is always the same URL (good
 *   for caches and for reading logs).
 * - Prices are read from the body's number text ({@link parseJsonExact}), never through a binary
 *   float, and arrive as {@link Decimal}s.
 * - A coin absent from a 200 response is listed in `missing`; the others are still returned. That
 *   is how CoinGecko answers unknown ids, so it is not an error for the whole request.
 * - Any entry of the wrong shape (a price that is not a non-negative number, a top level that is
 *   not an object) makes the whole response `Malformed`: a body that is not what CoinGecko sends
 *   is not trusted for any coin.
 * - `timeoutMs` bounds the whole exchange (connect, headers and body), not just socket idleness,
 *   so a server that trickles bytes still times out. Connections are kept alive between polls;
 *   when a kept-alive socket turns out to have been closed by the server, the GET is retried once
 *   on a new connection (it never reached the server, and GET is idempotent).
 */
import type { Agent, IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { Decimal, DecimalError } from './decimal.ts';
import { isJsonObject, JsonNumber, parseJsonExact } from './json.ts';
import type { JsonValue } from './json.ts';

// node:http through getBuiltinModule: an ES import of it would also load http2 and undici, about
// 8 MiB of resident memory this operator never uses.
const http = process.getBuiltinModule('node:http');

/** `keyless` and `demo` share the public root; `pro` has its own root and header. */
export type CoinGeckoPlan = 'keyless' | 'demo' | 'pro';

export const COINGECKO_PUBLIC_BASE_URL = 'https://api.coingecko.com/api/v3';
export const COINGECKO_PRO_BASE_URL = 'https://pro-api.coingecko.com/api/v3';

/** Defaults, each with its reason. */
export const COINGECKO_DEFAULTS = {
  /** Long enough for a slow API behind a CDN, short against the 60 s refresh so one hang does not eat a cycle. */
  timeoutMs: 10_000,
  /** The design document shows USD. */
  vsCurrency: 'usd',
  /** A /simple/price answer for four coins is under 1 KiB; 1 MiB refuses a runaway body with room to spare. */
  maxBodyBytes: 1 << 20,
} as const;

export interface CoinGeckoOptions {
  /** Which root and header to use. Default: `demo` when an API key is given, otherwise `keyless`. */
  plan?: CoinGeckoPlan;
  /** Sent as `x-cg-demo-api-key` (demo) or `x-cg-pro-api-key` (pro). Never sent on `keyless`. */
  apiKey?: string;
  /** Root URL, e.g. a local server's `http://127.0.0.1:PORT/api/v3`. Default from the plan. */
  baseUrl?: string;
  /** Default {@link COINGECKO_DEFAULTS}.timeoutMs. */
  timeoutMs?: number;
  /** Default `usd`. */
  vsCurrency?: string;
  /** Default {@link COINGECKO_DEFAULTS}.maxBodyBytes. */
  maxBodyBytes?: number;
  /** Wall clock for turning an HTTP-date `Retry-After` into a delay. Default `Date.now`. */
  now?: () => number;
}

/** One coin's price as CoinGecko reported it. */
export interface CoinPrice {
  coin: string;
  /** Price in the client's `vsCurrency`, every digit the API sent. */
  price: Decimal;
  /** `<cur>_24h_change` in percent; undefined when absent or null (CoinGecko sends null for stale coins). */
  change24hPercent: Decimal | undefined;
  /** CoinGecko's `last_updated_at` in ms since the epoch; undefined when absent. */
  updatedAt: number | undefined;
}

export interface PriceSnapshot {
  kind: 'Prices';
  prices: Map<string, CoinPrice>;
  /** Requested coins the response did not include (unknown ids, or not priced in this currency). */
  missing: string[];
}

interface FailureBase {
  message: string;
  /** What an operator of the operator can do about it. */
  hint: string;
  /** HTTP status; 0 when no status arrived. */
  status: number;
}

export type PriceFailure =
  | (FailureBase & { kind: 'RateLimited'; retryAfterMs: number | undefined })
  | (FailureBase & { kind: 'ServerError' })
  | (FailureBase & { kind: 'Timeout' })
  | (FailureBase & { kind: 'Malformed' })
  | (FailureBase & { kind: 'Unauthorized'; errorCode: number | undefined })
  /** Another 4xx (400 bad parameters, 404 wrong base URL). */
  | (FailureBase & { kind: 'Rejected'; errorCode: number | undefined })
  /** No HTTP answer: connection refused or reset, DNS, TLS. */
  | (FailureBase & { kind: 'Unreachable' })
  /** The caller's AbortSignal fired. */
  | (FailureBase & { kind: 'Aborted' });

export type PriceFailureKind = PriceFailure['kind'];
export type PriceFetch = PriceSnapshot | PriceFailure;

/** Anything that can fetch prices for a set of coins; {@link CoinGeckoClient} is the real one. */
export interface PriceSource {
  fetchPrices(coins: readonly string[], signal?: AbortSignal): Promise<PriceFetch>;
}

// CoinGecko's body codes that mean "the key is missing, wrong or for the other root" (10002,
// 10010, 10011), or "your plan does not include this endpoint" (10005). All are fixed by the
// key or plan, so all are Unauthorized.
const KEY_ERROR_CODES = new Set([10002, 10005, 10010, 10011]);

// CoinGecko ids are lower-case slugs; refusing others keeps the query string honest.
const COIN_ID = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Options from the environment: `COINGECKO_API_KEY`, `COINGECKO_API_PLAN` (`keyless|demo|pro`)
 * and `COINGECKO_BASE_URL`. Explicit `overrides` (e.g. a key read from a Secret) win.
 *
 * @example
 * ```ts
 * const client = new CoinGeckoClient(coinGeckoOptionsFromEnv(process.env, { apiKey: secretKey }));
 * ```
 */
export function coinGeckoOptionsFromEnv(
  env: Record<string, string | undefined> = process.env,
  overrides: CoinGeckoOptions = {},
): CoinGeckoOptions {
  const options: CoinGeckoOptions = {};
  const key = env['COINGECKO_API_KEY']?.trim();
  if (key) options.apiKey = key;
  const plan = env['COINGECKO_API_PLAN']?.trim().toLowerCase();
  if (plan === 'keyless' || plan === 'demo' || plan === 'pro') options.plan = plan;
  else if (plan) throw new Error(`COINGECKO_API_PLAN=${plan} is not one of keyless, demo, pro`);
  const base = env['COINGECKO_BASE_URL']?.trim();
  if (base) options.baseUrl = base;
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (options as Record<string, unknown>)[k] = v;
  return options;
}

/**
 * The real client. Reuse one instance: it holds a keep-alive connection pool.
 *
 * @example
 * ```ts
 * const client = new CoinGeckoClient({ plan: 'demo', apiKey: process.env.COINGECKO_API_KEY });
 * const result = await client.fetchPrices(['ethereum', 'bitcoin']);
 * if (result.kind === 'Prices') result.prices.get('bitcoin')?.price.toString();
 * else if (result.kind === 'RateLimited') wait(result.retryAfterMs ?? 60_000);
 * client.close();
 * ```
 */
export class CoinGeckoClient implements PriceSource {
  readonly plan: CoinGeckoPlan;
  readonly baseUrl: string;
  readonly vsCurrency: string;
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #maxBodyBytes: number;
  readonly #now: () => number;
  readonly #agent: Agent;

  constructor(options: CoinGeckoOptions = {}) {
    this.plan = options.plan ?? (options.apiKey ? 'demo' : 'keyless');
    if (this.plan !== 'keyless' && !options.apiKey) throw new Error(`CoinGecko plan '${this.plan}' needs an API key`);
    this.#apiKey = this.plan === 'keyless' ? undefined : options.apiKey;
    this.baseUrl = (options.baseUrl ?? (this.plan === 'pro' ? COINGECKO_PRO_BASE_URL : COINGECKO_PUBLIC_BASE_URL)).replace(/\/+$/, '');
    const url = new URL(this.baseUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`CoinGecko base URL must be http(s): ${this.baseUrl}`);
    this.vsCurrency = (options.vsCurrency ?? COINGECKO_DEFAULTS.vsCurrency).toLowerCase();
    this.#timeoutMs = options.timeoutMs ?? COINGECKO_DEFAULTS.timeoutMs;
    this.#maxBodyBytes = options.maxBodyBytes ?? COINGECKO_DEFAULTS.maxBodyBytes;
    this.#now = options.now ?? Date.now;
    // One poll a minute: a single kept-alive socket is all that is ever needed.
    const agentOptions = { keepAlive: true, maxSockets: 2 };
    this.#agent = url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /** The request URL for `coins` (ids sorted and de-duplicated). */
  urlFor(coins: readonly string[]): string {
    const ids = [...new Set(coins)].sort();
    const query = new URLSearchParams({
      ids: ids.join(','),
      vs_currencies: this.vsCurrency,
      include_24hr_change: 'true',
      include_last_updated_at: 'true',
      precision: 'full',
    });
    // URLSearchParams would encode the commas; CoinGecko documents them literally.
    return `${this.baseUrl}/simple/price?${query.toString().replace(/%2C/g, ',')}`;
  }

  /**
   * Prices for `coins` in one request. Resolves with a typed outcome; never rejects.
   *
   * @example
   * ```ts
   * const r = await client.fetchPrices(['bitcoin', 'ethereum'], AbortSignal.timeout(5_000));
   * ```
   */
  async fetchPrices(coins: readonly string[], signal?: AbortSignal): Promise<PriceFetch> {
    const bad = coins.find((c) => !COIN_ID.test(c));
    if (bad !== undefined) {
      return failure('Rejected', 0, `coin id ${JSON.stringify(bad)} is not a CoinGecko id`, 'Use ids from /coins/list, such as bitcoin or shiba-inu.', { errorCode: undefined });
    }
    const ids = [...new Set(coins)].sort();
    if (ids.length === 0) return { kind: 'Prices', prices: new Map(), missing: [] };
    const url = this.urlFor(ids);
    let response: RawResponse;
    try {
      response = await this.#get(url, signal).catch((err: unknown) => {
        // A kept-alive socket the server closed while idle fails on first use; the GET never
        // reached the server, so one retry on a new connection is safe and hides the race.
        if (err instanceof StaleSocket) return this.#get(url, signal);
        throw err;
      });
    } catch (err) {
      return transportFailure(err instanceof StaleSocket ? err.cause : err, this.#timeoutMs);
    }
    return this.#interpret(response, ids);
  }

  /** Closes kept-alive connections. The client is unusable afterwards. */
  close(): void {
    this.#agent.destroy();
  }

  #get(url: string, signal: AbortSignal | undefined): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new RequestEnded('aborted'));
        return;
      }
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'operon-cvc/0.1' };
      if (this.#apiKey !== undefined) headers[this.plan === 'pro' ? 'x-cg-pro-api-key' : 'x-cg-demo-api-key'] = this.#apiKey;
      const target = new URL(url);
      const lib = target.protocol === 'https:' ? https : http;
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const req = lib.request(target, { method: 'GET', headers, agent: this.#agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.#maxBodyBytes) {
            req.destroy();
            finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: undefined }));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })));
        res.on('error', (err) => finish(() => reject(err)));
        // 'close' without a complete body means the connection dropped mid-response.
        res.on('close', () => {
          if (!res.complete) finish(() => reject(new Error('connection closed before the response was complete')));
        });
      });
      // A whole-exchange deadline; the socket's own idle timeout would not catch a trickling body.
      const timer = setTimeout(() => {
        finish(() => reject(new RequestEnded('timeout')));
        req.destroy();
      }, this.#timeoutMs);
      const onAbort = (): void => {
        finish(() => reject(new RequestEnded('aborted')));
        req.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err: NodeJS.ErrnoException) => {
        const stale = req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
        finish(() => reject(stale ? new StaleSocket(err) : err));
      });
      req.end();
    });
  }

  #interpret(res: RawResponse, ids: string[]): PriceFetch {
    const { status } = res;
    if (res.body === undefined) {
      return failure('Malformed', status, `response body larger than ${this.#maxBodyBytes} bytes`, 'Check COINGECKO_BASE_URL points at a CoinGecko API.', {});
    }
    let body: JsonValue | undefined;
    try {
      body = parseJsonExact(res.body);
    } catch {
      body = undefined;
    }
    const errorCode = bodyErrorCode(body);
    const bodyMessage = bodyErrorMessage(body) ?? res.body.slice(0, 200);
    if (errorCode !== undefined && KEY_ERROR_CODES.has(errorCode)) {
      return unauthorized(status, errorCode, bodyMessage, this.plan);
    }
    if (status === 429) {
      return failure('RateLimited', status, `rate limited by CoinGecko: ${bodyMessage}`, 'Poll less often or use an API key; retrying after the advised delay.', {
        retryAfterMs: parseRetryAfter(res.headers['retry-after'], this.#now()),
      });
    }
    if (status === 401 || status === 403) return unauthorized(status, errorCode, bodyMessage, this.plan);
    if (status >= 500) {
      return failure('ServerError', status, `CoinGecko answered ${status}: ${bodyMessage}`, 'CoinGecko is having trouble; retrying with backoff.', {});
    }
    if (status === 408) {
      return failure('Timeout', status, 'CoinGecko answered 408 Request Timeout', 'Retrying with backoff.', {});
    }
    if (status < 200 || status >= 300) {
      return failure('Rejected', status, `CoinGecko answered ${status}: ${bodyMessage}`, 'Check COINGECKO_BASE_URL and the coin ids.', { errorCode });
    }
    if (body === undefined) {
      return failure('Malformed', status, `response is not JSON: ${JSON.stringify(res.body.slice(0, 80))}`, 'Check COINGECKO_BASE_URL points at a CoinGecko API.', {});
    }
    return this.#readPrices(body, ids, status);
  }

  #readPrices(body: JsonValue, ids: string[], status: number): PriceFetch {
    const malformed = (why: string): PriceFailure =>
      failure('Malformed', status, `unexpected /simple/price response: ${why}`, 'Check COINGECKO_BASE_URL points at a CoinGecko API.', {});
    if (!isJsonObject(body)) return malformed('the body is not an object');
    const cur = this.vsCurrency;
    const prices = new Map<string, CoinPrice>();
    const missing: string[] = [];
    for (const coin of ids) {
      const entry = Object.hasOwn(body, coin) ? body[coin] : undefined;
      if (entry === undefined) {
        missing.push(coin);
        continue;
      }
      if (!isJsonObject(entry)) return malformed(`${coin} is not an object`);
      const raw = Object.hasOwn(entry, cur) ? entry[cur] : undefined;
      if (raw === undefined || raw === null) {
        missing.push(coin);
        continue;
      }
      if (!(raw instanceof JsonNumber)) return malformed(`${coin}.${cur} is not a number`);
      const price = toDecimal(raw);
      if (price === undefined || price.sign < 0) return malformed(`${coin}.${cur} is not a usable price`);
      const changeRaw = entry[`${cur}_24h_change`];
      let change24hPercent: Decimal | undefined;
      if (changeRaw instanceof JsonNumber) {
        change24hPercent = toDecimal(changeRaw);
        if (change24hPercent === undefined) return malformed(`${coin}.${cur}_24h_change is not a usable number`);
      } else if (changeRaw !== undefined && changeRaw !== null) {
        return malformed(`${coin}.${cur}_24h_change is not a number`);
      }
      const updatedRaw = entry['last_updated_at'];
      let updatedAt: number | undefined;
      if (updatedRaw instanceof JsonNumber && /^[0-9]{1,12}$/.test(updatedRaw.text)) updatedAt = Number(updatedRaw.text) * 1000;
      else if (updatedRaw !== undefined && updatedRaw !== null) return malformed(`${coin}.last_updated_at is not a UNIX time`);
      prices.set(coin, { coin, price, change24hPercent, updatedAt });
    }
    return { kind: 'Prices', prices, missing };
  }
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Undefined when the body exceeded the size limit. */
  body: string | undefined;
}

/** Marks the client's own endings (deadline, caller abort) apart from network errors. */
class RequestEnded extends Error {
  readonly why: 'timeout' | 'aborted';
  constructor(why: 'timeout' | 'aborted') {
    super(why);
    this.why = why;
  }
}

/** A reused keep-alive socket was already closed by the server. */
class StaleSocket extends Error {
  override readonly cause: Error;
  constructor(cause: Error) {
    super(cause.message);
    this.cause = cause;
  }
}

function toDecimal(n: JsonNumber): Decimal | undefined {
  try {
    return Decimal.parse(n.text);
  } catch (err) {
    if (err instanceof DecimalError) return undefined;
    throw err;
  }
}

type Extra<K extends PriceFailureKind> = Omit<Extract<PriceFailure, { kind: K }>, keyof FailureBase | 'kind'>;

function failure<K extends PriceFailureKind>(kind: K, status: number, message: string, hint: string, extra: Extra<K>): PriceFailure {
  return { kind, status, message, hint, ...extra } as PriceFailure;
}

function unauthorized(status: number, errorCode: number | undefined, detail: string, plan: CoinGeckoPlan): PriceFailure {
  const hint =
    plan === 'keyless'
      ? 'Set an API key (COINGECKO_API_KEY, or the Secret the operator reads).'
      : `Check the API key and that COINGECKO_API_PLAN=${plan} matches it (demo keys work only on api.coingecko.com, pro keys only on pro-api.coingecko.com).`;
  return failure('Unauthorized', status, `CoinGecko refused the key${errorCode !== undefined ? ` (error ${errorCode})` : ''}: ${detail}`, hint, { errorCode });
}

function transportFailure(err: unknown, timeoutMs: number): PriceFailure {
  if (err instanceof RequestEnded) {
    return err.why === 'timeout'
      ? failure('Timeout', 0, `no complete answer from CoinGecko within ${timeoutMs} ms`, 'Retrying with backoff; check network egress if it persists.', {})
      : failure('Aborted', 0, 'request aborted by the caller', 'Nothing to do; the caller stopped waiting.', {});
  }
  const code = (err as { code?: unknown } | null)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  return failure('Unreachable', 0, `cannot reach CoinGecko${typeof code === 'string' ? ` (${code})` : ''}: ${detail}`, 'Check DNS, egress rules and COINGECKO_BASE_URL.', {});
}

/** `status.error_code` (CoinGecko's error envelope) or a top-level `error_code`. */
function bodyErrorCode(body: JsonValue | undefined): number | undefined {
  if (!isJsonObject(body)) return undefined;
  const status = body['status'];
  const raw = isJsonObject(status) ? status['error_code'] : body['error_code'];
  return raw instanceof JsonNumber && /^[0-9]{1,9}$/.test(raw.text) ? Number(raw.text) : undefined;
}

function bodyErrorMessage(body: JsonValue | undefined): string | undefined {
  if (!isJsonObject(body)) return undefined;
  const status = body['status'];
  const raw = isJsonObject(status) ? status['error_message'] : body['error'];
  return typeof raw === 'string' ? raw : undefined;
}

/**
 * `Retry-After` as milliseconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). Undefined when
 * absent or unreadable, so callers fall back to their own backoff.
 *
 * @example
 * ```ts
 * parseRetryAfter('30', Date.now()); // 30000
 * ```
 */
export function parseRetryAfter(header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^[0-9]{1,9}$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
