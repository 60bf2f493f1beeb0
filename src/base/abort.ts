/**
 * Combining abort signals on a hot path. `AbortSignal.any` is the standard answer, but in Node
 * every listener added to the signal it returns registers that signal with two
 * FinalizationRegistries per source, and every `aborted` read re-checks each source. A reconcile's
 * signal gets a listener from every request and handler attempt it makes: measured, about 2% of a
 * 1,000-object burst's CPU (docs/performance.md). {@link firstOf} forwards with plain listeners
 * instead, for a caller that knows when it stops needing the signal.
 */

/**
 * A signal that aborts with the reason of whichever of `a` and `b` aborts first, until `release()`
 * (after which it follows neither). Already aborted: that signal itself, and `release` does nothing.
 *
 * @example
 * ```ts
 * const run = firstOf(context.signal, halt.signal);
 * try {
 *   await work(run.signal);
 * } finally {
 *   run.release();
 * }
 * ```
 */
export function firstOf(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; release: () => void } {
  if (a.aborted) return { signal: a, release: () => {} };
  if (b.aborted) return { signal: b, release: () => {} };
  const controller = new AbortController();
  const onA = (): void => controller.abort(a.reason);
  const onB = (): void => controller.abort(b.reason);
  a.addEventListener('abort', onA, { once: true });
  b.addEventListener('abort', onB, { once: true });
  return {
    signal: controller.signal,
    release: () => {
      a.removeEventListener('abort', onA);
      b.removeEventListener('abort', onB);
    },
  };
}
