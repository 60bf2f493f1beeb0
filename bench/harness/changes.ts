/**
 * Waiting for a tracker's view to reach a state: the tracker calls {@link Changes.notify} after
 * each event it applied, and {@link Changes.until} re-checks its predicate then (and at least once
 * a second), so a wait costs nothing between events and never misses the last one.
 */
export class Changes {
  #waiters: Array<() => void> = [];

  /** Wakes every waiter to re-check its predicate. */
  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves true once `reached()` holds, or false after `timeoutMs`. */
  async until(reached: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!reached()) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }
}
