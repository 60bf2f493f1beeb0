/**
 * Capped exponential backoff with jitter, the one schedule used for client retries, watch
 * reconnects and per-object failure requeues (each with its own numbers from `defaults.ts`).
 *
 * Guarantees: a delay is never below 0 or above `maxMs`; with `jitter: 'full'` a delay is uniform
 * in [0, d] (AWS "full jitter"), with `'proportional'` in [d/2, d], and with `'none'` exactly d,
 * where d = min(maxMs, initialMs × factor^attempt).
 */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Default 'proportional': never retries sooner than half the nominal delay. */
  jitter?: 'none' | 'full' | 'proportional';
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * The delay before retry number `attempt` (0-based).
 *
 * @example
 * ```ts
 * backoffDelay(3, { initialMs: 100, maxMs: 5_000, jitter: 'none' }); // 800
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const factor = options.factor ?? 2;
  // Guard the exponent so large attempt counts do not overflow to Infinity before the cap.
  const nominal = Math.min(options.maxMs, options.initialMs * factor ** Math.min(attempt, 64));
  const random = options.random ?? Math.random;
  switch (options.jitter ?? 'proportional') {
    case 'none':
      return nominal;
    case 'full':
      return Math.floor(random() * nominal);
    case 'proportional':
      return Math.floor(nominal / 2 + (random() * nominal) / 2);
  }
}

/**
 * A stateful backoff: `next()` grows the delay, `reset()` starts over. With `resetAfterMs`, a
 * success that has lasted that long (reported with `succeeded(now)`) resets it, as client-go's
 * reflector does, so a watch that failed once an hour does not creep to the cap.
 */
export class Backoff {
  #attempt = 0;
  #healthySince: number | undefined;
  readonly #options: BackoffOptions & { resetAfterMs?: number };

  constructor(options: BackoffOptions & { resetAfterMs?: number }) {
    this.#options = options;
  }

  /** Attempts made since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }

  next(now?: number): number {
    if (this.#healthySince !== undefined && now !== undefined && this.#options.resetAfterMs !== undefined) {
      if (now - this.#healthySince >= this.#options.resetAfterMs) this.#attempt = 0;
    }
    this.#healthySince = undefined;
    return backoffDelay(this.#attempt++, this.#options);
  }

  /** Marks the start of a healthy period (e.g. a watch connected). */
  succeeded(now: number): void {
    this.#healthySince ??= now;
  }

  reset(): void {
    this.#attempt = 0;
    this.#healthySince = undefined;
  }
}
