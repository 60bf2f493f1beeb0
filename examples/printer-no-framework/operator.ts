/**
 * The Printer operator with nothing but `@kubernetes/client-node`: for every Printer it creates a
 * Pod that prints `spec.text`, records it in `status.pod` and follows the Pod's phase into
 * `status.phase`. Deleting a Printer deletes its Pod: the garbage collector follows the ownerReference.
 *
 * Guarantees, each a few lines below:
 * - Printers that existed before it started are handled: LIST, then WATCH from the list's
 *   resourceVersion; on 410 Expired, LIST again.
 * - It never exits on an API error: watches reconnect and failed reconciles retry, backing off to 30 s.
 * - One Pod per Printer and text, even across crashes: the Pod's name is a hash of the Printer's uid
 *   and text, so a repeated create is AlreadyExists, never a second Pod.
 * - One Printer is handled by one run at a time, and each run reads the current state first.
 * - SIGTERM/SIGINT: stop watching, let running work finish, exit 0.
 *
 * Run: `KUBECONFIG=… node examples/printer-no-framework/operator.ts`. Optional: PRINTER_NAMESPACE
 * (one namespace; default all), PRINTER_IMAGE (default busybox:1.37).
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, Watch, type V1Pod } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, printedConditions, printerPod, printerPodName, summarize, type Printer } from './printer.ts';

const MANAGED_BY = 'printer-no-framework';
const namespace = process.env['PRINTER_NAMESPACE'] || undefined;
const image = process.env['PRINTER_IMAGE'] || undefined;
const MAX_BACKOFF_MS = 30_000; // client-go's reflector and kube-rs cap their backoff here too

const kc = new KubeConfig();
kc.loadFromDefault();
const customObjects = kc.makeApiClient(CustomObjectsApi);
const core = kc.makeApiClient(CoreV1Api);
const watch = new Watch(kc);
const stop = new AbortController();

function log(message: string, fields: { [key: string]: unknown } = {}): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), message, ...fields }));
}

/** The HTTP status of a client-node error: API calls throw `ApiException.code`, Watch gives `statusCode`. */
function httpStatus(err: unknown): number | undefined {
  const { code, statusCode } = (err ?? {}) as { code?: unknown; statusCode?: unknown };
  return typeof code === 'number' ? code : typeof statusCode === 'number' ? statusCode : undefined;
}

/** Waits `ms`, or less when the operator is stopping. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const wake = (): void => (clearTimeout(timer), stop.signal.removeEventListener('abort', wake), resolve());
    const timer = setTimeout(wake, ms);
    stop.signal.addEventListener('abort', wake);
  });
}

// Watching. client-node's Watch is one HTTP stream; list, resume, relist and backoff are ours.

interface List<T> { metadata?: { resourceVersion?: string }; items: T[] }
interface Source<T> { path: string; labelSelector?: string; list(): Promise<List<T>>; onObject(object: T): void }

/** One watch stream until it ends. Rejects on errors, including an in-stream ERROR event (410). */
function watchOnce<T>(source: Source<T>, resourceVersion: string, seen: (rv: string | undefined) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let controller: AbortController | undefined;
    const abort = (): void => controller?.abort();
    const done = (err?: unknown): void => {
      stop.signal.removeEventListener('abort', abort);
      abort();
      if (err) reject(err);
      else resolve();
    };
    stop.signal.addEventListener('abort', abort);
    const query = { resourceVersion, allowWatchBookmarks: true, ...(source.labelSelector ? { labelSelector: source.labelSelector } : {}) };
    const onEvent = (type: string, object: { code?: number; message?: string; metadata?: { resourceVersion?: string } }): void => {
      if (type === 'ERROR') return done(Object.assign(new Error(object.message), { statusCode: object.code }));
      seen(object.metadata?.resourceVersion);
      if (type === 'ADDED' || type === 'MODIFIED') source.onObject(object as T); // DELETED: the garbage collector's job
    };
    watch.watch(source.path, query, onEvent, done).then((c) => (controller = c, stop.signal.aborted && c.abort()), done);
  });
}

/** List, then watch from the list's resourceVersion, forever (until stopped). */
async function listAndWatch<T>(name: string, source: Source<T>): Promise<void> {
  let resourceVersion: string | undefined;
  let delay = 1000;
  while (!stop.signal.aborted) {
    try {
      if (resourceVersion === undefined) {
        const list = await source.list();
        // The objects that already exist: the original operator, watching without a list, never saw them.
        list.items.forEach((item) => source.onObject(item));
        resourceVersion = list.metadata?.resourceVersion ?? '';
      }
      await watchOnce(source, resourceVersion, (rv) => ((resourceVersion = rv ?? resourceVersion), (delay = 1000)));
    } catch (err) {
      if (stop.signal.aborted) break;
      if (httpStatus(err) === 410) {
        resourceVersion = undefined; // Expired: our position is gone from the server's history; list again
        continue;
      }
      // client-node closes a stream after 30 s without data; resuming from our resourceVersion is the fix.
      if ((err as Error).name === 'TimeoutError') continue;
      log(`${name}: list/watch failed, retrying`, { error: String(err), delayMs: delay });
      await sleep(delay);
      delay = Math.min(delay * 2, MAX_BACKOFF_MS);
    }
  }
}

// A minimal work queue: one run per Printer at a time, duplicate events coalesced, failures retried.

const waiting = new Set<string>();
const running = new Map<string, Promise<void>>();
const failures = new Map<string, number>();

function enqueue(key: string): void {
  if (waiting.has(key) || stop.signal.aborted) return; // a run that has not started yet will read the latest state
  waiting.add(key);
  const run = (running.get(key) ?? Promise.resolve()).then(async () => {
    waiting.delete(key);
    try {
      await reconcile(key);
      failures.delete(key);
    } catch (err) {
      const n = (failures.get(key) ?? 0) + 1;
      failures.set(key, n);
      const delayMs = Math.min(1000 * 2 ** (n - 1), MAX_BACKOFF_MS);
      log('reconcile failed, retrying', { printer: key, error: String(err), delayMs });
      setTimeout(() => enqueue(key), delayMs).unref();
    }
  });
  running.set(key, run);
  void run.then(() => running.get(key) === run && running.delete(key));
}

async function orNull<T>(request: Promise<T>): Promise<T | null> {
  return request.catch((err: unknown) => (httpStatus(err) === 404 ? null : Promise.reject(err)));
}

/** Brings one Printer's world in line: its Pod exists (once), its status describes the Pod. */
async function reconcile(key: string): Promise<void> {
  const [ns = '', name = ''] = key.split('/');
  const ids = { group: GROUP, version: VERSION, plural: PLURAL, namespace: ns, name };
  const printer = (await orNull(customObjects.getNamespacedCustomObject(ids))) as Printer | null;
  if (!printer || printer.metadata.deletionTimestamp) return; // the garbage collector removes its Pod
  const { uid, generation } = printer.metadata;
  const podName = printerPodName(uid, printer.spec.text);
  let pod: V1Pod | null = await orNull(core.readNamespacedPod({ namespace: ns, name: podName }));
  // No Pod yet and none recorded: create it. (A recorded Pod that is gone was deleted after printing.)
  if (!pod && printer.status?.pod !== podName) {
    const body = printerPod(printer, { managedBy: MANAGED_BY, ...(image ? { image } : {}) });
    pod = await core.createNamespacedPod({ namespace: ns, body }).catch((err: unknown) =>
      // AlreadyExists: an earlier run created it and crashed before recording it. Not a second Pod.
      httpStatus(err) === 409 ? core.readNamespacedPod({ namespace: ns, name: podName }) : Promise.reject(err),
    );
    log('pod ensured', { printer: key, pod: podName });
  }
  const phase = pod?.status?.phase ?? printer.status?.phase ?? 'Pending';
  const conditions = printedConditions(phase, generation, printer.status?.conditions, new Date());
  const status = { pod: podName, phase, summary: summarize(printer.spec.text), observedGeneration: generation, conditions };
  const old: { [field: string]: unknown } = printer.status ?? {};
  if (Object.entries(status).every(([field, value]) => canonical(value) === canonical(old[field]))) return;
  // The generated client sends JSON Patch unless told otherwise; a merge patch needs this header.
  await customObjects.patchNamespacedCustomObjectStatus({ ...ids, body: { status } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  log('status updated', { printer: key, pod: podName, phase });
}

/** JSON with sorted keys: the API server returns fields in its own order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v));

// Wiring: Printer events and events of our Pods both mean "look at this Printer again".

const printers: Source<Printer> = {
  path: namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`,
  list: async () =>
    (namespace
      ? await customObjects.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace })
      : await customObjects.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as List<Printer>,
  onObject: (p) => enqueue(`${p.metadata.namespace}/${p.metadata.name}`),
};
const labelSelector = `app.kubernetes.io/managed-by=${MANAGED_BY}`;
const pods: Source<V1Pod> = {
  path: namespace ? `/api/v1/namespaces/${namespace}/pods` : '/api/v1/pods',
  labelSelector,
  list: () => (namespace ? core.listNamespacedPod({ namespace, labelSelector }) : core.listPodForAllNamespaces({ labelSelector })),
  onObject: (pod) => {
    const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller && ref.apiVersion === `${GROUP}/${VERSION}` && ref.kind === 'Printer');
    if (owner && pod.metadata?.namespace) enqueue(`${pod.metadata.namespace}/${owner.name}`);
  },
};

for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => (log('stopping', { signal }), stop.abort()));
log('started', { namespace: namespace ?? '(all)', image: image ?? 'busybox:1.37' });
await Promise.all([listAndWatch('printers', printers), listAndWatch('pods', pods)]);
await Promise.allSettled(running.values()); // work in flight finishes; queued retries are dropped
log('stopped');
process.exit(0);
