/**
 * The benchmark's CryptoValueCalculators: what they are (deterministic coins and amounts), a fast
 * concurrent creator, and a tracker that watches them and knows, per object, when the value its
 * Value column shows first became right: the `value` annotation, where the design document's
 * operator writes it (the bench's CRD column), or `status.value`, where Operon's reference
 * operator writes it (one status write instead of an annotation plus a status write).
 *
 * The tracker's own watch is the only way the harness learns results, so every contender is judged
 * by what the API server stored, never by what it says about itself.
 */
import { coinValue, Decimal, formatUsd } from '../../operators/crypto/price/decimal.ts';
import type { AdminApi, CreateResult } from './api.ts';
import { Changes } from './changes.ts';

export const GROUP_PATH = '/apis/crypto.tools/v1';
export const COINS = ['bitcoin', 'ethereum', 'dogecoin', 'shiba-inu'] as const;

export interface CvcSpec {
  coin: string;
  amount: number;
}

/** Object `i` of a run: coins in turn, amounts from 0.001 to 99.991 spread by a fixed stride. */
export function cvcSpec(i: number): CvcSpec {
  return { coin: COINS[i % COINS.length] as string, amount: (((i * 7919) % 99991) + 1) / 1000 };
}

export function cvcName(i: number): string {
  return `cvc-${String(i).padStart(5, '0')}`;
}

/** The value (`$X.XXXX`) every contender must show for `spec` at `prices`. */
export function expectedValue(spec: CvcSpec, prices: ReadonlyMap<string, string>): string {
  const price = prices.get(spec.coin);
  if (price === undefined) throw new Error(`no price for ${spec.coin}`);
  return formatUsd(coinValue(Decimal.parse(spec.amount), Decimal.parse(price)));
}

/** Creates `count` CVCs in `namespace` with `concurrency` requests in flight. */
export function createCvcs(api: AdminApi, namespace: string, count: number, concurrency: number): Promise<CreateResult> {
  return api.createMany(`${GROUP_PATH}/namespaces/${namespace}/cryptovaluecalculators`, count, concurrency, (i) => ({
    apiVersion: 'crypto.tools/v1',
    kind: 'CryptoValueCalculator',
    metadata: { name: cvcName(i) },
    spec: cvcSpec(i),
  }));
}

interface Seen {
  spec: CvcSpec;
  value: string | undefined;
  /** performance.now() when the value first matched the expected one (since the last expectation change). */
  correctAt: number | undefined;
  /** performance.now() when any value first appeared. */
  valuedAt: number | undefined;
}

/** Watches the CVCs of one namespace and counts those whose value is what it should be. */
export class CvcTracker {
  readonly objects = new Map<string, Seen>();
  #prices: ReadonlyMap<string, string>;
  #expected = new Map<string, string>();
  #correct = 0;
  readonly #changes = new Changes();
  #abort = new AbortController();
  #running: Promise<void> | undefined;
  #api: AdminApi;
  #path: string;
  /** Watch events received (the harness's own view of write traffic). */
  events = 0;
  /** Set when the watch failed in a way it could not recover from. */
  failure: Error | undefined;

  constructor(api: AdminApi, namespace: string, prices: ReadonlyMap<string, string>) {
    this.#api = api;
    this.#path = `${GROUP_PATH}/namespaces/${namespace}/cryptovaluecalculators`;
    this.#prices = new Map(prices);
  }

  /** Lists, then watches in the background until {@link stop}. */
  async start(): Promise<void> {
    let rv = await this.#relist();
    this.#running = (async () => {
      while (!this.#abort.signal.aborted) {
        try {
          rv = await this.#api.watch(this.#path, rv, (type, object) => this.#onEvent(type, object), this.#abort.signal);
        } catch (err) {
          if (this.#abort.signal.aborted) return;
          try {
            rv = await this.#relist();
          } catch (relistErr) {
            this.failure = relistErr instanceof Error ? relistErr : new Error(String(err));
            await new Promise((r) => setTimeout(r, 1_000));
          }
        }
      }
    })();
  }

  stop(): Promise<void> {
    this.#abort.abort();
    return this.#running ?? Promise.resolve();
  }

  get correct(): number {
    return this.#correct;
  }

  get size(): number {
    return this.objects.size;
  }

  /** Names of objects whose value is not (yet) the expected one, with what they have. */
  wrong(limit = 5): Array<{ name: string; has: string | undefined; expected: string | undefined }> {
    const out: Array<{ name: string; has: string | undefined; expected: string | undefined }> = [];
    for (const [name, seen] of this.objects) {
      if (seen.value !== this.#expected.get(name)) out.push({ name, has: seen.value, expected: this.#expected.get(name) });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** New prices: every object's expectation is recomputed and its `correctAt` cleared. Returns how many values must change. */
  setPrices(prices: ReadonlyMap<string, string>): number {
    this.#prices = new Map(prices);
    let mustChange = 0;
    this.#correct = 0;
    for (const [name, seen] of this.objects) {
      const expected = expectedValue(seen.spec, this.#prices);
      if (expected !== this.#expected.get(name)) mustChange++;
      this.#expected.set(name, expected);
      seen.correctAt = seen.value === expected ? performance.now() : undefined;
      if (seen.value === expected) this.#correct++;
    }
    this.#changes.notify();
    return mustChange;
  }

  /** Resolves once `count` objects are tracked and all are correct, or with false after `timeoutMs`. */
  allCorrect(count: number, timeoutMs: number): Promise<boolean> {
    return this.#changes.until(() => this.objects.size >= count && this.#correct === this.objects.size, timeoutMs);
  }

  async #relist(): Promise<string> {
    const list = await this.#api.json<{ metadata: { resourceVersion: string }; items: Array<Record<string, unknown>> }>('GET', this.#path);
    for (const item of list.items) this.#onEvent('ADDED', item);
    return list.metadata.resourceVersion;
  }

  #onEvent(type: string, object: Record<string, unknown>): void {
    this.events++;
    const meta = object['metadata'] as { name: string; annotations?: Record<string, string> };
    const status = object['status'] as { value?: unknown } | undefined;
    const now = performance.now();
    if (type === 'DELETED') {
      const seen = this.objects.get(meta.name);
      if (seen && seen.value === this.#expected.get(meta.name)) this.#correct--;
      this.objects.delete(meta.name);
      this.#expected.delete(meta.name);
      this.#changes.notify();
      return;
    }
    let seen = this.objects.get(meta.name);
    if (seen === undefined) {
      const spec = object['spec'] as CvcSpec;
      seen = { spec, value: undefined, correctAt: undefined, valuedAt: undefined };
      this.objects.set(meta.name, seen);
      this.#expected.set(meta.name, expectedValue(spec, this.#prices));
    }
    const expected = this.#expected.get(meta.name);
    const wasCorrect = seen.value === expected;
    seen.value = meta.annotations?.['value'] ?? (typeof status?.value === 'string' ? status.value : undefined);
    if (seen.value !== undefined) seen.valuedAt ??= now;
    const isCorrect = seen.value === expected;
    if (isCorrect && !wasCorrect) {
      this.#correct++;
      seen.correctAt ??= now;
    } else if (!isCorrect && wasCorrect) {
      this.#correct--;
    }
    this.#changes.notify();
  }

}
