/**
 * What handlers need to post Kubernetes Events, as an interface: the implementation (with
 * aggregation of repeats) lives above this layer and is injected by the runtime. Guarantee of
 * every implementation: posting never throws into a handler and never blocks it; a failure to post
 * is logged by the recorder.
 */
import type { KubeObject } from '../client/types.ts';

/** Posts Events about objects. */
export interface Recorder {
  /** A `Normal` Event. */
  info(object: KubeObject, reason: string, message: string): void;
  /** A `Warning` Event. */
  warn(object: KubeObject, reason: string, message: string): void;
  /** A `Warning` Event for an error, with its message (Kubernetes knows no `Error` type). */
  exception(object: KubeObject, reason: string, error: unknown): void;
}

/**
 * A recorder that posts nothing, for handlers run without an API server (unit tests).
 *
 * @example
 * ```ts
 * const recorder = silentRecorder;
 * recorder.warn(body, 'Ignored', 'nothing is posted');
 * ```
 */
export const silentRecorder: Recorder = { info() {}, warn() {}, exception() {} };
