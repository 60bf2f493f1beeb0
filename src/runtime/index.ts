/**
 * The runtime layer: the {@link Operator} that runs a registry's handlers against a cluster (one
 * watch and one engine controller per resource, owned resources mapped to owners, timers and
 * daemons per object, graceful shutdown, leader election), {@link runUntilSignalled} for running
 * it as a process, its health checks, and the RBAC it needs. This file only re-exports; each
 * module states its own guarantees.
 */
export {
  Operator,
  type LeaderElectionOptions,
  type LeaderElectionStatus,
  type OperatorHealth,
  type OperatorOptions,
  type OperatorPhase,
  type PostedEvent,
} from './operator.ts';
export {
  decideLease,
  defaultIdentity,
  kubeLeaseLock,
  LeaderElector,
  LeadershipLostError,
  LEASES_RESOURCE,
  microTime,
  validateTimings,
  type LeaderCallbacks,
  type LeaderElectionMetrics,
  type LeaderElectorOptions,
  type LeaseDecision,
  type LeaseLock,
  type LeaseRecord,
  type ObservedLease,
  type StoredLease,
} from './leader-election.ts';
export { addOperatorChecks } from './probes.ts';
export { mergeRules, rbacFor, registryRules, type RbacOptions, type RbacRule } from './rbac.ts';
export { runUntilSignalled } from './signals.ts';
export { ResourceRuntime, type ResourceRuntimeOptions } from './resource.ts';
export { ObjectWriter, StaleObjectError } from './writer.ts';
export { ObjectTasks, type TaskRunner } from './tasks.ts';
