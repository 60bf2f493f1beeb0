/**
 * {@link KubeClient}: every operation on any resource, built-in or custom, addressed by a
 * {@link ResourceRef}. No generated per-kind API classes: one small surface (`get`, `list`,
 * `listAll`, `create`, `replace`, `patch`, `delete`, `watch`, `resolve`).
 *
 * Guarantees:
 * - Every failure is an {@link ApiError}, a {@link TransportError} or a {@link ProtocolError}
 *   carrying a {@link RequestDescription} (verb, resource, namespace, name), so a Forbidden says
 *   which RBAC rule is missing.
 * - Requests that are safe to repeat (GET, LIST, DELETE, PUT with a resourceVersion) are retried on
 *   throttling, server errors and network failures with capped, jittered backoff, honouring the
 *   server's Retry-After (capped at `defaults.client.retryAfterMaxMs`). Creates and patches are
 *   retried only when the server certainly did not run them: the connection failed before the
 *   request could reach the server, or the server answered 429 (throttled).
 * - Watches are not retried here: the stream is handed over as is, with `ERROR` events as events,
 *   so the watcher above decides between resuming and relisting.
 * - A namespaced resource is never silently given a namespace: single-object calls must name one
 *   (or the object must), and a list or watch without one spans all namespaces.
 */
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.d.ts';
import { Backoff } from '../base/backoff.ts';
import { sleep, systemClock } from '../base/clock.ts';
import type { Clock } from '../base/clock.ts';
import { silentLogger } from '../base/logger.ts';
import type { Logger } from '../base/logger.ts';
import { defaults } from '../defaults.ts';
import { credentialsFor } from './credentials.ts';
import type { CredentialProvider, ExecCredentialCache } from './credentials.ts';
import { Discovery } from './discovery.ts';
import type { DiscoveredResource } from './discovery.ts';
import { errorFromResponse, isApiError, isRetryable, ProtocolError, TransportError } from './errors.ts';
import type { RequestDescription } from './errors.ts';
import { loadClusterConfig } from './kubeconfig.ts';
import type { ClusterConfig } from './kubeconfig.ts';
import { encodePatch } from './patch.ts';
import type { Patch } from './patch.ts';
import { describeRequest, groupVersionPath, queryString, resourcePath } from './paths.ts';
import type { QueryParams, ResourceTarget } from './paths.ts';
import { Transport } from './transport.ts';
import type { HttpRequest, HttpResponse } from './transport.ts';
import type { KubeObject, ListOptions, ObjectList, RequestOptions, ResourceRef, Status, Stored, WatchEvent, WatchOptions } from './types.ts';
import { parseWatchEvent } from './watch-events.ts';

/** Options of {@link KubeClient.fromConfig}. */
export interface ClientOptions {
  /** Where retries and throttling are logged. Default: none. */
  logger?: Logger;
  /** Time for retries and rate limits. Default: the system clock. */
  clock?: Clock;
  /** Default: the credentials the config names (token, client certificate or exec plugin). */
  credentials?: CredentialProvider;
  /** Default: the process-wide cache. */
  execCache?: ExecCredentialCache;
  /** Default `defaults.client.requestTimeoutMs`. */
  requestTimeoutMs?: number;
  /** Default `defaults.client.maxRetries`. */
  maxRetries?: number;
  /** Default `defaults.client.maxSockets`. */
  maxSockets?: number;
  /** Default `defaults.client.idleSocketTimeoutMs`. */
  idleSocketTimeoutMs?: number;
  /** Randomness of retry jitter, in [0, 1); injectable for tests. */
  random?: () => number;
  /** Wraps each request (its retries included) in a trace span. Default: none. */
  tracer?: RequestTracer;
}

/**
 * Traces API requests: `trace` runs one request, retries included, inside a span of its own.
 * The client knows no tracing library; the operator supplies one (OpenTelemetry's, when its
 * `tracing` option is on).
 */
export interface RequestTracer {
  /** Runs `request` inside a span describing it; resolves or rejects as `request` does. */
  trace<T>(description: RequestDescription, request: () => Promise<T>): Promise<T>;
}

/** Options of {@link KubeClient.load}. */
export interface LoadOptions extends ClientOptions {
  /** An explicit kubeconfig path (`--kubeconfig`). */
  kubeconfig?: string;
  /** Overrides the current context (`--context`). */
  context?: string;
  /** Use the pod's ServiceAccount, skipping kubeconfig lookup. */
  inCluster?: boolean;
}

/** Options of calls on one object. */
export interface ObjectOptions extends RequestOptions {
  /** Required for namespaced resources (create/replace also take it from the object). */
  namespace?: string;
}

export interface GetOptions extends ObjectOptions {
  subresource?: 'status';
}

export interface WriteOptions extends ObjectOptions {
  /** Validate and run admission without persisting. */
  dryRun?: 'All';
  /** Recorded in managedFields; for apply patches it defaults to `defaults.client.fieldManager`. */
  fieldManager?: string;
}

export interface ReplaceOptions extends WriteOptions {
  subresource?: 'status';
}

export interface PatchOptions extends WriteOptions {
  subresource?: 'status';
}

export interface DeleteOptions extends ObjectOptions {
  /** `Background` is the API default for most resources; `Foreground` waits for dependents. */
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  /** Delete only if the object still has this uid / resourceVersion (409 Conflict otherwise). */
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  dryRun?: 'All';
}

export interface WatchStreamOptions extends WatchOptions {
  /**
   * The stream is presumed dead after this long without a byte. Default: the larger of
   * `defaults.watch.idleTimeoutMs` and `timeoutSeconds` + 5 s.
   */
  idleTimeoutMs?: number;
}

export interface WaitForCrdOptions {
  /** Default `defaults.client.crdEstablishTimeoutMs`. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * A CRD did not become Established in time, or its names were rejected.
 *
 * @example
 * ```ts
 * await client.waitForCrdEstablished(name).catch((err) => {
 *   if (err instanceof CrdNotEstablishedError) logger.error({ conditions: err.conditions }, err.message);
 *   throw err;
 * });
 * ```
 */
export class CrdNotEstablishedError extends Error {
  override readonly name = 'CrdNotEstablishedError';
  readonly crd: string;
  /** The CRD's conditions when we gave up; empty when it did not exist. */
  readonly conditions: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
  constructor(crd: string, message: string, conditions: CrdNotEstablishedError['conditions']) {
    super(message);
    this.crd = crd;
    this.conditions = conditions;
  }
}

/** The CustomResourceDefinition resource, for {@link KubeClient.waitForCrdEstablished} and users. */
export const CRD_RESOURCE: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };

type RetryPolicy = 'idempotent' | 'once';

/**
 * A Kubernetes API client for one cluster and user.
 *
 * @example
 * ```ts
 * const client = await KubeClient.load();
 * const pods = { group: '', version: 'v1', plural: 'pods', namespaced: true };
 * const { items } = await client.list(pods, { namespace: 'default', labelSelector: 'app=web' });
 * client.close();
 * ```
 */
export class KubeClient {
  /** The configuration this client talks with (server, auth, TLS). */
  #config: ClusterConfig;
  #transport: Transport;
  #relogin: (() => Promise<KubeClient | undefined>) | undefined;
  #relogging: Promise<boolean> | undefined;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #maxRetries: number;
  readonly #random: (() => number) | undefined;
  readonly #discovery: Discovery;
  #tracer: RequestTracer | undefined;

  private constructor(config: ClusterConfig, options: ClientOptions) {
    this.#config = config;
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? systemClock;
    this.#maxRetries = options.maxRetries ?? defaults.client.maxRetries;
    this.#random = options.random;
    this.#tracer = options.tracer;
    const credentials =
      options.credentials ??
      credentialsFor(config, { clock: this.#clock, logger: this.#logger, ...(options.execCache ? { execCache: options.execCache } : {}) });
    this.#transport = new Transport(config, {
      credentials,
      clock: this.#clock,
      logger: this.#logger,
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.maxSockets !== undefined ? { maxSockets: options.maxSockets } : {}),
      ...(options.idleSocketTimeoutMs !== undefined ? { idleSocketTimeoutMs: options.idleSocketTimeoutMs } : {}),
    });
    this.#discovery = new Discovery((group, version, signal) => this.#discover(group, version, signal));
  }

  /**
   * Finds the configuration as kubectl does (explicit path → `KUBECONFIG` → `~/.kube/config` →
   * in-cluster) and connects to it.
   *
   * @example
   * ```ts
   * const client = await KubeClient.load({ context: 'kind-dev', logger });
   * ```
   */
  static async load(options: LoadOptions = {}): Promise<KubeClient> {
    const { kubeconfig, context, inCluster, ...clientOptions } = options;
    const config = loadClusterConfig({
      ...(kubeconfig !== undefined ? { kubeconfig } : {}),
      ...(context !== undefined ? { context } : {}),
      ...(inCluster !== undefined ? { inCluster } : {}),
    });
    return KubeClient.fromConfig(config, clientOptions);
  }

  /**
   * A client for an explicit configuration.
   *
   * @example
   * ```ts
   * const client = KubeClient.fromConfig({ server: 'https://127.0.0.1:6443', ca, insecureSkipTlsVerify: false,
   *   namespace: 'default', auth: { type: 'token', token }, source: 'test' });
   * ```
   */
  static fromConfig(config: ClusterConfig, options: ClientOptions = {}): KubeClient {
    return new KubeClient(config, options);
  }

  /** The default namespace of the configuration (the context's, or the pod's). */
  get namespace(): string {
    return this.config.namespace;
  }

  /**
   * Reads one object (or its status subresource). A typed resource (a declared custom resource or
   * `builtin(...)`) types the result; a plain ref takes the object type as a type argument.
   *
   * @example
   * ```ts
   * const pod = await client.get(builtin('v1', 'Pod'), 'web-0', { namespace: 'default' }); // Stored<Pod>
   * const lease = await client.get<Lease>(leases, 'leader', { namespace: 'default' });     // leases: a plain ResourceRef
   * ```
   */
  async get<T extends KubeObject = KubeObject>(ref: ResourceRef<T>, name: string, options: GetOptions = {}): Promise<Stored<T>> {
    const target = this.#target(ref, 'get', { namespace: options.namespace, name, subresource: options.subresource });
    const desc = describeRequest('get', ref, target);
    const res = await this.#call(desc, { method: 'GET', path: resourcePath(ref, target), ...requestOptions(options) }, 'idempotent');
    return decode<Stored<T>>(res, desc);
  }

  /**
   * One page of a collection. Without `namespace`, a namespaced resource is listed across all
   * namespaces.
   *
   * @example
   * ```ts
   * const page = await client.list(pods, { namespace: 'default', limit: 100 });
   * const next = await client.list(pods, { namespace: 'default', limit: 100, continue: page.metadata.continue });
   * ```
   */
  async list<T extends KubeObject = KubeObject>(ref: ResourceRef<T>, options: ListOptions = {}): Promise<ObjectList<Stored<T>>> {
    const target = ref.namespaced && options.namespace ? { namespace: options.namespace } : {};
    const desc = describeRequest('list', ref, target);
    const query: QueryParams = {
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      limit: options.limit,
      continue: options.continue,
      resourceVersion: options.resourceVersion,
      resourceVersionMatch: options.resourceVersionMatch,
    };
    const headers = options.metadataOnly ? { Accept: METADATA_LIST_ACCEPT } : undefined;
    const res = await this.#call(desc, { method: 'GET', path: resourcePath(ref, target) + queryString(query), ...(headers ? { headers } : {}), ...requestOptions(options) }, 'idempotent');
    const list = decode<ObjectList<Stored<T>>>(res, desc);
    list.items ??= [];
    list.metadata ??= {};
    return list;
  }

  /**
   * Every object of a collection, following `continue` tokens page by page (default page size
   * `defaults.watch.pageSize`). If a continue token expires mid-way (410), the list restarts from
   * the beginning once, so the result is always one consistent snapshot.
   *
   * @example
   * ```ts
   * const { items, metadata } = await client.listAll(printers, { labelSelector: 'team=a' });
   * // metadata.resourceVersion: where a watch should start
   * ```
   */
  async listAll<T extends KubeObject = KubeObject>(ref: ResourceRef<T>, options: Omit<ListOptions, 'continue'> = {}): Promise<ObjectList<Stored<T>>> {
    const limit = options.limit ?? defaults.watch.pageSize;
    for (let restarted = false; ; restarted = true) {
      const items: Array<Stored<T>> = [];
      let next: string | undefined;
      try {
        for (;;) {
          // The snapshot is fixed by the first page; the API server forbids resourceVersion(Match) with continue.
          const page: ObjectList<Stored<T>> = await this.list<T>(ref, next === undefined ? { ...options, limit } : { ...withoutVersion(options), limit, continue: next });
          items.push(...page.items);
          next = page.metadata.continue || undefined;
          if (next === undefined) {
            const result: ObjectList<Stored<T>> = { ...page, metadata: {}, items };
            if (page.metadata.resourceVersion !== undefined) result.metadata.resourceVersion = page.metadata.resourceVersion;
            return result;
          }
        }
      } catch (err) {
        if (next === undefined || restarted || !isApiError(err, 'Expired')) throw err;
        this.#logger.info({ resource: describeRequest('list', ref).resource }, 'list continue token expired; listing again from the start');
      }
    }
  }

  /**
   * Creates an object. Its namespace comes from `options.namespace` or `metadata.namespace`. A
   * typed resource checks the body against its object type and types a body written in place (so
   * `apiVersion: 'v1'` needs no `as const`); with a plain ref, the body's own type is the result's.
   *
   * @example
   * ```ts
   * const configmaps = builtin('v1', 'ConfigMap');
   * const cm = await client.create(configmaps, { metadata: { name: 'x', namespace: 'default' }, data: { a: '1' } });
   * ```
   */
  async create<T extends R, R extends KubeObject = KubeObject>(ref: ResourceRef<R>, body: T, options: WriteOptions = {}): Promise<Stored<T>> {
    const target = this.#target(ref, 'create', { namespace: options.namespace ?? body.metadata?.namespace });
    const desc = describeRequest('create', ref, target);
    if (body.metadata?.name) desc.name = body.metadata.name;
    const query = queryString({ dryRun: options.dryRun, fieldManager: options.fieldManager });
    const res = await this.#call(desc, { method: 'POST', path: resourcePath(ref, target) + query, ...json(body), ...requestOptions(options) }, 'once');
    return decode<Stored<T>>(res, desc);
  }

  /**
   * Replaces an object (PUT), or its status with `subresource: 'status'`. With
   * `metadata.resourceVersion` set it fails with a Conflict if the object changed meanwhile, and is
   * then safe to retry; without it, it is last-write-wins and sent once.
   *
   * @example
   * ```ts
   * pod.metadata.labels = { ...pod.metadata.labels, seen: 'yes' };
   * await client.replace(pods, pod);
   * ```
   */
  async replace<T extends R, R extends KubeObject = KubeObject>(ref: ResourceRef<R>, body: T, options: ReplaceOptions = {}): Promise<Stored<T>> {
    const name = body.metadata?.name;
    if (!name) throw new TypeError(`replace ${describeRequest('update', ref).resource}: the object has no metadata.name`);
    const target = this.#target(ref, 'update', { namespace: options.namespace ?? body.metadata?.namespace, name, subresource: options.subresource });
    const desc = describeRequest('update', ref, target);
    const query = queryString({ dryRun: options.dryRun, fieldManager: options.fieldManager });
    const policy: RetryPolicy = body.metadata?.resourceVersion ? 'idempotent' : 'once';
    const res = await this.#call(desc, { method: 'PUT', path: resourcePath(ref, target) + query, ...json(body), ...requestOptions(options) }, policy);
    return decode<Stored<T>>(res, desc);
  }

  /**
   * Patches an object; the patch kind picks the Content-Type.
   *
   * @example
   * ```ts
   * await client.patch(printers, 'p1', { type: 'merge', body: { status: { phase: 'Printing' } } }, { namespace: 'lab', subresource: 'status' });
   * await client.patch(printers, 'p1', { type: 'json', ops: [
   *   { op: 'test', path: '/metadata/finalizers', value: ['operon.dev/cleanup'] },
   *   { op: 'remove', path: '/metadata/finalizers/0' },
   * ] }, { namespace: 'lab' });
   * await client.patch(printers, 'p1', { type: 'apply', body: desired, force: true }, { namespace: 'lab' });
   * ```
   */
  async patch<T extends KubeObject = KubeObject>(ref: ResourceRef<T>, name: string, patch: Patch, options: PatchOptions = {}): Promise<Stored<T>> {
    const namespace = options.namespace ?? (patch.type === 'apply' ? patch.body.metadata?.namespace : undefined);
    const target = this.#target(ref, 'patch', { namespace, name, subresource: options.subresource });
    const desc = describeRequest('patch', ref, target);
    const encoded = encodePatch(patch);
    const query = queryString({ dryRun: options.dryRun, fieldManager: encoded.query.fieldManager ?? options.fieldManager, force: encoded.query.force });
    const res = await this.#call(
      desc,
      { method: 'PATCH', path: resourcePath(ref, target) + query, headers: { 'Content-Type': encoded.contentType }, body: encoded.body, ...requestOptions(options) },
      'once',
    );
    return decode<Stored<T>>(res, desc);
  }

  /**
   * Deletes an object. Returns the object while finalizers or a grace period keep it alive, or the
   * API's `Status` when it is gone at once.
   *
   * @example
   * ```ts
   * await client.delete(pods, 'web-0', { namespace: 'default', propagationPolicy: 'Foreground', preconditions: { uid } });
   * ```
   */
  async delete<T extends KubeObject = KubeObject>(ref: ResourceRef<T>, name: string, options: DeleteOptions = {}): Promise<Stored<T> | Status> {
    const target = this.#target(ref, 'delete', { namespace: options.namespace, name });
    const desc = describeRequest('delete', ref, target);
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (options.propagationPolicy) body['propagationPolicy'] = options.propagationPolicy;
    if (options.preconditions) body['preconditions'] = options.preconditions;
    if (options.gracePeriodSeconds !== undefined) body['gracePeriodSeconds'] = options.gracePeriodSeconds;
    if (options.dryRun) body['dryRun'] = [options.dryRun];
    const res = await this.#call(desc, { method: 'DELETE', path: resourcePath(ref, target), ...json(body), ...requestOptions(options) }, 'idempotent');
    return decode<Stored<T> | Status>(res, desc);
  }

  /**
   * Watches a collection: one event per line of the stream, until the server ends it
   * (`timeoutSeconds`), the signal aborts it, or the connection fails. A non-2xx answer at connect
   * throws the typed {@link ApiError} (e.g. kind `Expired` for a 410); a 410 after connecting
   * arrives as an `ERROR` event. A malformed line throws a {@link ProtocolError}. `onConnected`
   * is called as soon as the server accepted the watch, before the first event.
   *
   * @example
   * ```ts
   * for await (const event of client.watch(printers, { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 290, signal })) {
   *   if (event.type === 'ERROR') throw errorFromStatus(event.object);
   *   console.log(event.type, event.object.metadata?.name);
   * }
   * ```
   */
  async *watch<T extends KubeObject = KubeObject>(ref: ResourceRef<T>, options: WatchStreamOptions = {}): AsyncGenerator<WatchEvent<Stored<T>>> {
    const target = ref.namespaced && options.namespace ? { namespace: options.namespace } : {};
    const desc = describeRequest('watch', ref, target);
    const query: QueryParams = {
      watch: true,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      resourceVersion: options.resourceVersion,
      resourceVersionMatch: options.resourceVersionMatch,
      allowWatchBookmarks: options.allowWatchBookmarks,
      timeoutSeconds: options.timeoutSeconds,
      sendInitialEvents: options.sendInitialEvents,
    };
    const idleTimeoutMs = options.idleTimeoutMs ?? Math.max(defaults.watch.idleTimeoutMs, (options.timeoutSeconds ?? 0) * 1000 + 5_000);
    const open = () =>
      this.#transport.stream({
        method: 'GET',
        path: resourcePath(ref, target) + queryString(query),
        description: desc,
        idleTimeoutMs,
        ...(options.metadataOnly ? { headers: { Accept: METADATA_ACCEPT } } : {}),
        ...requestOptions(options),
      });
    let stream;
    try {
      stream = await open();
    } catch (error) {
      if (!isApiError(error, 'Unauthorized') || !(await this.#reauthenticate())) throw error;
      stream = await open();
    }
    options.onConnected?.();
    for await (const line of stream.lines) yield parseWatchEvent<Stored<T>>(line, desc);
  }

  /**
   * The resource serving a kind, by API discovery (cached; refreshed once when the kind is missing).
   *
   * @example
   * ```ts
   * const deployments = await client.resolve({ apiVersion: 'apps/v1', kind: 'Deployment' });
   * ```
   */
  resolve(type: { apiVersion: string; kind: string }, options: RequestOptions = {}): Promise<ResourceRef> {
    return this.#discovery.resolve(type, options.signal);
  }

  /**
   * Waits until a CRD's `Established` condition is True (its resource is served), polling every
   * `defaults.client.crdPollIntervalMs`. Fails early when its names are not accepted. Forgets
   * cached discovery of the CRD's group, so `resolve` sees the new kind at once.
   *
   * @example
   * ```ts
   * await client.create(CRD_RESOURCE, printerCrd);
   * await client.waitForCrdEstablished('printers.operon.dev', { timeoutMs: 30_000 });
   * ```
   */
  async waitForCrdEstablished(name: string, options: WaitForCrdOptions = {}): Promise<Stored<CustomResourceDefinition>> {
    const timeoutMs = options.timeoutMs ?? defaults.client.crdEstablishTimeoutMs;
    const deadline = this.#clock.now() + timeoutMs;
    for (;;) {
      let crd: Stored<CustomResourceDefinition> | undefined;
      try {
        crd = await this.get<CustomResourceDefinition>(CRD_RESOURCE, name, options.signal ? { signal: options.signal } : {});
      } catch (err) {
        if (!isApiError(err, 'NotFound')) throw err;
      }
      const conditions: CrdNotEstablishedError['conditions'] = crd?.status?.conditions ?? [];
      if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) {
        if (crd?.spec?.group) this.#discovery.invalidate(`${crd.spec.group}/*`);
        return crd as Stored<CustomResourceDefinition>;
      }
      const rejected = conditions.find((c) => c.type === 'NamesAccepted' && c.status === 'False');
      if (rejected) throw new CrdNotEstablishedError(name, `CRD ${name}: names not accepted (${rejected.reason ?? ''}): ${rejected.message ?? ''}`, conditions);
      const remaining = deadline - this.#clock.now();
      if (remaining <= 0) {
        throw new CrdNotEstablishedError(
          name,
          crd === undefined
            ? `CRD ${name} does not exist after ${timeoutMs} ms`
            : `CRD ${name} not established after ${timeoutMs} ms; conditions: ${conditions.map((c) => `${c.type}=${c.status}${c.message ? ` (${c.message})` : ''}`).join(', ') || 'none'}`,
          conditions,
        );
      }
      await sleep(this.#clock, Math.min(defaults.client.crdPollIntervalMs, remaining), options.signal);
    }
  }

  /**
   * Closes every connection, so nothing of the client keeps the process alive. Requests and watches in
   * flight fail; a later request opens a new connection, as after Node's `Agent.destroy()`.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => client.close());
   * ```
   */
  close(): void {
    this.#transport.close();
  }

  #target(ref: ResourceRef, verb: string, target: ResourceTarget): ResourceTarget {
    if (ref.namespaced && !target.namespace) {
      const d = describeRequest(verb, ref, target);
      throw new TypeError(`${verb} ${d.resource}${target.name ? ` ${target.name}` : ''}: ${d.resource} is namespaced; pass options.namespace (the configured default is "${this.config.namespace}")`);
    }
    const out: ResourceTarget = {};
    if (ref.namespaced && target.namespace) out.namespace = target.namespace;
    if (target.name !== undefined) out.name = target.name;
    if (target.subresource !== undefined) out.subresource = target.subresource;
    return out;
  }

  async #discover(group: string, version: string, signal: AbortSignal | undefined): Promise<DiscoveredResource[] | undefined> {
    const path = groupVersionPath(group, version);
    const desc: RequestDescription = { verb: 'get', resource: path };
    try {
      const res = await this.#call(desc, { method: 'GET', path, ...(signal ? { signal } : {}) }, 'idempotent');
      return decode<{ resources?: DiscoveredResource[] }>(res, desc).resources ?? [];
    } catch (err) {
      if (isApiError(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  /** Sends a request, retrying as `policy` allows; resolves with a 2xx response only. */
  /**
   * Traces every request from now on with `tracer` (or stops, with undefined): for a client made
   * before tracing was set up, such as the one an operator is given.
   *
   * @example
   * ```ts
   * client.traceWith({ trace: (description, request) => tracer.startActiveSpan(description.verb, (span) => request().finally(() => span.end())) });
   * ```
   */
  traceWith(tracer: RequestTracer | undefined): void {
    this.#tracer = tracer;
  }

  /** The configuration this client talks with (server, auth, TLS); changes on a re-login. */
  get config(): ClusterConfig {
    return this.#config;
  }

  /**
   * Logs in again when the API server answers 401 Unauthorized (an expired or revoked token):
   * `relogin` returns a client with fresh credentials, whose connection this client takes over,
   * and the refused request is sent once more (a 401 means the server did not act on it, so even
   * a create is safe to repeat). Concurrent 401s share one re-login. kopf re-runs its login
   * handlers the same way.
   *
   * @example
   * ```ts
   * client.reloginWith(async () => KubeClient.fromConfig({ ...config, auth: { type: 'token', token: await fetchToken() } }));
   * ```
   */
  reloginWith(relogin: (() => Promise<KubeClient | undefined>) | undefined): void {
    this.#relogin = relogin;
  }

  /** Runs the re-login once for all concurrent callers; true when new credentials are in place. */
  #reauthenticate(): Promise<boolean> {
    const relogin = this.#relogin;
    if (relogin === undefined) return Promise.resolve(false);
    this.#relogging ??= (async () => {
      try {
        const fresh = await relogin();
        if (fresh === undefined || fresh === this) return false;
        const old = this.#transport;
        this.#config = fresh.#config;
        this.#transport = fresh.#transport;
        old.close();
        this.#logger.debug({ server: this.#config.server }, 'took over the connection of a fresh login');
        return true;
      } catch (error) {
        this.#logger.warn({ err: error }, 'the re-login after 401 Unauthorized failed');
        return false;
      } finally {
        this.#relogging = undefined;
      }
    })();
    return this.#relogging;
  }

  #call(desc: RequestDescription, req: HttpRequest, policy: RetryPolicy): Promise<HttpResponse> {
    const tracer = this.#tracer;
    return tracer ? tracer.trace(desc, () => this.#send(desc, req, policy)) : this.#send(desc, req, policy);
  }

  async #send(desc: RequestDescription, req: HttpRequest, policy: RetryPolicy): Promise<HttpResponse> {
    // Made at the first retry: nearly every request succeeds at once.
    let backoff: Backoff | undefined;
    let reauthenticated = false;
    for (let attempt = 0; ; attempt++) {
      let error: unknown;
      try {
        const res = await this.#transport.request({ ...req, description: desc });
        if (res.status >= 200 && res.status < 300) return res;
        error = errorFromResponse(res.status, res.body, headerValue(res.headers['retry-after']), desc);
      } catch (err) {
        error = err;
      }
      if (!reauthenticated && isApiError(error, 'Unauthorized') && (await this.#reauthenticate())) {
        reauthenticated = true;
        continue;
      }
      const retry = policy === 'idempotent' ? isRetryable(error) : neverRan(error);
      if (!retry || attempt >= this.#maxRetries || req.signal?.aborted) throw error;
      const suggested = isApiError(error) ? error.retryAfterMs : undefined;
      backoff ??= new Backoff({
        initialMs: defaults.client.retryBaseDelayMs,
        maxMs: defaults.client.retryMaxDelayMs,
        jitter: 'full',
        ...(this.#random ? { random: this.#random } : {}),
      });
      const delay = suggested !== undefined ? Math.min(suggested, defaults.client.retryAfterMaxMs) : backoff.next();
      this.#logger.debug({ ...desc, attempt: attempt + 1, delayMs: delay, err: (error as Error).message }, 'retrying request');
      await sleep(this.#clock, delay, req.signal);
    }
  }
}

/**
 * True when the server certainly did not run the request, so even a create or a patch may be sent
 * again: the connection failed before a byte left, or the server throttled it. A 429 comes from
 * priority-and-fairness, max-inflight or a shutting-down server before any handler runs (and from
 * the eviction API, which refused to act); client-go and kube-rs retry it for every verb. Without
 * this, every create and patch failed outright whenever APF shed load.
 */
function neverRan(error: unknown): boolean {
  return (error instanceof TransportError && !error.requestSent) || isApiError(error, 'TooManyRequests');
}

/**
 * What a metadata-only list or watch asks for: the server's `meta.k8s.io/v1` table of contents
 * of each object, with a JSON fallback so a server that cannot answer it still answers (an
 * aggregated API that does not support the conversion sends full objects, which still decode).
 */
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

function requestOptions(options: RequestOptions): Pick<HttpRequest, 'signal' | 'timeoutMs'> {
  const out: Pick<HttpRequest, 'signal' | 'timeoutMs'> = {};
  if (options.signal) out.signal = options.signal;
  if (options.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs;
  return out;
}

function json(body: unknown): Pick<HttpRequest, 'headers' | 'body'> {
  return { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}

function decode<T>(res: HttpResponse, desc: RequestDescription): T {
  try {
    return JSON.parse(res.body) as T;
  } catch (err) {
    const shown = res.body.length > 200 ? `${res.body.slice(0, 200)}…` : res.body;
    throw new ProtocolError(
      `${desc.verb} ${desc.resource}${desc.name ? ` ${desc.name}` : ''}: HTTP ${res.status} with a body that is not JSON (${String(res.headers['content-type'] ?? 'no content-type')}): ${JSON.stringify(shown)}`,
      { cause: err, request: desc },
    );
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function withoutVersion(options: Omit<ListOptions, 'continue'>): Omit<ListOptions, 'continue' | 'resourceVersion' | 'resourceVersionMatch'> {
  const { resourceVersion: _rv, resourceVersionMatch: _rvm, ...rest } = options;
  return rest;
}
