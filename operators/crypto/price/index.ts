/**
 * The price side of the CryptoValueCalculator operator, independent of the framework: exact
 * decimals, the CoinGecko client and the shared cache/poller. The local CoinGecko that tests, the
 * demo and the benchmark use is `./server.ts`, imported from there: the operator never loads it.
 */
export { Decimal, DecimalError, DECIMAL_LIMITS, USD_DISPLAY_PLACES, PERCENT_PLACES, coinValue, formatUsd, formatChange, valueChange } from './decimal.ts';
export type { DecimalErrorKind, RoundingMode, ValueChange } from './decimal.ts';
export { JsonNumber, JsonSyntaxError, isJsonObject, parseJsonExact } from './json.ts';
export type { JsonValue } from './json.ts';
export {
  COINGECKO_DEFAULTS,
  COINGECKO_PRO_BASE_URL,
  COINGECKO_PUBLIC_BASE_URL,
  CoinGeckoClient,
  coinGeckoOptionsFromEnv,
  parseRetryAfter,
} from './coingecko.ts';
export type { CoinGeckoOptions, CoinGeckoPlan, CoinPrice, PriceFailure, PriceFailureKind, PriceFetch, PriceSnapshot, PriceSource } from './coingecko.ts';
export { PRICE_CACHE_DEFAULTS, PriceCache, systemClock } from './cache.ts';
export type { Clock, PriceCacheOptions, PriceCacheStats, PriceReading, StaleReason } from './cache.ts';
