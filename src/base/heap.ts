/**
 * A memory-reducing garbage collection on request: what V8 does by itself when a page goes to
 * the background, and what its memory reducer should do once a burst of allocation is over but in
 * Node does not. The memory reducer decides from the allocation rate V8 recorded at its last
 * garbage collections; a process that goes quiet after a burst has no more collections, so that
 * rate stays the burst's and the reducer waits forever ("high alloc", `--trace-memory-reducer`),
 * with the burst's garbage, and the half-empty pages it left, resident (docs/performance.md).
 *
 * The collection is V8's "last resort" one (`CollectAllAvailableGarbage`): full collections that
 * compact every fragmented page and give the freed pages back, repeated while they free anything.
 * It runs on the main thread and blocks it (about 90 ms with 10,000 cached objects), so it is only
 * for a process that is idle anyway.
 */
type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

let collect: Collect | undefined;

/**
 * Runs V8's memory-reducing full garbage collection now, synchronously.
 *
 * V8's `gc` function exists only in contexts made while `--expose-gc` is set; the flag is set for
 * the one context made here and unset at once, so the process's own global gets no `gc` (the way
 * Jest's leak detector reaches it). With `node --expose-gc`, the global one is used.
 *
 * @example
 * ```ts
 * if (queue.idle) reduceHeap();
 * ```
 */
export function reduceHeap(): void {
  collect ??= exposedGc();
  collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

function exposedGc(): Collect {
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === 'function') return global as Collect;
  // Loaded here, not at import: an operator that never has a burst never loads them.
  const { setFlagsFromString } = process.getBuiltinModule('node:v8');
  const { runInNewContext } = process.getBuiltinModule('node:vm');
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as Collect;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
