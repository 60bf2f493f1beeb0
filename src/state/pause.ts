/**
 * The pause annotation: `<prefix>/paused` on an object tells Operon to leave it alone. While it
 * is there, no handler of the object runs (changing, reconcile, event handlers, timers, daemons),
 * Operon's finalizer stays (so a deletion waits for the pause to end and the delete handlers to
 * run), and nothing is written to the object. Any value but `"false"` pauses. The annotation is
 * Operon's own, so adding or removing it is not a change update handlers see.
 *
 * Wanted in every framework's tracker and built into none: an operator-level switch to stop
 * reconciling one object (a manual repair, a migration, a misbehaving resource) without scaling
 * the operator to zero or removing the finalizer by hand.
 */
import type { KubeObject } from '../client/types.ts';
import { defaults } from '../defaults.ts';

/**
 * The pause annotation's key.
 *
 * @example
 * ```ts
 * pauseKey(); // 'operon.dev/paused'
 * ```
 */
export function pauseKey(prefix: string = defaults.state.prefix): string {
  return `${prefix}/paused`;
}

/**
 * True while `body` carries the pause annotation with any value but `"false"`.
 *
 * @example
 * ```ts
 * isPaused({ metadata: { annotations: { 'operon.dev/paused': 'true' } } }); // true
 * ```
 */
export function isPaused(body: KubeObject, prefix: string = defaults.state.prefix): boolean {
  const value = body.metadata?.annotations?.[pauseKey(prefix)];
  return value !== undefined && value !== 'false';
}
