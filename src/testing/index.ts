/**
 * `operon-k8s/testing`: helpers for testing operators. Deterministic time for unit tests of anything
 * that waits, recording loggers to assert what an operator said, and, for tests against a real
 * cluster, {@link startOperator} (run an operator in-process, read its logs and the Events it
 * posted, stop it cleanly) and {@link waitFor} (wait on a watch, not a sleep, until an object
 * satisfies a condition).
 *
 * @module operon-k8s/testing
 */
import { systemClock, type Clock } from '../base/clock.ts';
import { recordingLogger, type LogRecord, type Logger } from '../base/logger.ts';
import { KubeClient } from '../client/client.ts';
import { isApiError } from '../client/errors.ts';
import { loadClusterConfig } from '../client/kubeconfig.ts';
import type { KubeObject, ResourceRef, Stored } from '../client/types.ts';
import type { Registry } from '../handlers/registry.ts';
import { Operator, type OperatorOptions, type PostedEvent } from '../runtime/operator.ts';
import type { Resource } from '../schema/resource.ts';

export { ManualClock, systemClock, type Clock } from '../base/clock.ts';
export { recordingLogger, silentLogger, type LogRecord } from '../base/logger.ts';
export type { PostedEvent } from '../runtime/operator.ts';

/** Options of {@link startOperator}. */
export interface StartOperatorOptions extends Omit<OperatorOptions, 'registry' | 'client' | 'logger'> {
  /** A client to use; default: one loaded from `kubeconfig` (or as kubectl finds it). */
  client?: KubeClient;
  /** Default: a recording logger, whose lines are in {@link OperatorRun.logs}. */
  logger?: Logger;
}

/** An operator running in-process, as {@link startOperator} returns it. */
export interface OperatorRun {
  /** The running operator (its `health()`, for example). */
  readonly operator: Operator;
  /** The client the operator uses (also handy for the test's own requests). */
  readonly client: KubeClient;
  /** Lines logged, when the default recording logger is used. */
  readonly logs: LogRecord[];
  /** Every Event the operator posted, in order. */
  readonly events: PostedEvent[];
  /** Resolves once every cache has listed: from then on, the operator sees every change. */
  readonly ready: Promise<void>;
  /** Settles when the operator's `run` does (rejects when startup failed). */
  readonly done: Promise<void>;
  /** Events posted about the object named `name`. */
  eventsFor(name: string): PostedEvent[];
  /** Stops the operator and waits for its shutdown; closes a client it loaded. */
  stop(): Promise<void>;
}

/**
 * Runs an operator (or a registry's handlers) in this process against a cluster.
 *
 * @example
 * ```ts
 * const run = startOperator(registry, { kubeconfig, namespaces: [ns] });
 * await run.ready;
 * // … create objects, waitFor(...) their status …
 * assert.ok(run.eventsFor('p1').some((e) => e.reason === 'HandlerFailed'));
 * await run.stop();
 * ```
 */
export function startOperator(target: Operator | Registry, options: StartOperatorOptions = {}): OperatorRun {
  const recording = options.logger ? undefined : recordingLogger();
  const logger = options.logger ?? (recording as { logger: Logger }).logger;
  const { client: given, kubeconfig, context, ...rest } = options;
  // A registry with login handlers logs in as the operator does (and again on a 401).
  const loads = !(target instanceof Operator) && target.login.length === 0;
  const client = given ?? (loads ? KubeClient.fromConfig(loadClusterConfig({ ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) }), { logger }) : undefined);
  const operator = target instanceof Operator ? target : new Operator({ ...rest, registry: target, client, logger });
  const events: PostedEvent[] = [];
  operator.observeEvents((event) => events.push(event));
  const done = operator.run();
  done.catch(() => {});
  const ready = Promise.race([operator.whenReady(), done.then(() => Promise.reject(new Error('the operator stopped before it was ready')))]);
  ready.catch(() => {});
  return {
    operator,
    get client(): KubeClient {
      const c = operator.client ?? client;
      if (!c) throw new Error('the operator has no client yet');
      return c;
    },
    logs: recording?.records ?? [],
    events,
    ready,
    done,
    eventsFor: (name) => events.filter((e) => e.object.metadata?.name === name),
    async stop() {
      await operator.stop();
      if (client && !given) client.close();
    },
  };
}

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /** Names the wait in the timeout error. */
  what?: string;
  /** Time for the timeout. Default: the system clock. */
  clock?: Clock;
  /**
   * The object is read again at least this often, so a predicate that also looks at what the
   * object does not hold (a handler's record, an Event, a span) is checked again even when the
   * object does not change. Default 1,000 ms; the watch's own granularity is a second.
   */
  recheckMs?: number;
}

type ObjectOfRef<R> = R extends Resource<infer T extends KubeObject> ? Stored<T> : Stored;

/**
 * Waits until the object `name` satisfies `predicate`, reading it and then following its watch,
 * which is renewed every `recheckMs` (1 s) so that a predicate looking beyond the object is checked
 * again too. No sleeps. The predicate gets `undefined` while the object does not exist, so a test
 * can wait for a deletion too. Resolves with the object as it satisfied the predicate.
 *
 * @example
 * ```ts
 * const printer = await waitFor(client, Printer, 'p1', ns, (p) => p?.status?.pod !== undefined, { timeoutMs: 20_000 });
 * await waitFor(client, Printer, 'p1', ns, (p) => p === undefined); // deleted
 * ```
 */
export async function waitFor<R extends ResourceRef>(
  client: KubeClient,
  ref: R,
  name: string,
  namespace: string | undefined,
  predicate: (object: ObjectOfRef<R> | undefined) => boolean,
  options: WaitForOptions = {},
): Promise<ObjectOfRef<R> | undefined> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = clock.now() + timeoutMs;
  const abort = new AbortController();
  const cancel = clock.setTimer(timeoutMs, () => abort.abort(new Error('timeout')));
  const plain: ResourceRef = { group: ref.group, version: ref.version, plural: ref.plural, namespaced: ref.namespaced };
  const ns = plain.namespaced ? namespace : undefined;
  const fieldSelector = `metadata.name=${name}`;
  let last: ObjectOfRef<R> | undefined;
  try {
    while (clock.now() < deadline) {
      // One list, not a get and then a list: the object and the version the watch resumes from
      // must come from the same read, or a creation between the two reads is never seen.
      const page = await client.list(plain, { namespace: ns, fieldSelector, signal: abort.signal });
      last = page.items[0] as ObjectOfRef<R> | undefined;
      const resourceVersion = page.metadata.resourceVersion ?? '0';
      if (predicate(last)) return last;
      const seconds = Math.max(1, Math.min(60, Math.ceil(Math.min(deadline - clock.now(), options.recheckMs ?? 1_000) / 1000)));
      try {
        for await (const event of client.watch(plain, { namespace: ns, fieldSelector, resourceVersion, timeoutSeconds: seconds, signal: abort.signal })) {
          if (event.type === 'ERROR') break;
          if (event.type === 'BOOKMARK') continue;
          last = event.type === 'DELETED' ? undefined : (event.object as ObjectOfRef<R>);
          if (predicate(last)) return last;
        }
      } catch (error) {
        if (abort.signal.aborted) break;
        if (!isApiError(error, 'Expired')) throw error;
      }
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    cancel();
    abort.abort();
  }
  const shown = last === undefined ? 'absent' : JSON.stringify({ metadata: { annotations: last.metadata.annotations, finalizers: last.metadata.finalizers }, spec: last.spec, status: last.status });
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? `${plain.plural} ${namespace ? `${namespace}/` : ''}${name}`}; last seen: ${shown}`);
}

export { startCluster, type StartClusterOptions, type TestCluster } from './cluster.ts';
