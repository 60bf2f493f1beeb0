/**
 * The CVC operator's configuration, from the environment. Every value is checked when the
 * operator loads: a bad one stops it with a message naming the variable and a valid example,
 * never a crash later or a silent fallback.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `CVC_REFRESH_SECONDS` | 60 | How often prices are fetched and every CVC re-valued. |
 * | `COINGECKO_API_KEY` | none | A CoinGecko API key (Demo unless `COINGECKO_API_PLAN=pro`). |
 * | `COINGECKO_API_KEY_SECRET` | none | `namespace/name/key` of a Secret holding the key, read at startup. |
 * | `COINGECKO_API_PLAN` | `demo` with a key, else `keyless` | `keyless`, `demo` or `pro`. |
 * | `COINGECKO_BASE_URL` | from the plan | Another CoinGecko-compatible root, e.g. a local one. |
 */
import { PRICE_CACHE_DEFAULTS } from './price/index.ts';

/** Where an API key is kept: a key of a Secret's `data`. */
export interface SecretKeyRef {
  namespace: string;
  name: string;
  key: string;
}

export interface CryptoConfig {
  /** Time between price refreshes, and between re-valuations of each CVC. */
  refreshMs: number;
  /** Delay after the first failed refresh (it doubles up to 5 min). */
  backoffInitialMs: number;
  /** How long one price request may take. */
  requestTimeoutMs: number;
  /** Where to read the API key, when it comes from a Secret. */
  apiKeySecret: SecretKeyRef | undefined;
}

/** A configuration value the operator cannot use. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * CoinGecko updates `/simple/price` every 60 s on the public and Demo plans (20 s on paid plans):
 * refreshing faster only spends the rate limit.
 */
export const DEFAULT_REFRESH_SECONDS = PRICE_CACHE_DEFAULTS.refreshIntervalMs / 1000;

// A DNS-1123 subdomain (namespace and Secret names) and a Secret data key.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * Reads the configuration; throws a {@link ConfigError} that names the variable and the fix.
 *
 * The first retry after a failed refresh waits 10 s, or one refresh interval when that is
 * shorter (a test's 2 s), and a request may take 10 s, or half an interval when that is shorter:
 * neither a retry nor a hung request outlasts the cadence the operator was asked to keep.
 *
 * @example
 * ```ts
 * cryptoConfig({ CVC_REFRESH_SECONDS: '30', COINGECKO_API_KEY_SECRET: 'crypto/coingecko/api-key' });
 * // { refreshMs: 30000, backoffInitialMs: 10000, requestTimeoutMs: 10000, apiKeySecret: { namespace: 'crypto', name: 'coingecko', key: 'api-key' } }
 * ```
 */
export function cryptoConfig(env: Readonly<Record<string, string | undefined>>): CryptoConfig {
  const refreshText = env['CVC_REFRESH_SECONDS']?.trim();
  const refreshSeconds = refreshText ? Number(refreshText) : DEFAULT_REFRESH_SECONDS;
  if (!Number.isFinite(refreshSeconds) || refreshSeconds < 1 || refreshSeconds > 86_400) {
    throw new ConfigError(`CVC_REFRESH_SECONDS=${JSON.stringify(refreshText)} is not a number of seconds from 1 to 86400; e.g. CVC_REFRESH_SECONDS=60`);
  }
  const refreshMs = Math.round(refreshSeconds * 1000);
  return {
    refreshMs,
    backoffInitialMs: Math.min(PRICE_CACHE_DEFAULTS.backoffInitialMs, refreshMs),
    requestTimeoutMs: Math.min(10_000, Math.max(1_000, refreshMs / 2)),
    apiKeySecret: secretRef(env['COINGECKO_API_KEY_SECRET']?.trim(), env['COINGECKO_API_KEY']?.trim()),
  };
}

function secretRef(text: string | undefined, directKey: string | undefined): SecretKeyRef | undefined {
  if (!text) return undefined;
  if (directKey) throw new ConfigError('COINGECKO_API_KEY and COINGECKO_API_KEY_SECRET are both set; keep one of them');
  const [namespace = '', name = '', key = '', ...rest] = text.split('/');
  if (rest.length > 0 || !DNS_SUBDOMAIN.test(namespace) || !DNS_SUBDOMAIN.test(name) || !SECRET_KEY.test(key)) {
    throw new ConfigError(
      `COINGECKO_API_KEY_SECRET=${JSON.stringify(text)} is not namespace/name/key of a Secret; e.g. COINGECKO_API_KEY_SECRET=crypto/coingecko/api-key`,
    );
  }
  return { namespace, name, key };
}
