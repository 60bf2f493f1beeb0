/**
 * The price side of the CryptoValueCalculator operator, independent of the framework: exact
 * decimals, the CoinGecko client, the shared cache/poller and a local CoinGecko for tests and demos.
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
export { CoinGeckoServer, SAMPLE_CHANGES_24H, SAMPLE_PRICES } from './server.ts';
export type { CoinGeckoServerOptions, Fault, ServedRequest } from './server.ts';
