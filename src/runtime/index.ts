/**
 * The runtime layer's public part: the {@link Operator} that runs a registry's handlers against a
 * cluster, {@link runUntilSignalled} for running it as a process, its health checks, and leader
 * election for embedding it. Everything else here (the per-resource runtime, the writer, the
 * tasks) is internal and imported by path inside `src/`. This file only re-exports.
 */
export {
  Operator,
  type LeaderElectionOptions,
  type LeaderElectionStatus,
  type ShardingOptions,
  type ShardingStatus,
  type OperatorHealth,
  type OperatorOptions,
  type OperatorPhase,
  type PostedEvent,
} from './operator.ts';
export { kubeLeaseLock, LeaderElector, LeadershipLostError, type LeaderElectorOptions, type LeaseLock } from './leader-election.ts';
export { addOperatorChecks } from './probes.ts';
export { runUntilSignalled } from './signals.ts';
