/**
 * The CVC operator the way TypeScript users write one today: `@kubernetes/client-node`'s
 * `makeInformer` for the cache and events, a hand-written queue with a fixed number of workers, a
 * merge patch through `setHeaderOptions`, and one shared price request per refresh interval.
 * Writes only when the value changed.
 *
 * Environment: KUBECONFIG, COINGECKO_BASE_URL (default the public API), REFRESH_SECONDS (default
 * 60), WORKERS (default 8, as Operon's default concurrency).
 */
import * as k8s from '@kubernetes/client-node';
import { coinValue, Decimal, formatUsd } from '../../../operators/crypto/price/decimal.ts';

interface Cvc extends k8s.KubernetesObject {
  spec: { coin: string; amount: number };
}

const GROUP = 'crypto.tools';
const VERSION = 'v1';
const PLURAL = 'cryptovaluecalculators';
const baseUrl = (process.env.COINGECKO_BASE_URL ?? 'https://api.coingecko.com/api/v3').replace(/\/$/, '');
const refreshMs = Number(process.env.REFRESH_SECONDS ?? '60') * 1000;
const workers = Number(process.env.WORKERS ?? '8');

const kc = new k8s.KubeConfig();
kc.loadFromDefault();
const api = kc.makeApiClient(k8s.CustomObjectsApi);
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

// Prices: one request for every coin seen, at most once per refresh (concurrent callers share it).
const prices = new Map<string, Decimal>();
const coins = new Set<string>();
let inFlight: Promise<void> | undefined;
let fetchedAt = 0;

function refreshPrices(): Promise<void> {
  inFlight ??= (async () => {
    try {
      const url = `${baseUrl}/simple/price?vs_currencies=usd&ids=${[...coins].sort().join(',')}`;
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`price API: HTTP ${res.status}`);
      const body = (await res.json()) as Record<string, { usd?: number }>;
      for (const [coin, quote] of Object.entries(body)) if (typeof quote.usd === 'number') prices.set(coin, Decimal.parse(String(quote.usd)));
      fetchedAt = Date.now();
    } finally {
      inFlight = undefined;
    }
  })();
  return inFlight;
}

async function priceOf(coin: string): Promise<Decimal> {
  if (!coins.has(coin)) coins.add(coin);
  if (!prices.has(coin) || Date.now() - fetchedAt >= refreshMs) await refreshPrices();
  const price = prices.get(coin);
  if (price === undefined) throw new Error(`no USD price for ${coin}`);
  return price;
}

const informer = k8s.makeInformer<Cvc>(kc, `/apis/${GROUP}/${VERSION}/${PLURAL}`, () => api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }));

// The queue holds keys, so an object queued twice is handled once.
const queue = new Set<string>();
let wake: (() => void) | undefined;
function enqueue(obj: Cvc): void {
  queue.add(`${obj.metadata?.namespace}/${obj.metadata?.name}`);
  wake?.();
}

async function handle(key: string): Promise<void> {
  const [namespace = '', name = ''] = key.split('/');
  const cvc = informer.get(name, namespace);
  if (cvc === undefined) return;
  const value = formatUsd(coinValue(Decimal.parse(cvc.spec.amount), await priceOf(cvc.spec.coin)));
  if (cvc.metadata?.annotations?.['value'] === value) return;
  const body = { metadata: { annotations: { value } } };
  await api.patchNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body }, mergePatch);
}

async function worker(): Promise<void> {
  for (;;) {
    const key = queue.values().next().value;
    if (key === undefined) {
      await new Promise<void>((resolve) => (wake = resolve));
      continue;
    }
    queue.delete(key);
    try {
      await handle(key);
    } catch (err) {
      console.error(`${key}: ${err instanceof Error ? err.message : String(err)}`);
      setTimeout(() => (queue.add(key), wake?.()), 1_000);
    }
  }
}

informer.on('add', enqueue);
informer.on('update', enqueue);
informer.on('error', (err) => {
  console.error(`watch failed, restarting in 2 s: ${String(err)}`);
  setTimeout(() => void informer.start(), 2_000);
});
for (let i = 0; i < workers; i++) void worker();
setInterval(() => {
  void refreshPrices().then(
    () => informer.list().forEach(enqueue),
    (err: unknown) => console.error(`price refresh failed: ${String(err)}`),
  );
}, refreshMs);
await informer.start();
console.log('cvc informer operator: started');
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
