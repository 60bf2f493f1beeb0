/**
 * Operon's public API: what `import … from 'operon'` gives. Nothing internal is exported here;
 * each layer's own index decides what of it is public.
 */
export { defaults, type Defaults } from './defaults.ts';
export type { Clock } from './base/clock.ts';
export type { Logger } from './base/logger.ts';
export {
  KubeClient,
  ApiError,
  TransportError,
  ProtocolError,
  isApiError,
  isRetryable,
  type ApiErrorKind,
  type ClientOptions,
  type LoadOptions,
  type Patch,
  type JsonPatchOp,
} from './client/index.ts';
export type { KubeObject, Stored, ObjectList, WatchEvent, Status, ResourceRef } from './client/types.ts';
export {
  defineResource,
  builtin,
  toCrd,
  crdToYaml,
  SchemaError,
  type CustomResource,
  type ResourceObject,
  type ObjectOf,
  type PrinterColumn,
} from './schema/index.ts';
export { Type, type Static } from '@sinclair/typebox';
export {
  resource,
  onStartup,
  onCleanup,
  onLogin,
  probe,
  Registry,
  defaultRegistry,
  TemporaryError,
  PermanentError,
  HandlerTimeoutError,
  HandlerRetriesError,
  PRESENT,
  ABSENT,
  parseDuration,
  type ResourceHandlers,
  type ResourceOptions,
  type ActivityOptions,
  type Duration,
  type MetaFilter,
  type ValueFilter,
  type Recorder,
  type ChangeCause,
  type ChangeContext,
  type FieldContext,
  type EventContext,
  type ObjectContext,
  type ReconcileHandlerContext,
  type ReconcileReturn,
  type TimerContext,
  type DaemonContext,
  type OperatorContext,
  type LoginContext,
  type HandlerCache,
  type HandlerOptions,
  type DeleteOptions,
  type ResumeOptions,
  type EventOptions,
  type TimerOptions,
  type DaemonOptions,
  type OwnsOptions,
  type ErrorOptions,
  type FilterOptions,
  type EssenceOf,
} from './handlers/index.ts';
export type { Diff, DiffItem, ObjectPatch, MergePatch, MetadataPatch, ProgressRecord } from './state/index.ts';
export { Operator, runUntilSignalled, type OperatorOptions, type OperatorHealth, type OperatorPhase, type PostedEvent } from './runtime/index.ts';
