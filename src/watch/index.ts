/**
 * The watch layer: list-then-watch that never goes dead (`Watcher`, driven by the pure state
 * machine of `machine.ts`), the cache it fills (`Store`), what to watch (`planWatches`) and the
 * wiring that keeps a cache and reports changes (`Reflector`). It depends only on `base`, the
 * client's types and errors, and `defaults`; the real client plugs in through `sourceFor`.
 */
export type {
  ActiveState,
  BackingOffState,
  EmptyState,
  ListingPageState,
  Recovery,
  StepResult,
  StreamingInitialState,
  WatchConfig,
  WatcherEffect,
  WatcherEvent,
  WatcherInput,
  WatcherState,
  WatchingState,
} from './machine.ts';
export { effectFor, initialState, isStaleResourceVersion, step, watchConfig } from './machine.ts';
export type { ListWatchSource, ResourceLister } from './source.ts';
export { sourceFor } from './source.ts';
export type { WatcherListener, WatcherOptions, WatcherStatus } from './watcher.ts';
export { defaultWatchBackoff, Watcher } from './watcher.ts';
export type { IndexFn, ObjectChange, ReadonlyStore, StoreOptions } from './store.ts';
export { Store, stripForCache } from './store.ts';
export type { PlannedWatch, WatchPlan, WatchScope } from './scope.ts';
export { formatSelector, namespaceMatcher, planWatches } from './scope.ts';
export type { ChangeSubscriber, ReflectorOptions, ReflectorStatus } from './reflector.ts';
export { Reflector } from './reflector.ts';
