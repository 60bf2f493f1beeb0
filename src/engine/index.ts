/**
 * The engine: from keys to reconcile runs. A per-key work queue (dedupe, one run per key,
 * delayed and rate-limited requeues, priorities, fairness), the controller that runs reconciles
 * with bounded concurrency, timeouts and graceful shutdown, the mapping from owned objects to
 * their owners' keys, and the filter that keeps the operator's own writes from waking it.
 *
 * The engine knows objects only by key and by `KubeObject` shape; it imports nothing of the
 * watch layer, so it is tested on its own with a manual clock.
 */
export { keyOf, objectKey, parseKey, type KeyParts } from './keys.ts';
export { WorkQueue, type AddOptions, type Priority, type WorkQueueMetrics, type WorkQueueOptions } from './queue.ts';
export {
  Controller,
  ReconcileTimeoutError,
  ShutdownError,
  TerminalError,
  isTerminal,
  type ControllerMetrics,
  type ControllerOptions,
  type ReconcileContext,
  type ReconcileOutcome,
  type ReconcileResult,
  type Reconciler,
} from './controller.ts';
export { groupOf, ownerKeys, ownerMapper, type OwnerMappingOptions, type OwnerType } from './owners.ts';
export { MAX_WRITES_PER_OBJECT, OwnWriteTracker, type EchoEventType, type OwnWriteTrackerOptions } from './own-writes.ts';
