/**
 * Kits: small helpers handlers use on the objects they manage. Adoption (ownerReferences,
 * namespace, labels, naming) so the garbage collector cleans up children; standard status
 * conditions; Kubernetes Events, aggregated and rate-limited. This file only re-exports; each
 * module states its own guarantees.
 */
export { applyOwned, type ApplyOwnedOptions } from './apply.ts';
export { adopt, controllerOf, isOwnedBy, ownerReferenceTo, AdoptError, type AdoptErrorKind, type AdoptOptions, type OwnerReference } from './adopt.ts';
export {
  setCondition,
  removeCondition,
  findCondition,
  isTrue,
  isFalse,
  ConditionError,
  type Condition,
  type ConditionStatus,
  type ConditionUpdate,
  type SetConditionOptions,
} from './conditions.ts';
export {
  EventRecorder,
  EVENTS_RESOURCE,
  truncateBytes,
  type CoreEvent,
  type EventClient,
  type EventRecorderOptions,
  type EventRecorderStats,
  type EventType,
} from './events.ts';
