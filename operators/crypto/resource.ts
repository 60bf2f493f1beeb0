/**
 * The CryptoValueCalculator custom resource (`cryptovaluecalculators.crypto.tools`, short names
 * `cvc` and `cvcs`): a holding of one coin whose USD value an operator keeps up to date.
 *
 * Compatible with the design document's CRD: the same group, version, names, the `coin` enum and
 * the required `coin` and `amount`, `spec` and `status` both keeping unknown fields, and the
 * printer columns Coin, Amount and Value. Additions, none of which breaks an object written for
 * the original: `amount` must not be negative, a `Change` column (the document's "future
 * improvement"), and a status subresource whose fields are declared.
 *
 * One difference: the Value column reads `status.value`, where the document's operator wrote a
 * `value` annotation. Everything the operator shows (value, change, conditions) then travels in
 * ONE write to the status subresource; with the annotation, each valuation cost two writes (the
 * annotation on the object, the conditions on the status subresource, which cannot carry
 * metadata), and the API server's write rate is what bounds a burst of new CVCs.
 *
 * `amount` is a JSON number, so the API server accepts up to about 1.8e308; amounts above
 * {@link AMOUNT_MAX} are refused by the operator with a condition rather than by the schema,
 * so that objects the original CRD accepted still load (see `valuation.ts`).
 *
 * `crypto.tools/v2` ({@link CryptoValueCalculatorV2}) is the same resource with `amount` an exact
 * decimal string (`"0.0023"`), so no digit is lost to a JSON double. v1 stays the storage version
 * (objects written for the design document are stored unchanged, and the API rules advise never
 * making a version storage in the release that adds it); {@link CryptoValueCalculators} converts.
 */
import { conditionList, conversion, conversionDataAnnotation, defineResource, defineVersions, Type, type ConditionShape, type ResourceObject, type Static } from 'operon-k8s';
import { Decimal, DecimalError, DECIMAL_LIMITS } from './price/decimal.ts';

/** The coins the document's CRD allows, as CoinGecko ids. */
export const COINS = ['bitcoin', 'ethereum', 'dogecoin', 'shiba-inu'] as const;
export type Coin = (typeof COINS)[number];

/**
 * Annotations the design document's operator wrote and the Value column used to read. The operator
 * removes them when it values an object that still has them, so no stale number stays behind.
 */
export const LEGACY_ANNOTATIONS = ['value', 'change'] as const;

/** A status condition, as `setCondition` writes it. */
export type Condition = ConditionShape;

export const CryptoValueCalculatorSpec = Type.Object(
  {
    coin: Type.Union(
      COINS.map((c) => Type.Literal(c)),
      { description: 'The specific crypto coin.' },
    ),
    amount: Type.Number({ minimum: 0, description: 'The amount of specified crypto currency.' }),
  },
  // As in the document's CRD: fields beyond coin and amount are kept, not pruned.
  { additionalProperties: true },
);

export const CryptoValueCalculatorStatus = Type.Object(
  {
    value: Type.Optional(Type.String({ description: 'The value in USD, four decimals rounded half-up: $94.8106. The Value column.' })),
    change: Type.Optional(Type.String({ description: 'How the value moved at its last update, while coin and amount stayed the same: +$4.7405 (+5.00%). The Change column.' })),
    exactValue: Type.Optional(Type.String({ description: 'amount × price in USD, every digit.' })),
    price: Type.Optional(Type.String({ description: 'The USD price of one coin the value was computed from, as the price API sent it.' })),
    priceTime: Type.Optional(Type.String({ format: 'date-time', description: 'When that price was fetched.' })),
    exactChange: Type.Optional(
      Type.Object(
        {
          absolute: Type.String({ description: 'exactValue − previous exactValue, in USD.' }),
          percent: Type.Optional(Type.String({ description: 'The change in percent of the previous value, two decimals; absent when that was zero.' })),
        },
        { description: 'The change, every digit.' },
      ),
    ),
    lastUpdated: Type.Optional(Type.String({ format: 'date-time', description: 'When the value last changed.' })),
    observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: 'int64', description: 'The .metadata.generation the value was computed for.' })),
    conditions: conditionList('Ready: the value is computed for the current spec. PriceStale: the price is older than it should be. PriceMissing: the price API does not list the coin.'),
  },
  // As in the document's CRD, and room for the results of handlers.
  { additionalProperties: true },
);
export type CryptoValueCalculatorStatus = Static<typeof CryptoValueCalculatorStatus>;

/**
 * The CryptoValueCalculator resource. `operon crd operators/crypto/resource.ts` prints its CRD.
 *
 * @example
 * ```ts
 * await client.create(CryptoValueCalculator, { metadata: { name: 'bitcoin-stash', namespace: 'default' }, spec: { coin: 'bitcoin', amount: 0.0023 } });
 * ```
 */
export const CryptoValueCalculator = defineResource({
  group: 'crypto.tools',
  version: 'v1',
  kind: 'CryptoValueCalculator',
  plural: 'cryptovaluecalculators',
  singular: 'cryptovaluecalculator',
  scope: 'Namespaced',
  shortNames: ['cvc', 'cvcs'],
  description: 'An amount of a crypto coin; an operator keeps its current USD value in its status.',
  spec: CryptoValueCalculatorSpec,
  status: CryptoValueCalculatorStatus,
  required: ['spec'],
  printerColumns: [
    { name: 'Coin', type: 'string', priority: 0, jsonPath: '.spec.coin', description: 'The specific crypto coin.' },
    { name: 'Amount', type: 'number', priority: 0, jsonPath: '.spec.amount', description: 'The amount of specified crypto currency.' },
    {
      name: 'Value',
      type: 'string',
      priority: 0,
      jsonPath: '.status.value',
      description: 'The current value of specified crypto currency based on given amount and market value in USD.',
    },
    {
      name: 'Change',
      type: 'string',
      priority: 0,
      jsonPath: '.status.change',
      description: 'How the value moved at its last update.',
    },
  ],
});

/** A CryptoValueCalculator as the API server returns it. */
export type CryptoValueCalculatorObject = ResourceObject<typeof CryptoValueCalculator>;

/** `spec` of `crypto.tools/v2`: as v1, with `amount` an exact, non-negative decimal string. */
export const CryptoValueCalculatorSpecV2 = Type.Object(
  {
    coin: CryptoValueCalculatorSpec.properties.coin,
    amount: Type.String({
      // Plain decimal notation: what `kubectl get` shows is what the operator values.
      pattern: '^(0|[1-9][0-9]*)(\\.[0-9]+)?$',
      maxLength: DECIMAL_LIMITS.maxTextLength,
      description: 'The amount of specified crypto currency, as an exact decimal: "0.0023".',
    }),
  },
  { additionalProperties: true },
);

/**
 * `crypto.tools/v2`: `amount` is an exact decimal string. Same names, status and columns as v1
 * (`kubectl get cvc` shows Coin, Amount, Value and Change for both).
 *
 * @example
 * ```ts
 * await client.create(CryptoValueCalculatorV2, { metadata: { name: 'exact', namespace: 'default' }, spec: { coin: 'bitcoin', amount: '0.00230000000000000001' } });
 * ```
 */
export const CryptoValueCalculatorV2 = defineResource({
  ...CryptoValueCalculator.declaration,
  version: 'v2',
  spec: CryptoValueCalculatorSpecV2,
  printerColumns: CryptoValueCalculator.printerColumns.map((c) => (c.name === 'Amount' ? { ...c, type: 'string' as const } : c)),
});

/** A v2 CryptoValueCalculator as the API server returns it. */
export type CryptoValueCalculatorV2Object = ResourceObject<typeof CryptoValueCalculatorV2>;

/**
 * The shortest plain decimal that reads back as `amount` (`0.0023`, never `2.3e-3`); a value that
 * is not a finite number is passed through for the schema to name.
 */
function exactFromNumber(amount: unknown): unknown {
  return typeof amount === 'number' && Number.isFinite(amount) ? Decimal.parse(amount).toString() : amount;
}

/** The nearest JSON number; text that is not a decimal passes through for the schema to name. */
function numberFromExact(amount: unknown): unknown {
  if (typeof amount !== 'string') return amount;
  try {
    return Decimal.parse(amount).toNumber();
  } catch (error) {
    if (error instanceof DecimalError) return amount;
    throw error;
  }
}

/**
 * Both versions of the CVC, v1 stored. A v2 amount with more digits than a double holds keeps
 * its exact text in `crypto.tools/conversion-data` on the stored v1 object, so v2 → v1 → v2
 * gives it back, and {@link exactAmount} lets the v1 operator value every digit.
 *
 * Both are served: `kubectl get cvc` asks for the preferred version (v2), which the API server
 * converts through the operator's webhook (`serveConversion` in operator.ts). While no operator
 * answers, reads in v2 fail; reads and writes in v1 (the storage version) need no conversion.
 */
export const CryptoValueCalculators = defineVersions({
  versions: [CryptoValueCalculator, CryptoValueCalculatorV2],
  storage: 'v1',
  conversions: [
    conversion(CryptoValueCalculator, CryptoValueCalculatorV2, {
      up: (o) => ({ ...o, spec: o.spec && { ...o.spec, amount: exactFromNumber(o.spec.amount) as string } }),
      down: (o) => ({ ...o, spec: o.spec && { ...o.spec, amount: numberFromExact(o.spec.amount) as number } }),
    }),
  ],
});

/**
 * The amount of a v1 CVC with every digit it was written with: the exact v2 text kept by
 * conversion when it still reads as the stored number, otherwise the number itself.
 *
 * @example
 * ```ts
 * parseSpec({ ...cvc.spec, amount: exactAmount(cvc) });
 * ```
 */
export function exactAmount(object: Pick<CryptoValueCalculatorObject, 'metadata' | 'spec'>): number | string | undefined {
  const stored = object.spec?.amount;
  const kept = object.metadata?.annotations?.[conversionDataAnnotation(CryptoValueCalculators)];
  if (kept === undefined || typeof stored !== 'number') return stored;
  try {
    const text = (JSON.parse(kept) as { v2?: { spec?: { amount?: unknown } } }).v2?.spec?.amount;
    // The kept text is only the truth while it still reads as the stored number (an edit in v1 wins).
    if (typeof text === 'string' && numberFromExact(text) === stored) return text;
  } catch {
    // A hand-edited annotation: the stored number is all there is.
  }
  return stored;
}
