/**
 * The watcher as a pure state machine: `step(state, input, config)` returns the next state, the IO
 * the driver must perform next (effects) and what the consumer learns (events). Nothing here
 * touches the network, a timer or randomness, so every transition is tested as a table.
 *
 * Guarantees, given a driver that performs the effects and feeds back their outcome:
 * - The initial state of the world is delivered as `Init`, `InitApply`× n, `InitDone`, from a paged
 *   LIST (`limit = pageSize`, following `continue`) or, when enabled, a streaming list
 *   (`sendInitialEvents`), ending at the bookmark annotated `k8s.io/initial-events-end`.
 * - Afterwards changes arrive as `Apply`/`Delete` from a WATCH that starts at the list's
 *   resourceVersion, always with bookmarks on and a server timeout, and resumes from the newest
 *   resourceVersion seen (bookmarks included) after the stream ends or stalls, without relisting.
 * - A resourceVersion the server no longer has (410/Expired, at connect or as an in-stream ERROR
 *   event) or does not have yet (504 ResourceVersionTooLarge) leads to a full relist; anything not
 *   seen between that `Init` and `InitDone` is gone and must be treated as deleted (the store does).
 *   Two such expirations with no progress in between go through the backoff, so a lagging API
 *   server cannot make us relist in a tight loop.
 * - An expired `continue` token restarts the LIST from its first page.
 * - Every other failure keeps the current step and asks for a backoff before retrying it. There is
 *   no terminal state: the machine never gives up.
 * - A refused streaming list (400/403/405/422) falls back to LIST+WATCH for good.
 * - At most one IO effect (`List`, `Watch` or `Backoff`) per step; no effect at all means "keep
 *   reading the open stream".
 *
 * Caveat: `Init` may be emitted again before `InitDone` (a restarted list); each `Init` discards
 * whatever was buffered since the previous one.
 */
import type { KubeObject, ListOptions, ObjectList, WatchEvent, WatchOptions } from '../client/types.ts';
import { INITIAL_EVENTS_END_ANNOTATION } from '../client/types.ts';
import { ApiError, errorFromStatus } from '../client/errors.ts';
import { defaults } from '../defaults.ts';

/** What a watcher watches and how; fixed for its lifetime. */
export interface WatchConfig {
  /** Namespace to watch; omitted for all namespaces or a cluster-scoped resource. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** LIST page size; 0 asks for one unpaginated response. Default: {@link defaults}.watch.pageSize. */
  pageSize: number;
  /** Server-side watch timeout, 1..294 s. Default: {@link defaults}.watch.timeoutSeconds. */
  timeoutSeconds: number;
  /** Try the streaming initial list first. Default: {@link defaults}.watch.streamingList. */
  streamingList: boolean;
}

/**
 * Fills a {@link WatchConfig} from defaults and checks it.
 *
 * @example
 * ```ts
 * const config = watchConfig({ namespace: 'shop', labelSelector: 'app=web' });
 * config.pageSize; // 500
 * ```
 */
export function watchConfig(partial: Partial<WatchConfig> = {}): WatchConfig {
  const config: WatchConfig = {
    pageSize: partial.pageSize ?? defaults.watch.pageSize,
    timeoutSeconds: partial.timeoutSeconds ?? defaults.watch.timeoutSeconds,
    streamingList: partial.streamingList ?? defaults.watch.streamingList,
  };
  if (partial.namespace !== undefined) config.namespace = partial.namespace;
  if (partial.labelSelector !== undefined) config.labelSelector = partial.labelSelector;
  if (partial.fieldSelector !== undefined) config.fieldSelector = partial.fieldSelector;
  // kubernetes/kubernetes#6513: at 295 s and above, proxies and the server's own timeout race.
  if (!Number.isInteger(config.timeoutSeconds) || config.timeoutSeconds < 1 || config.timeoutSeconds >= 295) {
    throw new RangeError(`watch timeoutSeconds must be an integer in 1..294, got ${config.timeoutSeconds}`);
  }
  if (!Number.isInteger(config.pageSize) || config.pageSize < 0) {
    throw new RangeError(`watch pageSize must be a non-negative integer, got ${config.pageSize}`);
  }
  return config;
}

/** Fields every state carries across transitions. */
interface Memory {
  /** False once the server refused a streaming list: from then on, LIST+WATCH. */
  readonly streaming: boolean;
  /** Relists caused by expiry since the watch last made progress; guards against 410 loops. */
  readonly expiredInARow: number;
}

/** Before the first step. */
export interface EmptyState extends Memory {
  readonly phase: 'Empty';
}
/** A LIST page is being fetched; `continueToken` undefined means the first page. */
export interface ListingPageState extends Memory {
  readonly phase: 'ListingPage';
  readonly continueToken: string | undefined;
}
/** A streaming list is open; objects go to the consumer's buffer until the end bookmark. */
export interface StreamingInitialState extends Memory {
  readonly phase: 'StreamingInitial';
  /** Newest resourceVersion seen in the initial stream, used if the end bookmark lacks one. */
  readonly resourceVersion: string | undefined;
}
/** A watch is open (or being opened) from `resourceVersion`, the newest one seen. */
export interface WatchingState extends Memory {
  readonly phase: 'Watching';
  readonly resourceVersion: string;
}
/** Waiting for the driver's backoff; then `resume` is entered again. */
export interface BackingOffState extends Memory {
  readonly phase: 'BackingOff';
  readonly resume: ActiveState;
  /** True when entering `resume` starts a new list (emits `Init`). */
  readonly restart: boolean;
}

export type ActiveState = ListingPageState | StreamingInitialState | WatchingState;
export type WatcherState = EmptyState | ActiveState | BackingOffState;

/** What happened, as the driver tells the machine. */
export type WatcherInput<T extends KubeObject> =
  | { readonly type: 'Start' }
  | { readonly type: 'PageListed'; readonly list: ObjectList<T> }
  | { readonly type: 'Event'; readonly event: WatchEvent<T> }
  /** The open stream ended without error; `delivered` is how many events it carried. */
  | { readonly type: 'StreamEnded'; readonly delivered: number }
  /** The pending LIST, the WATCH connect or the open stream failed. */
  | { readonly type: 'RequestFailed'; readonly error: unknown }
  | { readonly type: 'BackoffElapsed' }
  /** The open stream delivered nothing for the idle timeout. */
  | { readonly type: 'IdleTimeout' };

/** IO the driver performs next. Options never include a signal: the driver adds its own. */
export type WatcherEffect =
  | { readonly type: 'List'; readonly options: ListOptions }
  | { readonly type: 'Watch'; readonly options: WatchOptions }
  /** Abort the open stream (before the next IO effect, if any). */
  | { readonly type: 'CloseWatch' }
  /** Sleep for the driver's next backoff delay, at least `retryAfterMs` when the server asked. */
  | { readonly type: 'Backoff'; readonly retryAfterMs?: number };

/** What the consumer learns, as in kube-rs `watcher::Event`. */
export type WatcherEvent<T extends KubeObject> =
  | { readonly type: 'Init' }
  | { readonly type: 'InitApply'; readonly object: T }
  | { readonly type: 'InitDone' }
  | { readonly type: 'Apply'; readonly object: T }
  | { readonly type: 'Delete'; readonly object: T };

/** How the machine is recovering from a failure, for logs and counters. */
export type Recovery = 'relist' | 'restart-list' | 'rewatch' | 'retry' | 'fallback-to-list';

export interface StepResult<T extends KubeObject> {
  readonly state: WatcherState;
  readonly effects: readonly WatcherEffect[];
  readonly events: readonly WatcherEvent<T>[];
  /** Set when the input was a failure (or a stall); the error is what the server said. */
  readonly failure?: { readonly error: unknown; readonly recovery: Recovery };
}

/**
 * The state before `Start`.
 *
 * @example
 * ```ts
 * const first = step(initialState(config), { type: 'Start' }, config);
 * first.effects; // [{ type: 'List', options: { limit: 500 } }]
 * ```
 */
export function initialState(config: WatchConfig): EmptyState {
  return { phase: 'Empty', streaming: config.streamingList, expiredInARow: 0 };
}

/**
 * True when the server no longer (410 Expired) or not yet (504 ResourceVersionTooLarge, a lagging
 * API server after failover) has the requested resourceVersion: both are cured by a fresh list.
 *
 * @example
 * ```ts
 * isStaleResourceVersion(new ApiError({ kind: 'Expired', code: 410, message: 'too old' })); // true
 * ```
 */
export function isStaleResourceVersion(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  if (error.kind === 'Expired') return true;
  if (error.kind !== 'Timeout') return false;
  return (
    error.causes.some((c) => c.reason === 'ResourceVersionTooLarge') ||
    /too large resource version/i.test(error.status?.message ?? error.message)
  );
}

/** The errors by which an API server refuses `sendInitialEvents` (feature gate off, old server, policy). */
function refusesStreaming(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    (error.kind === 'BadRequest' || error.kind === 'Invalid' || error.kind === 'Forbidden' || error.kind === 'MethodNotAllowed')
  );
}

function retryAfter(error: unknown): { retryAfterMs?: number } {
  return error instanceof ApiError && error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {};
}

function selectors(config: WatchConfig): { namespace?: string; labelSelector?: string; fieldSelector?: string } {
  const out: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {};
  if (config.namespace !== undefined) out.namespace = config.namespace;
  if (config.labelSelector !== undefined) out.labelSelector = config.labelSelector;
  if (config.fieldSelector !== undefined) out.fieldSelector = config.fieldSelector;
  return out;
}

/** The IO that the active state `s` waits on. */
export function effectFor(s: ActiveState, config: WatchConfig): WatcherEffect {
  switch (s.phase) {
    case 'ListingPage': {
      // resourceVersion stays unset: a consistent read, and the only form allowed with `continue`.
      const options: ListOptions = { ...selectors(config) };
      if (config.pageSize > 0) options.limit = config.pageSize;
      if (s.continueToken !== undefined) options.continue = s.continueToken;
      return { type: 'List', options };
    }
    case 'StreamingInitial':
      // resourceVersion unset = a consistent snapshot, as client-go does. Bookmarks are required:
      // the end of the initial events is a bookmark.
      return {
        type: 'Watch',
        options: {
          ...selectors(config),
          sendInitialEvents: true,
          resourceVersionMatch: 'NotOlderThan',
          allowWatchBookmarks: true,
          timeoutSeconds: config.timeoutSeconds,
        },
      };
    case 'Watching':
      // A resumed watch never asks for initial events again (kube-rs #1882).
      return {
        type: 'Watch',
        options: {
          ...selectors(config),
          resourceVersion: s.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: config.timeoutSeconds,
        },
      };
  }
}

function memory(s: Memory, patch: Partial<Memory> = {}): Memory {
  return { streaming: patch.streaming ?? s.streaming, expiredInARow: patch.expiredInARow ?? s.expiredInARow };
}

/** The first state of a (re)list: streaming when still allowed, else the first LIST page. */
function freshList(m: Memory): ListingPageState | StreamingInitialState {
  return m.streaming
    ? { phase: 'StreamingInitial', resourceVersion: undefined, ...memory(m) }
    : { phase: 'ListingPage', continueToken: undefined, ...memory(m) };
}

function enter<T extends KubeObject>(s: ActiveState, config: WatchConfig, init: boolean, extra: Partial<StepResult<T>> = {}): StepResult<T> {
  const events: WatcherEvent<T>[] = [...(extra.events ?? [])];
  if (init) events.push({ type: 'Init' });
  return { ...extra, state: s, effects: [...(extra.effects ?? []), effectFor(s, config)], events };
}

function backOff<T extends KubeObject>(
  resume: ActiveState,
  restart: boolean,
  error: unknown,
  recovery: Recovery,
  effects: WatcherEffect[] = [],
): StepResult<T> {
  return {
    state: { phase: 'BackingOff', resume, restart, ...memory(resume) },
    effects: [...effects, { type: 'Backoff', ...retryAfter(error) }],
    events: [],
    failure: { error, recovery },
  };
}

/** A stale resourceVersion: relist now, or after a backoff when the last relist made no progress. */
function relist<T extends KubeObject>(s: Memory, error: unknown, config: WatchConfig, closeFirst: boolean): StepResult<T> {
  const next = freshList(memory(s, { expiredInARow: s.expiredInARow + 1 }));
  const close: WatcherEffect[] = closeFirst ? [{ type: 'CloseWatch' }] : [];
  if (s.expiredInARow > 0) return backOff(next, true, error, 'relist', close);
  return enter(next, config, true, { effects: close, failure: { error, recovery: 'relist' } });
}

function resourceVersionOf(object: KubeObject): string | undefined {
  const rv = object.metadata?.resourceVersion;
  return rv === undefined || rv === '' ? undefined : rv;
}

/**
 * One transition. Pure: the same arguments always give the same result, and nothing is mutated.
 * Inputs that do not apply to the state (a late event after the stream was closed) are ignored.
 *
 * @example
 * ```ts
 * const config = watchConfig();
 * let r = step(initialState(config), { type: 'Start' }, config);      // Init, List page 1
 * r = step(r.state, { type: 'PageListed', list }, config);           // InitApply…, InitDone, Watch from list rv
 * r = step(r.state, { type: 'Event', event: { type: 'MODIFIED', object } }, config); // Apply
 * ```
 */
export function step<T extends KubeObject>(state: WatcherState, input: WatcherInput<T>, config: WatchConfig): StepResult<T> {
  const s = state;
  switch (s.phase) {
    case 'Empty':
      return input.type === 'Start' ? enter(freshList(s), config, true) : ignore(s);

    case 'BackingOff':
      if (input.type !== 'BackoffElapsed') return ignore(s);
      return enter({ ...s.resume, ...memory(s) }, config, s.restart);

    case 'ListingPage':
      return stepListing(s, input, config);

    case 'StreamingInitial':
      return stepStreaming(s, input, config);

    case 'Watching':
      return stepWatching(s, input, config);
  }
}

const ignore = <T extends KubeObject>(state: WatcherState): StepResult<T> => ({ state, effects: [], events: [] });

function stepListing<T extends KubeObject>(s: ListingPageState, input: WatcherInput<T>, config: WatchConfig): StepResult<T> {
  switch (input.type) {
    case 'PageListed': {
      const list = input.list;
      const events: WatcherEvent<T>[] = list.items.map((object) => ({ type: 'InitApply', object }));
      const token = list.metadata.continue;
      if (token !== undefined && token !== '') {
        return enter({ ...s, continueToken: token }, config, false, { events });
      }
      const rv = list.metadata.resourceVersion;
      if (rv === undefined || rv === '') {
        // Without a resourceVersion there is nothing to watch from; kube-rs resets on NoResourceVersion.
        const error = new Error('LIST response carried no metadata.resourceVersion');
        return { ...backOff(freshList(s), true, error, 'restart-list'), events };
      }
      events.push({ type: 'InitDone' });
      return enter({ phase: 'Watching', resourceVersion: rv, ...memory(s) }, config, false, { events });
    }
    case 'RequestFailed':
      if (isStaleResourceVersion(input.error) && s.continueToken !== undefined) {
        // The continue token outlived its snapshot ("five to fifteen minutes"): start over.
        return enter(freshList(s), config, true, { failure: { error: input.error, recovery: 'restart-list' } });
      }
      return backOff(s, false, input.error, 'retry');
    default:
      return ignore(s);
  }
}

function stepStreaming<T extends KubeObject>(s: StreamingInitialState, input: WatcherInput<T>, config: WatchConfig): StepResult<T> {
  switch (input.type) {
    case 'Event': {
      const event = input.event;
      switch (event.type) {
        case 'ADDED':
        case 'MODIFIED':
          return {
            state: { ...s, resourceVersion: resourceVersionOf(event.object) ?? s.resourceVersion },
            effects: [],
            events: [{ type: 'InitApply', object: event.object }],
          };
        case 'DELETED':
          // The initial events describe a snapshot; a deletion inside it is impossible (kube-rs logs
          // the same). The snapshot's end bookmark still decides what exists.
          return { state: { ...s, resourceVersion: resourceVersionOf(event.object) ?? s.resourceVersion }, effects: [], events: [] };
        case 'BOOKMARK': {
          const rv = resourceVersionOf(event.object) ?? s.resourceVersion;
          const ended = event.object.metadata?.annotations?.[INITIAL_EVENTS_END_ANNOTATION] === 'true';
          if (!ended) return { state: { ...s, resourceVersion: rv }, effects: [], events: [] };
          if (rv === undefined) {
            const error = new Error('initial-events-end bookmark carried no resourceVersion');
            return backOff(freshList(s), true, error, 'restart-list', [{ type: 'CloseWatch' }]);
          }
          // The stream goes on as an ordinary watch: no new request, just a new state.
          return { state: { phase: 'Watching', resourceVersion: rv, ...memory(s) }, effects: [], events: [{ type: 'InitDone' }] };
        }
        case 'ERROR':
          return streamingFailed(s, errorFromStatus(event.object), config, true);
      }
      break;
    }
    case 'RequestFailed':
      return streamingFailed(s, input.error, config, false);
    case 'StreamEnded':
    case 'IdleTimeout': {
      // The snapshot is incomplete and its resourceVersion unknown: start the initial list again.
      const close: WatcherEffect[] = input.type === 'IdleTimeout' ? [{ type: 'CloseWatch' }] : [];
      const failure = { error: new Error(input.type === 'IdleTimeout' ? 'initial event stream stalled' : 'initial event stream ended early'), recovery: 'restart-list' as const };
      if (input.type === 'StreamEnded' && input.delivered === 0) return backOff(freshList(s), true, failure.error, 'restart-list');
      return enter(freshList(s), config, true, { effects: close, failure });
    }
    default:
      return ignore(s);
  }
  return ignore(s);
}

function streamingFailed<T extends KubeObject>(s: StreamingInitialState, error: unknown, config: WatchConfig, inStream: boolean): StepResult<T> {
  const close: WatcherEffect[] = inStream ? [{ type: 'CloseWatch' }] : [];
  if (refusesStreaming(error)) {
    const next: ListingPageState = { phase: 'ListingPage', continueToken: undefined, ...memory(s, { streaming: false }) };
    return enter(next, config, true, { effects: close, failure: { error, recovery: 'fallback-to-list' } });
  }
  if (isStaleResourceVersion(error)) {
    return enter(freshList(s), config, true, { effects: close, failure: { error, recovery: 'restart-list' } });
  }
  return backOff(freshList(s), true, error, 'retry', close);
}

function stepWatching<T extends KubeObject>(s: WatchingState, input: WatcherInput<T>, config: WatchConfig): StepResult<T> {
  switch (input.type) {
    case 'Event': {
      const event = input.event;
      if (event.type === 'ERROR') {
        const error = errorFromStatus(event.object);
        if (isStaleResourceVersion(error)) return relist(s, error, config, true);
        // The server closes the stream after an ERROR event; resume from the same point.
        return backOff(s, false, error, 'retry', [{ type: 'CloseWatch' }]);
      }
      const rv = resourceVersionOf(event.object) ?? s.resourceVersion;
      const next: WatchingState = { ...s, resourceVersion: rv, expiredInARow: 0 };
      switch (event.type) {
        case 'ADDED':
        case 'MODIFIED':
          return { state: next, effects: [], events: [{ type: 'Apply', object: event.object }] };
        case 'DELETED':
          return { state: next, effects: [], events: [{ type: 'Delete', object: event.object }] };
        case 'BOOKMARK':
          return { state: next, effects: [], events: [] };
      }
      break;
    }
    case 'StreamEnded':
      // The healthy path: the server's timeout ended the stream. An empty stream is not healthy
      // (servers send a bookmark before their timeout), so it goes through the backoff: a proxy
      // that closes every watch at once must not make us spin.
      if (input.delivered === 0) return backOff(s, false, new Error('watch stream ended without any event'), 'rewatch');
      return enter({ ...s, expiredInARow: 0 }, config, false);
    case 'IdleTimeout':
      return enter(s, config, false, {
        effects: [{ type: 'CloseWatch' }],
        failure: { error: new Error('watch stream stalled: nothing received within the idle timeout'), recovery: 'rewatch' },
      });
    case 'RequestFailed':
      if (isStaleResourceVersion(input.error)) return relist(s, input.error, config, false);
      return backOff(s, false, input.error, 'retry');
    default:
      return ignore(s);
  }
  return ignore(s);
}
