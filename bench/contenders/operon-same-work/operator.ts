/**
 * The controller-runtime contender's work, on Operon: one reconcile handler over
 * CryptoValueCalculators that writes `amount × price` to the `value` annotation when it differs,
 * asks to run again after the refresh interval, and reads prices from one cache shared by every
 * reconcile (one /simple/price request per refresh interval). No status, conditions, exact value
 * or change: what `bench/contenders/controller-runtime/main.go` does, line for line, so the two
 * figures compare the frameworks and not the operators. The reference operator
 * (`operators/crypto/operator.ts`) writes far more per object; the benchmark runs both.
 *
 * Written as a user outside this repository writes it: `operon-k8s` by its package name. The
 * decimal arithmetic is the reference operator's, as the ceiling's is.
 *
 * Environment: KUBECONFIG, COINGECKO_BASE_URL (default the public API), REFRESH_SECONDS (default 60).
 */
import { defineOperator, defineResource, Type } from 'operon-k8s';
import { coinValue, Decimal, formatUsd } from '../../../operators/crypto/price/decimal.ts';

const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

const CVC = defineResource({
  group: 'crypto.tools',
  version: 'v1',
  kind: 'CryptoValueCalculator',
  plural: 'cryptovaluecalculators',
  scope: 'Namespaced',
  spec: Type.Object({ coin: Type.String(), amount: Type.Number() }),
});

const refreshMs = (Number(process.env.REFRESH_SECONDS) || 60) * 1000;
const baseUrl = (process.env.COINGECKO_BASE_URL || 'https://api.coingecko.com/api/v3').replace(/\/+$/, '');

/**
 * Every coin's price from one request per refresh interval, for the coins asked for so far.
 * Readers share the request in flight; one whose coin that request did not ask for waits for the
 * next (the Go contender's mutex does the same).
 */
class PriceCache {
  #prices = new Map<string, Decimal>();
  #coins = new Set<string>();
  #fetchedAt = 0;
  #fetching: { done: Promise<void>; coins: ReadonlySet<string> } | undefined;

  async get(coin: string): Promise<Decimal> {
    this.#coins.add(coin);
    while (!this.#prices.has(coin) || Date.now() - this.#fetchedAt >= refreshMs) {
      if (this.#fetching === undefined) {
        const coins = new Set(this.#coins);
        this.#fetching = { coins, done: this.#fetch(coins).finally(() => (this.#fetching = undefined)) };
      }
      const { done, coins } = this.#fetching;
      await done;
      if (coins.has(coin)) break;
    }
    const price = this.#prices.get(coin);
    if (price === undefined) throw new Error(`no USD price for ${JSON.stringify(coin)}`);
    return price;
  }

  async #fetch(coins: ReadonlySet<string>): Promise<void> {
    const url = `${baseUrl}/simple/price?vs_currencies=usd&ids=${[...coins].sort().join(',')}`;
    const text = await new Promise<string>((resolve, reject) => {
      const request = (url.startsWith('https:') ? https : http).get(url, { timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`price API: HTTP ${res.statusCode}`))));
      });
      request.on('timeout', () => request.destroy(new Error('price API: timed out')));
      request.on('error', reject);
    });
    const quotes = JSON.parse(text) as Record<string, { usd?: number }>;
    const prices = new Map<string, Decimal>();
    for (const [coin, quote] of Object.entries(quotes)) if (quote.usd !== undefined) prices.set(coin, Decimal.parse(String(quote.usd)));
    this.#prices = prices;
    this.#fetchedAt = Date.now();
  }
}

export default defineOperator((op) => {
  const prices = new PriceCache();
  op.resource(CVC).reconcile(
    async ({ spec, annotations, patch }) => {
      const value = formatUsd(coinValue(Decimal.parse(spec.amount), await prices.get(spec.coin)));
      if (annotations['value'] !== value) patch.metadata.annotations['value'] = value;
      return { requeueAfter: refreshMs };
    },
    { id: 'value' },
  );
});
