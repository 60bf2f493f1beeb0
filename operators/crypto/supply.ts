/**
 * The admission check of the CVC: an amount beyond the coin's supply is refused at
 * `kubectl apply`, with a message naming the limit. It runs as a validating webhook, so the
 * object never reaches the API server's storage.
 *
 * Objects already stored keep today's behaviour (a `Ready=False`, `InvalidAmount` condition from
 * the operator): an UPDATE that leaves `coin` and `amount` as they were is always allowed, so the
 * operator's own writes (annotations, finalizers) and unrelated edits never fail on an old object.
 */
import type { AdmissionContext } from 'operon-k8s';
import { Decimal, DecimalError } from './price/index.ts';
import type { Coin, CryptoValueCalculatorObject } from './resource.ts';

/**
 * The most coins of each kind that can exist. Bitcoin's 21 million and Shiba Inu's 1 quadrillion
 * are fixed by their protocols (Shiba Inu's whole supply was minted at once). Ether and Dogecoin
 * have no cap: their limits are the circulating supply at the end of 2026 (about 121 million and
 * 150 billion) with room for years of issuance (Dogecoin adds 5 billion a year).
 */
export const SUPPLY: Readonly<Record<Coin, Decimal>> = {
  bitcoin: Decimal.parse('21000000'),
  ethereum: Decimal.parse('150000000'),
  dogecoin: Decimal.parse('200000000000'),
  'shiba-inu': Decimal.parse('1000000000000000'),
};

/**
 * The refusal for a spec, or `undefined` when the amount fits the coin's supply (or the coin is
 * unknown: the schema's enum refuses that with its own message).
 *
 * @example
 * ```ts
 * supplyRefusal({ coin: 'bitcoin', amount: 30000000 });
 * // 'spec.amount 30000000 is more than the supply of bitcoin (21000000 coins can exist); set an amount from 0 to 21000000'
 * ```
 */
export function supplyRefusal(spec: { coin?: unknown; amount?: unknown } | undefined): string | undefined {
  const coin = spec?.coin as Coin | undefined;
  const limit = coin !== undefined ? SUPPLY[coin] : undefined;
  const raw = spec?.amount;
  if (!limit || (typeof raw !== 'number' && typeof raw !== 'string')) return undefined;
  let amount: Decimal;
  try {
    amount = Decimal.parse(raw);
  } catch (error) {
    if (error instanceof DecimalError) return undefined; // the schema and the operator name a non-number
    throw error;
  }
  if (amount.compare(limit) <= 0) return undefined;
  return `spec.amount ${String(raw)} is more than the supply of ${coin} (${limit.toString()} coins can exist); set an amount from 0 to ${limit.toString()}`;
}

/**
 * The validate handler: refuses a create, or an update that changes coin or amount, past the supply.
 *
 * @example
 * ```ts
 * cvcs.validate(checkSupply, { id: 'supply' });
 * ```
 */
export function checkSupply({ operation, object, oldObject }: AdmissionContext<CryptoValueCalculatorObject>): string | undefined {
  const spec = object?.spec;
  const old = oldObject?.spec;
  if (operation === 'UPDATE' && old && spec && old.coin === spec.coin && String(old.amount) === String(spec.amount)) return undefined;
  return supplyRefusal(spec);
}
