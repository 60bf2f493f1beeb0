/**
 * Kubernetes Events about objects, as `kubectl describe` and `kubectl get events` show them: core
 * `v1` Events with `involvedObject` (apiVersion, kind, name, namespace, uid, resourceVersion),
 * `source.component` and `reportingComponent` (the operator's name) and `reportingInstance`.
 *
 * Guarantees:
 * - **Never throws into the caller.** {@link EventRecorder.info}, `warn` and `exception` return at
 *   once; posting happens in the background. A failed post is logged, at most once per
 *   {@link defaults}.kits.eventFailureLogIntervalMs, with the number of failures not logged since.
 * - **Aggregated repeats** (client-go's `EventCorrelator`, kube-rs' `Recorder` series): the same
 *   (object, type, reason, message) within {@link defaults}.kits.eventAggregationWindowMs of its
 *   last occurrence patches `count` and `lastTimestamp` of the Event already posted instead of
 *   creating another. After the window, or when the old Event is gone (the API server deletes
 *   Events after `--event-ttl`, 1 h by default), a new Event starts.
 * - **Per-object spam filter**, client-go's `EventSourceObjectSpamFilter` defaults: a token bucket
 *   per object (all types, reasons and messages together) with a burst of 25 posts, refilled at one
 *   post per 5 minutes. A repeat the filter holds back is still counted: the next post that gets
 *   through carries the full count. A new message the filter holds back is posted only if it
 *   repeats once tokens are back; otherwise it is dropped (and logged at debug).
 * - **Bounded memory.** Recent Events and spam buckets each live in an LRU of
 *   {@link defaults}.kits.eventCacheSize entries (client-go: 4096). Posts are made one at a time
 *   from a queue of those entries, so the queue is bounded by the LRU and repeats waiting in it
 *   coalesce into one post.
 * - **Within API limits.** Messages are middle-truncated to 1 KiB of UTF-8 (the API's
 *   `NoteLengthLimit`, which also binds the newer Event API, so Events stay valid if posting
 *   moves to events.k8s.io), reasons to 128 bytes (`ReasonLengthLimit`). An Event's namespace is its object's, or `default` for cluster-scoped
 *   objects (as client-go does). Events about Events are never posted (kopf's rule against storms).
 *
 * Caveat: Events are best effort by design (client-go drops them too); never use them as state.
 * client-go also folds events that differ only in message into one after 10 in 10 minutes; we do
 * not, as the spam filter already bounds them.
 */
import { hostname } from 'node:os';
import { systemClock, type Clock } from '../base/clock.ts';
import { silentLogger, type Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import { isApiError } from '../client/errors.ts';
import type { KubeObject, ResourceRef } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.d.ts';

export type { CoreEvent };

/** The core `v1` Event type. The API accepts only these two. */
export type EventType = 'Normal' | 'Warning';

/** What the recorder needs of a client: {@link KubeClient} fits, and so does a test fake. */
export type EventClient = Pick<KubeClient, 'create' | 'patch'>;

/** The `events` resource of the core group. */
export const EVENTS_RESOURCE: ResourceRef = Object.freeze({ group: '', version: 'v1', plural: 'events', namespaced: true });

/** Options of an {@link EventRecorder}. */
export interface EventRecorderOptions {
  client: EventClient;
  /** The operator's name: `source.component` and `reportingComponent`, shown as "From" by kubectl. */
  component: string;
  /** This replica: `reportingInstance`. Default: the host name (the pod name in a pod). */
  instance?: string;
  clock?: Clock;
  logger?: Logger;
  /** Default {@link defaults}.kits.eventAggregationWindowMs. */
  aggregationWindowMs?: number;
  /** Default {@link defaults}.kits.eventCacheSize. */
  cacheSize?: number;
  /** Default {@link defaults}.kits.eventSpamBurst. */
  spamBurst?: number;
  /** Default {@link defaults}.kits.eventSpamRefillMs. */
  spamRefillMs?: number;
  /** Default {@link defaults}.kits.eventMessageMaxBytes. */
  messageMaxBytes?: number;
  /** Default {@link defaults}.kits.eventFailureLogIntervalMs. */
  failureLogIntervalMs?: number;
}

/** Counters of what a recorder did, for tests and metrics. */
export interface EventRecorderStats {
  /** Events created. */
  created: number;
  /** Count updates patched onto existing Events. */
  patched: number;
  /** Occurrences held back by the spam filter. */
  throttled: number;
  /** Posts that failed. */
  failed: number;
  /** Calls ignored: an object without a name, or an Event about an Event. */
  ignored: number;
}

/** One (object, type, reason, message) series. */
interface Series {
  readonly key: string;
  readonly objectKey: string;
  readonly body: CoreEvent;
  /** Name of the posted Event, once created. */
  name: string | undefined;
  count: number;
  firstAt: number;
  lastAt: number;
  /** Count last written to the API server. */
}

/** A token bucket (client-go's `flowcontrol.NewTokenBucketRateLimiterWithClock`). */
interface Bucket {
  tokens: number;
  at: number;
}

const REASON_MAX_BYTES = 128;
const encoder = new TextEncoder();

/**
 * Posts Kubernetes Events about objects, aggregated and rate-limited. See the module comment for
 * its guarantees.
 *
 * @example
 * ```ts
 * const events = new EventRecorder({ client, component: 'printer-operator', logger });
 * events.info(printer, 'Printing', `printing ${spec.text}`);
 * events.warn(printer, 'PaperLow', 'less than 10 sheets left');
 * events.exception(printer, err);
 * await events.flush(); // before exit
 * ```
 */
export class EventRecorder {
  readonly #client: EventClient;
  readonly #component: string;
  readonly #instance: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #windowMs: number;
  readonly #cacheSize: number;
  readonly #burst: number;
  readonly #refillMs: number;
  readonly #messageMaxBytes: number;
  readonly #failureLogIntervalMs: number;
  /** LRU by insertion order: a touched entry is deleted and set again. */
  readonly #series = new Map<string, Series>();
  readonly #buckets = new Map<string, Bucket>();
  /** Series waiting to be posted, oldest first; a subset of #series. */
  readonly #queue = new Set<Series>();
  #draining: Promise<void> | undefined;
  #lastFailureLogAt = -Infinity;
  #unloggedFailures = 0;
  readonly #stats: EventRecorderStats = { created: 0, patched: 0, throttled: 0, failed: 0, ignored: 0 };

  constructor(options: EventRecorderOptions) {
    this.#client = options.client;
    this.#component = options.component;
    this.#instance = (options.instance ?? hostname()).slice(0, 128);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#windowMs = options.aggregationWindowMs ?? defaults.kits.eventAggregationWindowMs;
    this.#cacheSize = Math.max(1, options.cacheSize ?? defaults.kits.eventCacheSize);
    this.#burst = options.spamBurst ?? defaults.kits.eventSpamBurst;
    this.#refillMs = options.spamRefillMs ?? defaults.kits.eventSpamRefillMs;
    this.#messageMaxBytes = options.messageMaxBytes ?? defaults.kits.eventMessageMaxBytes;
    this.#failureLogIntervalMs = options.failureLogIntervalMs ?? defaults.kits.eventFailureLogIntervalMs;
  }

  /**
   * A `Normal` Event: something expected happened.
   *
   * @example
   * ```ts
   * events.info(printer, 'Created', `created pod ${pod.metadata.name}`);
   * ```
   */
  info(object: KubeObject, reason: string, message: string): void {
    this.event(object, 'Normal', reason, message);
  }

  /**
   * A `Warning` Event: something the user may need to act on.
   *
   * @example
   * ```ts
   * events.warn(cvc, 'PriceFeedDown', 'coingecko answered 503; retrying');
   * ```
   */
  warn(object: KubeObject, reason: string, message: string): void {
    this.event(object, 'Warning', reason, message);
  }

  /**
   * A `Warning` Event describing an error: its name, message and, for Operon's errors, the hint.
   *
   * @example
   * ```ts
   * try { await client.create(pods, pod); } catch (err) { events.exception(printer, err); throw err; }
   * ```
   */
  exception(object: KubeObject, error: unknown, reason = 'Exception'): void {
    this.event(object, 'Warning', reason, describeError(error));
  }

  /**
   * An Event of any type. Returns at once; never throws.
   *
   * @example
   * ```ts
   * events.event(printer, 'Normal', 'Scaled', 'replicas 1 → 3');
   * ```
   */
  event(object: KubeObject, type: EventType, reason: string, message: string): void {
    try {
      this.#observe(object, type, reason, message);
    } catch (err) {
      // Only a bug or a throwing logger gets here; the caller must not see it.
      this.#failed(err, object);
    }
  }

  /**
   * Resolves once every Event recorded so far has been posted (or has failed).
   *
   * @example
   * ```ts
   * process.on('SIGTERM', async () => { await events.flush(); process.exit(0); });
   * ```
   */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /**
   * What the recorder has done so far (a copy).
   *
   * @example
   * ```ts
   * events.stats.throttled; // occurrences the spam filter held back
   * ```
   */
  get stats(): EventRecorderStats {
    return { ...this.#stats };
  }

  #observe(object: KubeObject, type: EventType, reason: string, message: string): void {
    const meta = object.metadata ?? {};
    if (!meta.name || (object.kind === 'Event' && (object.apiVersion === 'v1' || object.apiVersion === 'events.k8s.io/v1'))) {
      this.#stats.ignored++;
      this.#logger.debug({ kind: object.kind, name: meta.name, reason }, 'not posting an Event: the object has no name or is an Event itself');
      return;
    }
    const now = this.#clock.now();
    const involvedObject = {
      ...(object.apiVersion ? { apiVersion: object.apiVersion } : {}),
      ...(object.kind ? { kind: object.kind } : {}),
      name: meta.name,
      ...(meta.namespace ? { namespace: meta.namespace } : {}),
      ...(meta.uid ? { uid: meta.uid } : {}),
      ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
    };
    const objectKey = JSON.stringify([object.apiVersion, object.kind, meta.namespace, meta.name, meta.uid]);
    const cutReason = truncateBytes(reason || 'Unknown', REASON_MAX_BYTES, false);
    const cutMessage = truncateBytes(message, this.#messageMaxBytes, true);
    const key = JSON.stringify([objectKey, type, cutReason, cutMessage]);

    let series = this.#series.get(key);
    if (series && now - series.lastAt <= this.#windowMs) {
      series.count++;
      series.lastAt = now;
      this.#series.delete(key);
    } else {
      if (series) this.#queue.delete(series);
      series = {
        key,
        objectKey,
        name: undefined,
        count: 1,
        firstAt: now,
        lastAt: now,
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { generateName: `${meta.name.slice(0, 200)}.`, namespace: meta.namespace || 'default' },
          involvedObject,
          type,
          reason: cutReason,
          message: cutMessage,
          source: { component: this.#component },
          reportingComponent: this.#component,
          reportingInstance: this.#instance,
        },
      };
    }
    this.#series.set(key, series);
    this.#evict(this.#series, (evicted) => this.#queue.delete(evicted));

    this.#logger.debug({ event: { type, reason: cutReason, count: series.count }, namespace: meta.namespace, name: meta.name }, cutMessage);
    if (!this.#allow(objectKey, now)) {
      this.#stats.throttled++;
      return;
    }
    this.#queue.add(series);
    this.#draining ??= Promise.resolve().then(() => this.#drain());
  }

  /** Takes a token of the object's bucket. */
  #allow(objectKey: string, now: number): boolean {
    let bucket = this.#buckets.get(objectKey);
    if (bucket) {
      this.#buckets.delete(objectKey);
      const refill = this.#refillMs > 0 ? (now - bucket.at) / this.#refillMs : Infinity;
      bucket.tokens = Math.min(this.#burst, bucket.tokens + Math.max(0, refill));
      bucket.at = now;
    } else {
      bucket = { tokens: this.#burst, at: now };
    }
    this.#buckets.set(objectKey, bucket);
    this.#evict(this.#buckets);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  #evict<V>(map: Map<string, V>, onEvict?: (value: V) => void): void {
    while (map.size > this.#cacheSize) {
      const oldest = map.keys().next();
      if (oldest.done) return;
      const value = map.get(oldest.value);
      map.delete(oldest.value);
      if (value !== undefined) onEvict?.(value);
    }
  }

  async #drain(): Promise<void> {
    try {
      for (;;) {
        const next = this.#queue.values().next();
        if (next.done) return;
        this.#queue.delete(next.value);
        await this.#post(next.value);
      }
    } finally {
      this.#draining = undefined;
    }
  }

  async #post(series: Series): Promise<void> {
    const count = series.count;
    const lastTimestamp = formatTime(series.lastAt);
    const namespace = series.body.metadata.namespace;
    try {
      if (series.name !== undefined) {
        try {
          await this.#client.patch(EVENTS_RESOURCE, series.name, { type: 'merge', body: { count, lastTimestamp } }, { namespace });
          this.#stats.patched++;
          return;
        } catch (err) {
          if (!(isApiError(err) && err.kind === 'NotFound')) throw err;
          // The Event expired (event TTL) or was deleted: start it again with the full count.
          series.name = undefined;
        }
      }
      const created = await this.#client.create<CoreEvent>(
        EVENTS_RESOURCE,
        { ...series.body, count, firstTimestamp: formatTime(series.firstAt), lastTimestamp },
        { namespace },
      );
      series.name = created.metadata.name;
      this.#stats.created++;
    } catch (err) {
      this.#failed(err, series.body.involvedObject);
    }
  }

  #failed(err: unknown, object: { kind?: string; name?: string; namespace?: string; metadata?: { name?: string; namespace?: string } }): void {
    this.#stats.failed++;
    const now = this.#clock.now();
    if (now - this.#lastFailureLogAt < this.#failureLogIntervalMs) {
      this.#unloggedFailures++;
      return;
    }
    const notLogged = this.#unloggedFailures;
    this.#lastFailureLogAt = now;
    this.#unloggedFailures = 0;
    try {
      this.#logger.warn(
        {
          err,
          kind: object.kind,
          namespace: object.namespace ?? object.metadata?.namespace,
          name: object.name ?? object.metadata?.name,
          failuresNotLogged: notLogged,
          hint: isApiError(err) ? err.hint : undefined,
        },
        `could not post a Kubernetes Event (further failures are logged at most every ${Math.round(this.#failureLogIntervalMs / 1000)} s)`,
      );
    } catch {
      // A throwing logger must not break posting.
    }
  }
}

/**
 * Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. `middle` keeps the
 * start and the end (where an error's cause usually is) around a `…`; otherwise the end is cut.
 *
 * @example
 * ```ts
 * truncateBytes('x'.repeat(2000), 1024, true).length; // 1022 characters: 1024 bytes with the 3-byte '…'
 * ```
 */
export function truncateBytes(text: string, maxBytes: number, middle: boolean): string {
  if (encoder.encode(text).length <= maxBytes) return text;
  const marker = '…';
  const budget = maxBytes - encoder.encode(marker).length;
  if (budget <= 0) return '';
  const chars = Array.from(text);
  const size = (c: string): number => {
    const code = c.codePointAt(0) ?? 0;
    return code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  };
  const headBudget = middle ? Math.ceil(budget / 2) : budget;
  let head = '';
  let used = 0;
  for (const c of chars) {
    if (used + size(c) > headBudget) break;
    head += c;
    used += size(c);
  }
  if (!middle) return head + marker;
  let tail = '';
  let tailUsed = 0;
  for (let i = chars.length - 1; i >= 0; i--) {
    const c = chars[i] as string;
    if (used + tailUsed + size(c) > budget) break;
    tail = c + tail;
    tailUsed += size(c);
  }
  return head + marker + tail;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const hint = (error as { hint?: unknown }).hint;
    return `${error.name}: ${error.message}${typeof hint === 'string' && hint && !error.message.includes(hint) ? ` (${hint})` : ''}`;
  }
  return typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
}

/** metav1.Time: RFC 3339 with whole seconds. */
function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
