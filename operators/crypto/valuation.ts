/**
 * What a CryptoValueCalculator should show, given its spec and a price reading: a pure function
 * (no I/O, the time passed in) from the object and the reading to the writes it needs, so every
 * case is unit-tested and the handlers stay a few lines.
 *
 * Guarantees:
 * - **No write without a change.** {@link valuate} returns `unchanged` when the object already
 *   shows what it should: same value, same conditions, same generation. A refresh that finds the
 *   same price therefore costs no API write, whatever the number of CVCs.
 * - **One write.** Everything shown lives in the status (`status.value` is the Value column,
 *   `status.change` the Change column), so a valuation is one write to the status subresource.
 *   The design document's `value` and `change` annotations, left by an earlier operator, are
 *   removed once (a second write, only for such an object).
 * - **Exact.** The value is `amount × price` in decimal arithmetic: every digit in
 *   `status.exactValue`, four decimals half-up in `status.value` (`$94.8106`).
 * - **Change since the previous value.** When the value moves while coin and amount stay the same
 *   (the same `metadata.generation`), `status.change` says by how much (`+$4.7405 (+5.00%)`) and
 *   `status.exactChange` with every digit; a new spec starts without a change.
 * - **An outage keeps the last value.** A stale price still values the CVC, with `PriceStale=True`
 *   whose reason is the failure's kind (RateLimited, ServerError, Timeout, Malformed, …) and
 *   whose message says how old the price is. The age is shown in steps that double
 *   (one refresh interval, two, four, …), so a long outage rewrites the condition a handful of
 *   times, not once per refresh.
 * - **Bad specs are named.** An amount above {@link AMOUNT_MAX} (the schema allows up to 1.8e308),
 *   or a coin the operator does not know, gives `Ready=False` with reason `InvalidAmount` or
 *   `InvalidCoin` and a message with the fix; the value is removed rather than left showing a
 *   number for another spec.
 * - `problems` lists what newly went wrong in this evaluation (a transition, never a repeat), for
 *   one Warning Event and one log line each.
 */
import { findCondition, setCondition, type Condition } from 'operon-k8s';
import { coinValue, Decimal, DecimalError, formatChange, formatUsd, valueChange, type PriceReading } from './price/index.ts';
import { COINS, LEGACY_ANNOTATIONS, type Coin, type CryptoValueCalculatorStatus } from './resource.ts';

/**
 * The largest amount valued: 10^15 coins. No supported coin has that many (shiba-inu, the most
 * numerous, was minted as exactly one quadrillion), and up to 2^53 ≈ 9×10^15 the double the API
 * server stores holds every whole amount exactly, so anything larger is a mistake, not a holding.
 */
export const AMOUNT_MAX = Decimal.parse('1e15');

/** Condition types the operator owns. */
export const READY = 'Ready';
export const PRICE_STALE = 'PriceStale';
export const PRICE_MISSING = 'PriceMissing';

/** A spec the operator can value, or why not. */
export type ParsedSpec = { ok: true; coin: Coin; amount: Decimal } | { ok: false; reason: 'InvalidAmount' | 'InvalidCoin'; message: string };

/** What the evaluation reads of a CVC. */
export interface ValuedObject {
  metadata: { name: string; namespace?: string; generation?: number; annotations?: Record<string, string> };
  spec?: { coin?: unknown; amount?: unknown };
  status?: Partial<CryptoValueCalculatorStatus> & Record<string, unknown>;
}

/** Something that newly went wrong: one Warning Event and one log line. */
export interface Problem {
  reason: string;
  message: string;
}

/** The writes an evaluation asks for. */
export type Valuation =
  | { kind: 'unchanged' }
  | {
      kind: 'write';
      /** Merge-patch values for `metadata.annotations` (null removes): only to remove legacy annotations. */
      annotations: Record<string, string | null>;
      /** Merge-patch values for `status` (null removes). */
      status: Record<string, unknown>;
      problems: Problem[];
    };

/**
 * Checks `spec.coin` and `spec.amount`.
 *
 * @example
 * ```ts
 * parseSpec({ coin: 'bitcoin', amount: 0.0023 }); // { ok: true, coin: 'bitcoin', amount: Decimal 0.0023 }
 * parseSpec({ coin: 'bitcoin', amount: 1e308 }).ok; // false: InvalidAmount
 * ```
 */
export function parseSpec(spec: ValuedObject['spec']): ParsedSpec {
  const coin = spec?.coin;
  if (typeof coin !== 'string' || !(COINS as readonly string[]).includes(coin)) {
    return { ok: false, reason: 'InvalidCoin', message: `spec.coin ${JSON.stringify(coin)} is not one of ${COINS.join(', ')}; set spec.coin to one of them` };
  }
  const raw = spec?.amount;
  let amount: Decimal | undefined;
  try {
    amount = typeof raw === 'number' || typeof raw === 'string' ? Decimal.parse(raw) : undefined;
  } catch (error) {
    if (!(error instanceof DecimalError)) throw error;
  }
  const fix = `set spec.amount to the number of coins held, from 0 to ${AMOUNT_MAX.toString()}`;
  if (amount === undefined) return { ok: false, reason: 'InvalidAmount', message: `spec.amount ${JSON.stringify(raw)} is not a number; ${fix}` };
  if (amount.sign < 0) return { ok: false, reason: 'InvalidAmount', message: `spec.amount ${String(raw)} is negative; ${fix}` };
  if (amount.compare(AMOUNT_MAX) > 0) {
    return { ok: false, reason: 'InvalidAmount', message: `spec.amount ${String(raw)} is more ${coin} than exists (at most ${AMOUNT_MAX.toString()} is valued); ${fix}` };
  }
  return { ok: true, coin: coin as Coin, amount };
}

/** Options of {@link valuate}. */
export interface ValuateOptions {
  /** Now, in ms since the epoch. */
  now: number;
  /** The refresh interval: the unit of the stale age's steps. */
  refreshMs: number;
}

/**
 * The writes that make `cvc` show its value for `reading` (undefined when the spec is invalid or
 * no price could be asked for).
 *
 * @example
 * ```ts
 * const spec = parseSpec(cvc.spec);
 * const reading = spec.ok ? await prices.get(spec.coin) : undefined;
 * const v = valuate(cvc, spec, reading, { now: Date.now(), refreshMs: 60_000 });
 * if (v.kind === 'write') Object.assign(patch.status, v.status); // and v.annotations, when any
 * ```
 */
export function valuate(cvc: ValuedObject, spec: ParsedSpec, reading: PriceReading | undefined, options: ValuateOptions): Valuation {
  const status = cvc.status ?? {};
  const annotations = cvc.metadata.annotations ?? {};
  const generation = cvc.metadata.generation;
  const sameSpec = generation !== undefined && status.observedGeneration === generation;
  const at = new Date(options.now);
  const patchAnnotations: Record<string, string | null> = {};
  const patchStatus: Record<string, unknown> = {};
  const before = status.conditions as Condition[] | undefined;
  let conditions = before;
  const set = (type: string, value: boolean, reason: string, message: string): void => {
    conditions = setCondition(conditions, { type, status: value, reason, message, observedGeneration: generation }, at);
  };
  const write = (key: keyof CryptoValueCalculatorStatus, value: unknown): void => {
    if (JSON.stringify(status[key] ?? null) !== JSON.stringify(value)) patchStatus[key] = value;
  };
  const clearValue = (): void => {
    for (const key of ['value', 'change', 'exactValue', 'exactChange', 'price', 'priceTime', 'lastUpdated'] as const) write(key, null);
  };

  if (!spec.ok) {
    set(READY, false, spec.reason, spec.message);
    conditions = conditions?.filter((c) => c.type !== PRICE_STALE && c.type !== PRICE_MISSING);
    clearValue();
  } else if (reading?.state === 'fresh' || reading?.state === 'stale') {
    const value = coinValue(spec.amount, reading.price.price);
    const previous = sameSpec && typeof status.exactValue === 'string' ? tryParse(status.exactValue) : undefined;
    if (!sameSpec || previous === undefined || !previous.equals(value)) {
      const change = previous === undefined ? undefined : valueChange(previous, value);
      write('value', formatUsd(value));
      write('change', change === undefined ? null : formatChange(change));
      write('exactValue', value.toString());
      write('exactChange', change === undefined ? null : { absolute: change.absolute.toString(), ...(change.percent ? { percent: change.percent.toString() } : {}) });
      write('price', reading.price.price.toString());
      write('priceTime', rfc3339(new Date(reading.fetchedAt)));
      write('lastUpdated', rfc3339(at));
    }
    set(READY, true, 'ValueComputed', `the value of ${spec.amount.toString()} ${spec.coin} is computed from its USD price`);
    if (reading.state === 'fresh') {
      set(PRICE_STALE, false, 'PriceFresh', 'the price is up to date');
      set(PRICE_MISSING, false, 'CoinListed', `the price API lists ${spec.coin}`);
    } else {
      const why = reading.reason;
      const age = `the value uses the ${spec.coin} price fetched at ${rfc3339(new Date(reading.fetchedAt))}, over ${formatDuration(ageStep(reading.ageMs, options.refreshMs))} old`;
      if (why?.kind === 'Missing') {
        set(PRICE_STALE, true, 'CoinNotListed', `${age}: ${why.message}`);
        set(PRICE_MISSING, true, 'CoinNotListed', `${why.message}. ${why.hint}`);
      } else {
        set(PRICE_STALE, true, why?.kind ?? 'PriceOld', why ? `${age}: ${why.message} ${why.hint}` : `${age}: no refresh succeeded since`);
        set(PRICE_MISSING, false, 'CoinListed', `the price API lists ${spec.coin}`);
      }
    }
  } else {
    // No price at all. A value computed for this very spec (by an earlier run) stays, marked
    // stale; one computed for an older spec would be wrong and goes.
    if (!sameSpec) clearValue();
    if (reading?.state === 'missing') {
      const message = `the price API does not list ${spec.coin}; the value is shown again once it does`;
      set(READY, false, 'PriceMissing', message);
      set(PRICE_MISSING, true, 'CoinNotListed', message);
    } else {
      const why = reading?.reason;
      const message = why ? `no ${spec.coin} price yet: ${why.message} ${why.hint}` : `no ${spec.coin} price yet`;
      set(READY, false, 'PriceUnavailable', message);
      set(PRICE_MISSING, false, 'CoinListed', `the price API is not known to omit ${spec.coin}`);
    }
    set(PRICE_STALE, true, reading?.state === 'missing' ? 'CoinNotListed' : (reading?.reason?.kind ?? 'NoPrice'), 'no price has been obtained since the operator started');
  }

  if (generation !== undefined) write('observedGeneration', generation);
  for (const key of LEGACY_ANNOTATIONS) if (annotations[key] !== undefined) patchAnnotations[key] = null;
  if (conditions !== before) patchStatus['conditions'] = conditions;
  if (Object.keys(patchAnnotations).length === 0 && Object.keys(patchStatus).length === 0) return { kind: 'unchanged' };
  return { kind: 'write', annotations: patchAnnotations, status: patchStatus, problems: problems(before, conditions) };
}

/** Transitions into trouble: Ready turning False (or False for a new reason), PriceStale or PriceMissing turning True. */
function problems(before: Condition[] | undefined, after: Condition[] | undefined): Problem[] {
  const out: Problem[] = [];
  const entered = (type: string, status: 'True' | 'False'): Condition | undefined => {
    const now = findCondition(after, type);
    const then = findCondition(before, type);
    if (now?.status !== status || (then?.status === status && then.reason === now.reason)) return undefined;
    return now;
  };
  const ready = entered(READY, 'False');
  if (ready) out.push({ reason: ready.reason, message: ready.message });
  const stale = entered(PRICE_STALE, 'True');
  if (stale && !ready) out.push({ reason: PRICE_STALE, message: stale.message });
  const missing = entered(PRICE_MISSING, 'True');
  if (missing && !ready) out.push({ reason: PRICE_MISSING, message: missing.message });
  return out;
}

/**
 * The largest `refreshMs × 2^k` (k ≥ 0) not above `ageMs`, or `refreshMs` for a younger price.
 *
 * @example
 * ```ts
 * ageStep(150_000, 60_000); // 120_000
 * ```
 */
export function ageStep(ageMs: number, refreshMs: number): number {
  let step = refreshMs;
  while (step * 2 <= ageMs) step *= 2;
  return step;
}

/**
 * `1h4m`, `2m`, `4s`.
 *
 * @example
 * ```ts
 * formatDuration(3_840_000); // '1h4m'
 * ```
 */
export function formatDuration(ms: number): string {
  let seconds = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  if (seconds > 0 || parts.length === 0) parts.push(`${seconds}s`);
  return parts.join('');
}

/** RFC 3339 in UTC with whole seconds, as Kubernetes writes times. */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function tryParse(text: string): Decimal | undefined {
  try {
    return Decimal.parse(text);
  } catch {
    return undefined;
  }
}
