/**
 * Durations as users write them: milliseconds as a number, or a string of one or more
 * `<number><unit>` parts with units `ms`, `s`, `m`, `h`, `d` (`'60s'`, `'5m'`, `'1h30m'`,
 * `'1.5s'`). Guarantee: anything else (negative, NaN, an unknown unit, an empty string) throws a
 * `RangeError` naming the value, at registration time, so a typo never becomes "fire at once".
 */

/** Milliseconds, or a string such as `'60s'`, `'5m'`, `'1h30m'`. */
export type Duration = number | string;

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration in milliseconds.
 *
 * @example
 * ```ts
 * parseDuration('90s');   // 90_000
 * parseDuration('1h30m'); // 5_400_000
 * parseDuration(250);     // 250
 * ```
 */
export function parseDuration(value: Duration, what = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${what}: ${value} is not a non-negative number of milliseconds`);
    return value;
  }
  const text = value.trim();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match !== null; match = part.exec(text)) {
    total += Number(match[1]) * (UNITS[match[2] as string] as number);
    consumed = part.lastIndex;
  }
  if (text === '' || consumed !== text.length) {
    throw new RangeError(`${what}: ${JSON.stringify(value)} is not a duration; write milliseconds as a number, or e.g. "500ms", "60s", "5m", "1h30m"`);
  }
  return Math.round(total);
}

/**
 * Like {@link parseDuration}, passing `undefined` through.
 *
 * @example
 * ```ts
 * optionalDuration(options.idle, 'timer idle'); // undefined or ms
 * ```
 */
export function optionalDuration(value: Duration | undefined, what?: string): number | undefined {
  return value === undefined ? undefined : parseDuration(value, what);
}
