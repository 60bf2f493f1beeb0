/**
 * The handlers layer: how users describe what their operator does. `resource()` and its
 * `onCreate`/`onUpdate`/`onDelete`/`onResume`/`onField`/`onEvent`/`reconcile`/`timer`/`daemon`/
 * `owns` methods, operator-level `onStartup`/`onCleanup`/`probe`/`onLogin`, filters, durations,
 * the errors handlers throw, cause detection and handler selection, and one attempt of a handler
 * with its progress. It runs nothing by itself: the runtime drives it.
 */
export { parseDuration, optionalDuration, type Duration } from './duration.ts';
export { HandlerRetriesError, HandlerTimeoutError, PermanentError, TemporaryError } from './errors.ts';
export { ABSENT, PRESENT, matchMeta, matchValue, type MetaFilter, type ValueFilter } from './filters.ts';
export { silentRecorder, type Recorder } from './recorder.ts';
export { defineOperator, isOperatorDefinition, type OperatorDefinition, type OperatorScope } from './define.ts';
export {
  Registry,
  ResourceRegistration,
  defaultRegistry,
  resource,
  resourceKey,
  type OwnedResource,
  type RelatedResource,
  type ResourceHandlers,
  type ResourceOptions,
  type StateLocation,
} from './registry.ts';
export { deriveId, normalizeHandler } from './normalize.ts';
export { onCleanup, onLogin, onStartup, probe, schedule, serveConversion, type ActivityOptions, type ScheduleOptions } from './operator-handlers.ts';
export { detectCause, keepsDiffBase, matchesMeta, matchesObject, selectHandlers, type CauseInput, type Reason, type SelectedHandler, type SelectionInput } from './causes.ts';
export { attempt, classify, messageOf, startRecord, waitFor, type Attempt, type AttemptOptions, type Outcome } from './execution.ts';
export { objectContext, type ContextInput } from './context.ts';
export type {
  ChangeCause,
  ChangeContext,
  DaemonContext,
  DaemonOptions,
  DeleteOptions,
  ErrorOptions,
  EssenceOf,
  EventContext,
  EventOptions,
  FieldContext,
  FilterOptions,
  HandlerCache,
  HandlerFn,
  HandlerKind,
  HandlerOptions,
  HandlerSpec,
  LoginContext,
  ObjectContext,
  OperatorContext,
  OwnsOptions,
  ReconcileHandlerContext,
  CacheOptions,
  RelatedCacheOptions,
  ObjectFn,
  MetricFactory,
  RelatedContext,
  ReconcileReturn,
  ResumeOptions,
  TimerContext,
  TimerOptions,
} from './types.ts';
