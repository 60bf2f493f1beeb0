/**
 * The shared price cache: every CryptoValueCalculator in the cluster reads prices from here, and
 * here alone talks to the price API.
 *
 * Guarantees:
 * - One request serves everyone: each refresh asks for every tracked coin in a single call, and
 *   callers that need a refresh while one is in flight wait for that one (single-flight). Callers
 *   arriving in the same tick join the request before it is sent; a coin first asked for while a
 *   request is already on the wire causes at most one follow-up request, shared by all such coins.
 * - A price younger than `refreshIntervalMs` (default 60 s, the API's own update period) is served
 *   without a request. With {@link PriceCache.start}, a poller keeps prices that fresh in the
 *   background, so readers rarely wait.
 * - After a failure (429, 5xx, timeout, malformed answer, refused key, network) nothing is
 *   requested until the backoff delay has passed: capped exponential growth with jitter, never
 *   shorter than the server's `Retry-After`, never longer than `backoff.maxMs` (default 5 min).
 *   Readers asking meanwhile get the last good price at once, marked `stale` with its age and
 *   the failure, instead of waiting or erroring.
 * - The first success after an outage resets the backoff and turns readings `fresh` again.
 * - Time comes only from the injected {@link Clock}, so all of the above is testable without sleeping.
 */
import type { CoinPrice, PriceFailure, PriceFailureKind, PriceFetch, PriceSource } from './coingecko.ts';

/** Time as a dependency (same shape as the framework's clock, restated so this module stands alone). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` after `ms`; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** The real clock; timers are unref'd so a pending poll never keeps a finished process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return () => clearTimeout(t);
  },
};

/** Defaults, each with its reason. */
export const PRICE_CACHE_DEFAULTS = {
  /** CoinGecko refreshes /simple/price every 60 s on the public and Demo plans; polling faster buys nothing. */
  refreshIntervalMs: 60_000,
  /** First retry after a failure. 10 s: a blip recovers quickly, yet a rate limit is not hammered. */
  backoffInitialMs: 10_000,
  /** Growth per consecutive failure. */
  backoffFactor: 2,
  /** Ceiling, also for a larger Retry-After: prices older than 5 min are worth a retry whatever a proxy says. */
  backoffMaxMs: 300_000,
} as const;

export interface PriceCacheOptions {
  source: PriceSource;
  /** Default {@link systemClock}. */
  clock?: Clock;
  /** Default {@link PRICE_CACHE_DEFAULTS}.refreshIntervalMs. */
  refreshIntervalMs?: number;
  /** A price is reported `stale` once older than this, even without a failure. Default 2 × refreshIntervalMs. */
  staleAfterMs?: number;
  backoff?: { initialMs?: number; maxMs?: number; factor?: number };
  /** Source of randomness in [0, 1) for jitter. Default Math.random. */
  random?: () => number;
  /** Coins to track from the start (others are tracked once asked for). */
  coins?: readonly string[];
  /** Called after every request with its outcome: a hook for logs and metrics. */
  onFetch?: (result: PriceFetch, coins: readonly string[]) => void;
}

/** Why a price is not fresh: a failed refresh, or the coin vanished from the API's answer. */
export type StaleReason = PriceFailure | { kind: 'Missing'; message: string; hint: string };

/** What a reader gets for one coin. */
export type PriceReading =
  /** Fetched within the refresh interval by a request that succeeded. */
  | { state: 'fresh'; coin: string; price: CoinPrice; fetchedAt: number; ageMs: number }
  /** The last good price, kept through an outage or after the coin left the answer. */
  | { state: 'stale'; coin: string; price: CoinPrice; fetchedAt: number; ageMs: number; reason: StaleReason | undefined; retryAt: number | undefined }
  /** The API answered but does not know this coin (CoinGecko omits unknown ids). */
  | { state: 'missing'; coin: string; checkedAt: number }
  /** No price has been obtained yet; `reason` is the latest failure, `retryAt` when the next request may go out. */
  | { state: 'unavailable'; coin: string; reason: PriceFailure | undefined; retryAt: number | undefined };

/** Counters for metrics; a snapshot, safe to keep. */
export interface PriceCacheStats {
  /** Requests sent to the source. */
  requests: number;
  successes: number;
  /** Failed requests by kind. */
  failures: Record<PriceFailureKind, number>;
  /** Coin lookups the API answered without (summed over requests). */
  missingCoins: number;
  consecutiveFailures: number;
  lastSuccessAt: number | undefined;
  /** Set while backing off: no request before this time. */
  retryAt: number | undefined;
  trackedCoins: string[];
}

interface Entry {
  price: CoinPrice | undefined;
  /** When `price` was received. */
  fetchedAt: number;
  /** When a successful answer last covered this coin (listed or not): what the refresh interval runs from. */
  checkedAt: number;
  /** Set when the latest successful answer lacked this coin. */
  missingSince: number | undefined;
}

interface Flight {
  /** Undefined until the request is sent; until then new coins join it. */
  coins: Set<string> | undefined;
  promise: Promise<void>;
}

const FAILURE_KINDS: PriceFailureKind[] = ['RateLimited', 'ServerError', 'Timeout', 'Malformed', 'Unauthorized', 'Rejected', 'Unreachable', 'Aborted'];

/**
 * A price cache shared by all CVCs.
 *
 * @example
 * ```ts
 * const cache = new PriceCache({ source: new CoinGeckoClient(coinGeckoOptionsFromEnv()) });
 * cache.start();
 * const r = await cache.get('bitcoin');
 * if (r.state === 'fresh' || r.state === 'stale') formatUsd(coinValue(amount, r.price.price));
 * cache.stop();
 * ```
 */
export class PriceCache {
  readonly refreshIntervalMs: number;
  readonly staleAfterMs: number;
  readonly #source: PriceSource;
  readonly #clock: Clock;
  readonly #backoff: { initialMs: number; maxMs: number; factor: number };
  readonly #random: () => number;
  readonly #onFetch: PriceCacheOptions['onFetch'];
  readonly #tracked = new Set<string>();
  readonly #entries = new Map<string, Entry>();
  #flight: Flight | undefined;
  #followUp: Promise<void> | undefined;
  #abort: AbortController | undefined;
  #lastFailure: PriceFailure | undefined;
  #consecutiveFailures = 0;
  #lastSuccessAt: number | undefined;
  #retryAt: number | undefined;
  #polling = false;
  #cancelPoll: (() => void) | undefined;
  readonly #stats = { requests: 0, successes: 0, missingCoins: 0, failures: Object.fromEntries(FAILURE_KINDS.map((k) => [k, 0])) as Record<PriceFailureKind, number> };

  constructor(options: PriceCacheOptions) {
    this.#source = options.source;
    this.#clock = options.clock ?? systemClock;
    this.refreshIntervalMs = options.refreshIntervalMs ?? PRICE_CACHE_DEFAULTS.refreshIntervalMs;
    this.staleAfterMs = options.staleAfterMs ?? 2 * this.refreshIntervalMs;
    this.#backoff = {
      initialMs: options.backoff?.initialMs ?? PRICE_CACHE_DEFAULTS.backoffInitialMs,
      maxMs: options.backoff?.maxMs ?? PRICE_CACHE_DEFAULTS.backoffMaxMs,
      factor: options.backoff?.factor ?? PRICE_CACHE_DEFAULTS.backoffFactor,
    };
    this.#random = options.random ?? Math.random;
    this.#onFetch = options.onFetch;
    for (const coin of options.coins ?? []) this.#tracked.add(coin);
  }

  /**
   * The reading for one coin, refreshing first if its price is older than the interval (and no
   * backoff is in force).
   *
   * @example
   * ```ts
   * const r = await cache.get('ethereum'); // r.state: 'fresh' | 'stale' | 'missing' | 'unavailable'
   * ```
   */
  async get(coin: string): Promise<PriceReading> {
    const readings = await this.getMany([coin]);
    return readings.get(coin) as PriceReading;
  }

  /**
   * Readings for several coins, from at most one shared request.
   *
   * @example
   * ```ts
   * const all = await cache.getMany(['bitcoin', 'ethereum']);
   * all.get('bitcoin')?.state;
   * ```
   */
  async getMany(coins: readonly string[]): Promise<Map<string, PriceReading>> {
    for (const coin of coins) this.#tracked.add(coin);
    const now = this.#clock.now();
    if (!this.#backingOff(now) && coins.some((c) => this.#due(c, now))) await this.#covering(coins);
    const at = this.#clock.now();
    return new Map(coins.map((c) => [c, this.#reading(c, at)]));
  }

  /** The reading for `coin` from what is cached now, without any request. */
  peek(coin: string): PriceReading {
    return this.#reading(coin, this.#clock.now());
  }

  /** Adds coins to every future request without reading them (e.g. at operator start). */
  track(coins: readonly string[]): void {
    for (const coin of coins) this.#tracked.add(coin);
    this.#schedulePoll();
  }

  /** Stops requesting `coin` (e.g. the last CVC for it was deleted). Its cached price is dropped. */
  untrack(coin: string): void {
    this.#tracked.delete(coin);
    this.#entries.delete(coin);
  }

  /**
   * Refreshes every tracked coin now (joining a request in flight), unless backing off.
   *
   * @example
   * ```ts
   * await cache.refresh();
   * ```
   */
  async refresh(): Promise<void> {
    if (this.#tracked.size === 0 || this.#backingOff(this.#clock.now())) return;
    await this.#covering([...this.#tracked]);
  }

  /** Polls in the background: every `refreshIntervalMs` while healthy, at the backoff time after a failure. */
  start(): void {
    this.#polling = true;
    this.#schedulePoll();
  }

  /** Stops polling and aborts a request in flight (its waiters get the cached readings). */
  stop(): void {
    this.#polling = false;
    this.#cancelPoll?.();
    this.#cancelPoll = undefined;
    this.#abort?.abort();
  }

  /** Counters and state for metrics and status conditions. */
  stats(): PriceCacheStats {
    return {
      requests: this.#stats.requests,
      successes: this.#stats.successes,
      failures: { ...this.#stats.failures },
      missingCoins: this.#stats.missingCoins,
      consecutiveFailures: this.#consecutiveFailures,
      lastSuccessAt: this.#lastSuccessAt,
      retryAt: this.#retryAt,
      trackedCoins: [...this.#tracked].sort(),
    };
  }

  #backingOff(now: number): boolean {
    return this.#retryAt !== undefined && now < this.#retryAt;
  }

  #due(coin: string, now: number): boolean {
    const entry = this.#entries.get(coin);
    return entry === undefined || now - entry.checkedAt >= this.refreshIntervalMs;
  }

  /** A promise that settles once a request including every one of `coins` has finished. */
  #covering(coins: readonly string[]): Promise<void> {
    const flight = this.#flight;
    if (flight === undefined) return this.#send().promise;
    if (flight.coins === undefined || coins.every((c) => flight.coins?.has(c))) return flight.promise;
    // The request on the wire lacks some coin: one follow-up, shared by every such caller.
    this.#followUp ??= flight.promise.then(() => {
      this.#followUp = undefined;
      if (this.#backingOff(this.#clock.now())) return;
      return (this.#flight ?? this.#send()).promise;
    });
    return this.#followUp;
  }

  #send(): Flight {
    const flight: Flight = { coins: undefined, promise: Promise.resolve() };
    this.#flight = flight;
    flight.promise = (async () => {
      // One microtask of grace: callers in the same tick (Promise.all over many CVCs) join this request.
      await Promise.resolve();
      const coins = [...this.#tracked].sort();
      flight.coins = new Set(coins);
      const abort = new AbortController();
      this.#abort = abort;
      this.#stats.requests++;
      let result: PriceFetch;
      try {
        result = await this.#source.fetchPrices(coins, abort.signal);
      } catch (err) {
        // The source's contract is never to reject; a broken one still must not break readers.
        result = { kind: 'Unreachable', status: 0, message: `price source failed: ${err instanceof Error ? err.message : String(err)}`, hint: 'This is a bug in the price source.' };
      }
      if (this.#abort === abort) this.#abort = undefined;
      this.#record(result);
      this.#onFetch?.(result, coins);
    })().finally(() => {
      if (this.#flight === flight) this.#flight = undefined;
      this.#schedulePoll();
    });
    return flight;
  }

  #record(result: PriceFetch): void {
    const now = this.#clock.now();
    if (result.kind === 'Prices') {
      this.#stats.successes++;
      this.#stats.missingCoins += result.missing.length;
      this.#lastSuccessAt = now;
      this.#lastFailure = undefined;
      this.#consecutiveFailures = 0;
      this.#retryAt = undefined;
      for (const [coin, price] of result.prices) {
        if (this.#tracked.has(coin)) this.#entries.set(coin, { price, fetchedAt: now, checkedAt: now, missingSince: undefined });
      }
      for (const coin of result.missing) {
        if (!this.#tracked.has(coin)) continue;
        const previous = this.#entries.get(coin);
        // Keep a price the coin had before it vanished; a reader is better served by it, marked stale.
        this.#entries.set(coin, {
          price: previous?.price,
          fetchedAt: previous?.price ? previous.fetchedAt : now,
          checkedAt: now,
          missingSince: previous?.missingSince ?? now,
        });
      }
      return;
    }
    this.#stats.failures[result.kind]++;
    // We stopped it ourselves: not the server's fault, so neither backoff nor a stale mark.
    if (result.kind === 'Aborted') return;
    this.#lastFailure = result;
    this.#consecutiveFailures++;
    this.#retryAt = now + this.#delay(result);
  }

  #delay(failure: PriceFailure): number {
    const { initialMs, maxMs, factor } = this.#backoff;
    const nominal = Math.min(maxMs, initialMs * factor ** Math.min(this.#consecutiveFailures - 1, 64));
    // Jitter in [d/2, d]: spreads retries without ever retrying sooner than half the nominal delay.
    const jittered = Math.floor(nominal / 2 + (this.#random() * nominal) / 2);
    const advised = failure.kind === 'RateLimited' ? (failure.retryAfterMs ?? 0) : 0;
    return Math.min(maxMs, Math.max(jittered, advised));
  }

  #schedulePoll(): void {
    this.#cancelPoll?.();
    this.#cancelPoll = undefined;
    if (!this.#polling || this.#tracked.size === 0 || this.#flight !== undefined) return;
    const now = this.#clock.now();
    const dueAt = this.#retryAt ?? Math.min(...[...this.#tracked].map((c) => (this.#entries.get(c)?.checkedAt ?? -Infinity) + this.refreshIntervalMs));
    this.#cancelPoll = this.#clock.setTimer(Math.max(0, dueAt - now), () => {
      this.#cancelPoll = undefined;
      void this.refresh();
    });
  }

  #reading(coin: string, now: number): PriceReading {
    const entry = this.#entries.get(coin);
    if (entry?.price === undefined) {
      if (entry?.missingSince !== undefined) return { state: 'missing', coin, checkedAt: entry.checkedAt };
      return { state: 'unavailable', coin, reason: this.#lastFailure, retryAt: this.#retryAt };
    }
    const ageMs = now - entry.fetchedAt;
    const reason: StaleReason | undefined =
      entry.missingSince !== undefined
        ? { kind: 'Missing', message: `the price API stopped listing ${coin}`, hint: 'Check the coin id; CoinGecko omits unknown ids.' }
        : this.#lastFailure;
    if (reason !== undefined || ageMs >= this.staleAfterMs) {
      return { state: 'stale', coin, price: entry.price, fetchedAt: entry.fetchedAt, ageMs, reason, retryAt: this.#retryAt };
    }
    return { state: 'fresh', coin, price: entry.price, fetchedAt: entry.fetchedAt, ageMs };
  }
}
