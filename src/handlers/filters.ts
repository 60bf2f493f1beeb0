/**
 * Filters that decide whether a handler applies to an object (kopf's `labels=`, `annotations=`,
 * `field=`/`value=` and `when=`): a label or annotation must equal a value, be {@link PRESENT},
 * be {@link ABSENT}, or satisfy a predicate; all entries must hold. A field filter without a value
 * means the field must be present. Guarantee: evaluating a filter never throws: a predicate that
 * throws counts as "does not match" (and the caller logs it).
 */

/** Matches when the key or field exists (an empty string counts as present). */
export const PRESENT: unique symbol = Symbol('operon.present');
/** Matches when the key or field does not exist. */
export const ABSENT: unique symbol = Symbol('operon.absent');

/** A filter on one value: an exact value, PRESENT, ABSENT, or a predicate. */
export type ValueFilter<V = unknown> = V | typeof PRESENT | typeof ABSENT | ((value: V | undefined) => boolean);

/** Filters on labels or annotations, by key. */
export type MetaFilter = Readonly<Record<string, string | typeof PRESENT | typeof ABSENT | ((value: string | undefined) => boolean)>>;

/**
 * True when `value` (with `present` telling whether it exists at all) satisfies `filter`.
 *
 * @example
 * ```ts
 * matchValue(PRESENT, '', true);                  // true
 * matchValue((v) => v === 'x', 'x', true);       // true
 * matchValue('a', undefined, false);             // false
 * ```
 */
export function matchValue(filter: unknown, value: unknown, present: boolean): boolean {
  if (filter === PRESENT) return present;
  if (filter === ABSENT) return !present;
  if (typeof filter === 'function') {
    try {
      return Boolean((filter as (v: unknown) => unknown)(value));
    } catch {
      return false;
    }
  }
  return present && JSON.stringify(filter) === JSON.stringify(value);
}

/**
 * True when every entry of `filter` holds for `values` (labels or annotations).
 *
 * @example
 * ```ts
 * matchMeta({ app: 'web', canary: ABSENT }, { app: 'web' }); // true
 * ```
 */
export function matchMeta(filter: MetaFilter | undefined, values: Readonly<Record<string, string>> | undefined): boolean {
  if (filter === undefined) return true;
  const map = values ?? {};
  return Object.entries(filter).every(([key, f]) => matchValue(f, map[key], Object.hasOwn(map, key)));
}
