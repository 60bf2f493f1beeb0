/**
 * The runtime layer: the {@link Operator} that runs a registry's handlers against a cluster (one
 * watch and one engine controller per resource, owned resources mapped to owners, timers and
 * daemons per object, graceful shutdown), and {@link runUntilSignalled} for running it as a
 * process. This file only re-exports; each module states its own guarantees.
 */
export { Operator, type OperatorHealth, type OperatorOptions, type OperatorPhase, type PostedEvent } from './operator.ts';
export { runUntilSignalled } from './signals.ts';
export { ResourceRuntime, type ResourceRuntimeOptions } from './resource.ts';
export { ObjectWriter, StaleObjectError } from './writer.ts';
export { ObjectTasks, type TaskRunner } from './tasks.ts';
