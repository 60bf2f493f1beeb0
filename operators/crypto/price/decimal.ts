/**
 * Exact decimal arithmetic for "value = amount × price", so `kubectl get cvc` shows the digits a
 * person would get on paper (0.0023 × 41222 = 94.8106), never a binary-float echo such as
 * 94.81059999999999.
 *
 * Guarantees:
 * - A {@link Decimal} is an immutable BigInt coefficient and a base-10 scale; multiplication,
 *   addition and subtraction are exact; only {@link Decimal.round}, {@link Decimal.toFixed} and
 *   {@link Decimal.dividedBy} round, and they say how.
 * - Rounding is half-up (ties away from zero: 0.00005 → 0.0001, -0.00005 → -0.0001) unless
 *   `'half-even'` is asked for. Half-up is chosen because a value display is read by people, who
 *   expect the school rule; banker's rounding only pays off when many rounded values are summed.
 * - {@link Decimal.parse} accepts the JSON number grammar (including exponent notation such as
 *   `1e308` or `2.5E-7`) and refuses, with a {@link DecimalError}, text longer than
 *   {@link DECIMAL_LIMITS}.maxTextLength or a value whose plain form would need more than
 *   {@link DECIMAL_LIMITS}.maxIntegerDigits / maxFractionDigits. The limits cover every finite
 *   double (about 1.8e308 down to 5e-324), so anything JSON.parse could hold is accepted, while
 *   `1e1000000` is refused instead of becoming a megabyte string.
 * - Numbers that are already JS numbers (a CR's `spec.amount` after the Kubernetes client parsed
 *   it) are read through their shortest round-trip text (`String(n)`), which is exactly what the
 *   user wrote whenever that had at most 15 significant digits.
 */

/** Limits on text accepted by {@link Decimal.parse}; see the file comment for why these numbers. */
export const DECIMAL_LIMITS = {
  /** Characters of input. A JSON double never needs more than ~25; 1000 leaves room for exact decimals. */
  maxTextLength: 1000,
  /** Digits before the point in plain form: 1.8e308 (the largest double) needs 309. */
  maxIntegerDigits: 400,
  /** Digits after the point in plain form: 4.9406564584124654e-324 (the smallest double) needs 340. */
  maxFractionDigits: 400,
} as const;

/** How a value between two representable ones is settled. */
export type RoundingMode = 'half-up' | 'half-even';

export type DecimalErrorKind = 'Syntax' | 'OutOfRange' | 'DivisionByZero';

/**
 * A number that could not be read or computed. `kind` is for code, `message` and `hint` for people.
 *
 * @example
 * ```ts
 * try { Decimal.parse('1e999999'); } catch (e) { if (e instanceof DecimalError) e.kind; } // 'OutOfRange'
 * ```
 */
export class DecimalError extends Error {
  override readonly name = 'DecimalError';
  readonly kind: DecimalErrorKind;
  readonly hint: string;

  constructor(kind: DecimalErrorKind, message: string, hint: string) {
    super(message);
    this.kind = kind;
    this.hint = hint;
  }
}

// JSON's number grammar, captured: sign, integer part, fraction, exponent.
const NUMBER = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/;

const TEN = 10n;

function pow10(n: number): bigint {
  return TEN ** BigInt(n);
}

/**
 * An exact decimal: `coefficient × 10^-scale`, normalised so the scale is minimal (no trailing
 * zeros after the point) and never negative. Equal values therefore have equal fields.
 *
 * @example
 * ```ts
 * const value = Decimal.parse('0.0023').times(Decimal.parse('41222'));
 * value.toString();     // '94.8106'
 * value.toFixed(4);     // '94.8106'
 * formatUsd(value);     // '$94.8106'
 * ```
 */
export class Decimal {
  readonly coefficient: bigint;
  /** Digits after the decimal point; always ≥ 0. */
  readonly scale: number;

  private constructor(coefficient: bigint, scale: number) {
    // Normalising here keeps equality structural and the strings short.
    let c = coefficient;
    let s = scale;
    if (s < 0) {
      c *= pow10(-s);
      s = 0;
    }
    while (s > 0 && c % TEN === 0n) {
      c /= TEN;
      s--;
    }
    if (c === 0n) s = 0;
    this.coefficient = c;
    this.scale = s;
  }

  static readonly ZERO = new Decimal(0n, 0);

  /** `coefficient × 10^-scale`; a negative scale multiplies by a power of ten. */
  static of(coefficient: bigint, scale = 0): Decimal {
    return new Decimal(coefficient, scale);
  }

  /**
   * Reads JSON number text (`"0.0023"`, `"-1.5e-7"`, `"1E308"`) or a finite JS number.
   * Throws {@link DecimalError} for anything else or anything beyond {@link DECIMAL_LIMITS}.
   *
   * @example
   * ```ts
   * Decimal.parse('2.5e-3').toString(); // '0.0025'
   * Decimal.parse(1.47).toString();     // '1.47'
   * ```
   */
  static parse(input: string | number): Decimal {
    let text: string;
    if (typeof input === 'number') {
      if (!Number.isFinite(input)) {
        throw new DecimalError('Syntax', `${input} is not a finite number`, 'Give a finite decimal number such as 0.0023.');
      }
      text = String(input);
    } else {
      text = input.trim();
    }
    if (text.length > DECIMAL_LIMITS.maxTextLength) {
      throw new DecimalError(
        'OutOfRange',
        `number text is ${text.length} characters long; at most ${DECIMAL_LIMITS.maxTextLength} are accepted`,
        'Give the number with fewer digits.',
      );
    }
    const m = NUMBER.exec(text);
    if (m === null) {
      throw new DecimalError('Syntax', `${JSON.stringify(text.slice(0, 40))} is not a decimal number`, 'Write it as JSON does: 0.0023, 41222, 1.5e-7.');
    }
    const [, sign = '', intPart = '0', fraction = '', exponentText = '0'] = m;
    const digits = (intPart + fraction).replace(/^0+(?=[0-9])/, '');
    if (/^0*$/.test(digits)) return Decimal.ZERO; // 0e999999 is still zero; no need to range-check.
    // The exponent may be absurd ("1e999999999999"); a long exponent is out of range whatever the
    // mantissa, and a short one fits a double exactly.
    const exponentDigits = exponentText.replace(/^[+-]?0*/, '');
    if (exponentDigits.length > 6) throw outOfRange(text);
    const exponent = Number(exponentText);
    const scale = fraction.length - exponent;
    // Plain-form size: significant digits (trailing zeros aside) and where the point falls.
    const significant = digits.replace(/0+$/, '');
    const trailingZeros = digits.length - significant.length;
    const fractionDigits = Math.max(0, scale - trailingZeros);
    const integerDigits = digits.length - scale;
    if (integerDigits > DECIMAL_LIMITS.maxIntegerDigits || fractionDigits > DECIMAL_LIMITS.maxFractionDigits) {
      throw outOfRange(text);
    }
    const coefficient = BigInt(significant) * (sign === '-' ? -1n : 1n);
    return new Decimal(coefficient, scale - trailingZeros);
  }

  /** -1, 0 or 1. */
  get sign(): -1 | 0 | 1 {
    return this.coefficient < 0n ? -1 : this.coefficient > 0n ? 1 : 0;
  }

  isZero(): boolean {
    return this.coefficient === 0n;
  }

  negated(): Decimal {
    return new Decimal(-this.coefficient, this.scale);
  }

  abs(): Decimal {
    return this.coefficient < 0n ? this.negated() : this;
  }

  /** Exact product. */
  times(other: Decimal): Decimal {
    return new Decimal(this.coefficient * other.coefficient, this.scale + other.scale);
  }

  /** Exact sum. */
  plus(other: Decimal): Decimal {
    const scale = Math.max(this.scale, other.scale);
    return new Decimal(this.#at(scale) + other.#at(scale), scale);
  }

  /** Exact difference. */
  minus(other: Decimal): Decimal {
    return this.plus(other.negated());
  }

  /** -1, 0 or 1 as `this` is below, equal to or above `other`. */
  compare(other: Decimal): -1 | 0 | 1 {
    const scale = Math.max(this.scale, other.scale);
    const a = this.#at(scale);
    const b = other.#at(scale);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  equals(other: Decimal): boolean {
    return this.coefficient === other.coefficient && this.scale === other.scale;
  }

  /**
   * The quotient to `places` decimals. Division is the one operation that cannot be exact in
   * general, so it always rounds (by `mode`).
   *
   * @example
   * ```ts
   * Decimal.parse('1').dividedBy(Decimal.parse('3'), 4).toString(); // '0.3333'
   * ```
   */
  dividedBy(divisor: Decimal, places: number, mode: RoundingMode = 'half-up'): Decimal {
    if (divisor.isZero()) {
      throw new DecimalError('DivisionByZero', 'division by zero', 'Check for a zero divisor before dividing.');
    }
    checkPlaces(places);
    // this / divisor = (c1 / 10^s1) / (c2 / 10^s2); scaled by 10^places to keep `places` decimals.
    let numerator = this.coefficient * pow10(divisor.scale + places);
    let denominator = divisor.coefficient * pow10(this.scale);
    if (denominator < 0n) {
      numerator = -numerator;
      denominator = -denominator;
    }
    return new Decimal(divideRounded(numerator, denominator, mode), places);
  }

  /**
   * Rounds to `places` decimals (the result may show fewer: 1.5000 is 1.5).
   *
   * @example
   * ```ts
   * Decimal.parse('94.81055').round(4).toString(); // '94.8106'
   * ```
   */
  round(places: number, mode: RoundingMode = 'half-up'): Decimal {
    checkPlaces(places);
    if (this.scale <= places) return this;
    return new Decimal(divideRounded(this.coefficient, pow10(this.scale - places), mode), places);
  }

  /**
   * Plain text with exactly `places` decimals, rounded by `mode`; never exponent notation.
   *
   * @example
   * ```ts
   * Decimal.parse('4550.7672').toFixed(2); // '4550.77'
   * ```
   */
  toFixed(places: number, mode: RoundingMode = 'half-up'): string {
    const r = this.round(places, mode);
    return plain(r.#at(places), places);
  }

  /** Full precision in plain notation (`'0.00000002371'`, never `'2.371e-8'`). */
  toString(): string {
    return plain(this.coefficient, this.scale);
  }

  /** Serialises as a string so JSON (and a CR's status) keeps every digit. */
  toJSON(): string {
    return this.toString();
  }

  /** A binary float, for metrics gauges only: precision may be lost. */
  toNumber(): number {
    return Number(this.toString());
  }

  /** The coefficient at a scale ≥ this.scale. */
  #at(scale: number): bigint {
    return this.coefficient * pow10(scale - this.scale);
  }
}

function outOfRange(text: string): DecimalError {
  return new DecimalError(
    'OutOfRange',
    `${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)} is outside the accepted range ` +
      `(at most ${DECIMAL_LIMITS.maxIntegerDigits} digits before and ${DECIMAL_LIMITS.maxFractionDigits} after the point)`,
    'Give a number of realistic size.',
  );
}

function checkPlaces(places: number): void {
  if (!Number.isInteger(places) || places < 0 || places > DECIMAL_LIMITS.maxFractionDigits) {
    throw new DecimalError('OutOfRange', `cannot round to ${places} places`, `Use a whole number of places from 0 to ${DECIMAL_LIMITS.maxFractionDigits}.`);
  }
}

/** numerator / denominator (denominator > 0) rounded to an integer. */
function divideRounded(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  let q = n / denominator;
  const twiceRemainder = (n % denominator) * 2n;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && (mode === 'half-up' || q % 2n === 1n))) q += 1n;
  return negative ? -q : q;
}

function plain(coefficient: bigint, scale: number): string {
  const negative = coefficient < 0n;
  let digits = (negative ? -coefficient : coefficient).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

/** Decimals shown in the Value column (`status.value`), as in the design document's `$94.8106`. */
export const USD_DISPLAY_PLACES = 4;

/**
 * The value of `amount` coins at `price` each: exact, full precision.
 *
 * @example
 * ```ts
 * coinValue(Decimal.parse('1.47'), Decimal.parse('3095.76')).toString(); // '4550.7672'
 * ```
 */
export function coinValue(amount: Decimal, price: Decimal): Decimal {
  return amount.times(price);
}

/**
 * The annotation form: a dollar sign and four decimals, half-up; `-$1.0000` for negatives.
 *
 * @example
 * ```ts
 * formatUsd(Decimal.parse('94.8106')); // '$94.8106'
 * formatUsd(Decimal.parse('12'));      // '$12.0000'
 * ```
 */
export function formatUsd(value: Decimal, places: number = USD_DISPLAY_PLACES, mode: RoundingMode = 'half-up'): string {
  const text = value.abs().toFixed(places, mode);
  // Rounding can turn a tiny negative into zero; "-$0.0000" would be noise.
  const negative = value.sign < 0 && /[1-9]/.test(text);
  return `${negative ? '-' : ''}$${text}`;
}

/** How a value moved since the previous one. */
export interface ValueChange {
  /** current − previous, exact. */
  absolute: Decimal;
  /** (current − previous) / |previous| × 100 to `percentPlaces`; undefined when previous is zero. */
  percent: Decimal | undefined;
  direction: 'up' | 'down' | 'unchanged';
}

/** Decimals of a percentage change: two, as exchanges show "+3.64%"; the absolute change stays exact. */
export const PERCENT_PLACES = 2;

/**
 * The change from `previous` to `current`.
 *
 * @example
 * ```ts
 * const c = valueChange(Decimal.parse('94.8106'), Decimal.parse('99.5511'));
 * c.absolute.toString(); // '4.7405'
 * c.percent?.toString(); // '5'
 * formatChange(c);       // '+$4.7405 (+5.00%)'
 * ```
 */
export function valueChange(previous: Decimal, current: Decimal, percentPlaces: number = PERCENT_PLACES): ValueChange {
  const absolute = current.minus(previous);
  const percent = previous.isZero() ? undefined : absolute.times(Decimal.of(100n)).dividedBy(previous.abs(), percentPlaces);
  const direction = absolute.sign > 0 ? 'up' : absolute.sign < 0 ? 'down' : 'unchanged';
  return { absolute, percent, direction };
}

/**
 * A change for a printer column: `+$4.7405 (+5.00%)`, `-$0.0100 (-0.01%)`, `$0.0000 (0.00%)`.
 *
 * @example
 * ```ts
 * formatChange(valueChange(Decimal.parse('2'), Decimal.parse('1'))); // '-$1.0000 (-50.00%)'
 * ```
 */
export function formatChange(change: ValueChange, places: number = USD_DISPLAY_PLACES, percentPlaces: number = PERCENT_PLACES): string {
  const money = formatUsd(change.absolute, places);
  const signedMoney = money.startsWith('-') || !/[1-9]/.test(money) ? money : `+${money}`;
  if (change.percent === undefined) return signedMoney;
  const pct = change.percent.toFixed(percentPlaces);
  const signedPct = change.percent.sign > 0 ? `+${pct}` : pct;
  return `${signedMoney} (${signedPct}%)`;
}
