/**
 * The CryptoValueCalculator operator: keeps `amount × USD price` of every CVC in its status:
 * `status.value` (`$94.8106`, what `kubectl get cvc` shows), `status.change`, every digit in
 * `status.exactValue`, and conditions, all in one write per change.
 *
 *     operon crd operators/crypto/resource.ts | kubectl apply -f -
 *     operon run operators/crypto/operator.ts
 *
 * - A new CVC, or a changed spec, is valued at once (a level-based reconcile); a timer re-values
 *   each CVC every `CVC_REFRESH_SECONDS` (default 60, CoinGecko's own update period).
 * - One shared price cache, started at startup and stopped at cleanup, fetches every coin in ONE
 *   request per refresh, however many CVCs there are; it backs off after failures.
 * - Nothing is written when nothing changed (see `valuation.ts`), so a quiet market costs no writes.
 * - An outage keeps the last value with a `PriceStale` condition; a coin the API stops listing
 *   gets `PriceMissing`; an absurd amount gets `Ready=False`, reason `InvalidAmount`, a Warning
 *   Event and a log line, and the other CVCs are served as usual. Handlers never throw for these.
 *
 * Configuration: see `config.ts` and the README.
 */
import { builtin, defineOperator, isApiError, TemporaryError, type KubeClient, type ReconcileHandlerContext, type Stored } from 'operon-k8s';
import { cryptoConfig, type SecretKeyRef } from './config.ts';
import { CoinGeckoClient, coinGeckoOptionsFromEnv, PriceCache } from './price/index.ts';
import { COINS, CryptoValueCalculator, CryptoValueCalculators, exactAmount, type CryptoValueCalculatorObject } from './resource.ts';
import { checkSupply } from './supply.ts';
import { parseSpec, valuate } from './valuation.ts';

/**
 * The operator, built by `operon run` (or a test) from this definition: each build reads its
 * configuration from the environment and has its own price cache, so a test can build it twice.
 */
export default defineOperator((op) => {
  const config = cryptoConfig(process.env);
  const cvcs = op.resource(CryptoValueCalculator);

  // Refused at `kubectl apply`: an amount no coin's supply allows (served when webhooks are configured).
  cvcs.validate(checkSupply, { id: 'supply' });
  // v1 is stored, v2 (an exact decimal amount) is served too: the API server converts through here.
  op.serveConversion(CryptoValueCalculators);

  // The operator's shared state: one price cache for every CVC, made at startup.
  let prices: PriceCache | undefined;

  op.onStartup(async ({ client, logger }) => {
    const apiKey = config.apiKeySecret ? await readApiKey(client, config.apiKeySecret) : undefined;
    const source = new CoinGeckoClient({ ...coinGeckoOptionsFromEnv(process.env, apiKey ? { apiKey } : {}), timeoutMs: config.requestTimeoutMs });
    prices = new PriceCache({
      source,
      refreshIntervalMs: config.refreshMs,
      backoff: { initialMs: config.backoffInitialMs },
      coins: COINS,
      onFetch: (result, coins) => {
        if (result.kind === 'Prices') logger.debug({ coins, missing: result.missing }, 'prices fetched');
        else logger.warn({ coins, kind: result.kind, status: result.status, hint: result.hint }, `price request failed: ${result.message}`);
      },
    });
    prices.start();
    logger.info({ priceApi: source.baseUrl, plan: source.plan, refreshSeconds: config.refreshMs / 1000 }, 'price cache started');
  });

  op.onCleanup(() => prices?.stop());

  /** Values one CVC; writes only what changed. Used by the reconcile and the timer alike. */
  async function value({ body, spec, patch, logger, warn }: ReconcileHandlerContext<Stored<CryptoValueCalculatorObject>>): Promise<void> {
    const parsed = parseSpec(spec && { ...spec, amount: exactAmount(body) });
    const reading = parsed.ok && prices ? await prices.get(parsed.coin) : undefined;
    const result = valuate(body, parsed, reading, { now: Date.now(), refreshMs: config.refreshMs });
    if (result.kind === 'unchanged') return;
    Object.assign(patch.status, result.status);
    Object.assign(patch.metadata.annotations, result.annotations);
    for (const problem of result.problems) {
      logger.warn({ reason: problem.reason }, problem.message);
      warn(problem.reason, problem.message);
    }
  }

  // The reconcile values what is new: a CVC never valued, a spec its status has not caught up with,
  // or a price newer than the one its status records (after a restart, or a missed tick). Anything
  // else is the timer's: when both valued the same change they raced, and the echo of one write
  // (which can arrive before its response) made the other write again (measured: 158 extra PATCHes
  // per price change at 1,000 CVCs without this gate).
  cvcs.reconcile(
    async (context) => {
      const { body, spec, status } = context;
      const parsed = parseSpec(spec && { ...spec, amount: exactAmount(body) });
      const valued = status?.observedGeneration === body.metadata.generation && status.value !== undefined;
      if (valued && parsed.ok && prices) {
        const reading = await prices.get(parsed.coin);
        const recorded = status?.priceTime === undefined ? Number.NaN : Date.parse(status.priceTime);
        // priceTime has whole seconds; a price fetched within the recorded second is the same one.
        const newer = 'fetchedAt' in reading && !(Math.floor(reading.fetchedAt / 1000) * 1000 <= recorded);
        if (!newer) return;
      }
      await value(context);
    },
    { id: 'value' },
  );
  cvcs.timer(value, { id: 'refresh', interval: config.refreshMs });
});

/** The API key from a Secret; waits (retrying) while the Secret or its key is missing or unreadable. */
async function readApiKey(client: KubeClient, ref: SecretKeyRef): Promise<string> {
  const where = `key ${ref.key} of Secret ${ref.namespace}/${ref.name} (COINGECKO_API_KEY_SECRET)`;
  try {
    const secret = await client.get(builtin('v1', 'Secret'), ref.name, { namespace: ref.namespace });
    const encoded = secret.data?.[ref.key];
    const key = encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8').trim();
    if (!key) throw new TemporaryError(`${where} is missing or empty; create it, e.g. kubectl create secret generic ${ref.name} -n ${ref.namespace} --from-literal=${ref.key}=<key>`, { delay: '30s' });
    return key;
  } catch (error) {
    if (isApiError(error, 'NotFound') || isApiError(error, 'Forbidden')) {
      throw new TemporaryError(`cannot read ${where}: ${error.message}; create the Secret, or grant this operator get on it`, { delay: '30s' });
    }
    throw error;
  }
}
