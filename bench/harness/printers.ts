/**
 * The benchmark's Printers (`operators/printer/crd.yaml`): what they are (deterministic names and
 * texts), a fast concurrent creator, and a tracker that watches the Printers and the Pods of one
 * namespace and knows, per Printer, when its Pod first existed and when its status first followed
 * that Pod to the end.
 *
 * As for CVCs, the tracker's own watches are the only way the harness learns results: a contender
 * is judged by what the API server stored. A Printer's Pod is a Pod whose ownerReference with
 * `controller: true` carries the Printer's uid, whatever its name; a Printer is done when it has
 * had exactly one such Pod, that Pod has finished (kwok ends run-to-completion Pods `Succeeded`),
 * and the Printer's `status.phase` is the Pod's phase (the last two are not judged for a program
 * that writes no status).
 */
import type { AdminApi, CreateResult, RequestCounts } from './api.ts';
import { Changes } from './changes.ts';

export const PRINTER_GROUP_PATH = '/apis/operon.dev/v1';
export const PRINTER_CRD_FILE = 'operators/printer/crd.yaml';

export function printerName(i: number): string {
  return `printer-${String(i).padStart(5, '0')}`;
}

/** Printer `i`'s text: the design document's greeting, different for every Printer. */
export function printerText(i: number): string {
  return `Hello Kube! I am printer ${i}.`;
}

/** Creates `count` Printers in `namespace` with `concurrency` requests in flight. */
export function createPrinters(api: AdminApi, namespace: string, count: number, concurrency: number): Promise<CreateResult> {
  return api.createMany(`${PRINTER_GROUP_PATH}/namespaces/${namespace}/printers`, count, concurrency, (i) => ({
    apiVersion: 'operon.dev/v1',
    kind: 'Printer',
    metadata: { name: printerName(i) },
    spec: { text: printerText(i) },
  }));
}

/** Pod phases after which nothing changes: kwok ends the Printers' Pods in one of them. */
const FINISHED = new Set(['Succeeded', 'Failed']);

interface PrinterSeen {
  uid: string;
  phase: string | undefined;
  /** performance.now() when a Pod controlled by it was first seen. */
  podAt: number | undefined;
  /** performance.now() when it was first done (see the module comment). */
  doneAt: number | undefined;
  done: boolean;
}

interface PodSeen {
  ownerUid: string | undefined;
  phase: string | undefined;
}

type ObjectMeta = { name: string; uid: string; ownerReferences?: Array<{ uid: string; controller?: boolean }> };

/** A namespace's Printers and Pods, from the harness's own list+watch of each. */
export class PrinterTracker {
  readonly printers = new Map<string, PrinterSeen>();
  readonly #pods = new Map<string, PodSeen>();
  /** Printer uid → names of the Pods it controls now. */
  readonly #podsOf = new Map<string, Set<string>>();
  /** Printer uid → names of the Pods it ever controlled (a second Pod stays counted). */
  readonly #podsEver = new Map<string, Set<string>>();
  readonly #byUid = new Map<string, string>();
  #withPod = 0;
  #done = 0;
  readonly #changes = new Changes();
  readonly #abort = new AbortController();
  readonly #running: Array<Promise<void>> = [];
  readonly #api: AdminApi;
  readonly #namespace: string;
  /** When false, a Printer is done once it has its one Pod: its status is not judged. */
  readonly #judgeStatus: boolean;
  /** Set when a watch failed in a way it could not recover from. */
  failure: Error | undefined;

  constructor(api: AdminApi, namespace: string, judgeStatus: boolean) {
    this.#api = api;
    this.#namespace = namespace;
    this.#judgeStatus = judgeStatus;
  }

  /** Lists, then watches both kinds in the background until {@link stop}. */
  async start(): Promise<void> {
    const printers = `${PRINTER_GROUP_PATH}/namespaces/${this.#namespace}/printers`;
    const pods = `/api/v1/namespaces/${this.#namespace}/pods`;
    for (const [path, onEvent] of [
      [printers, (type: string, o: Record<string, unknown>) => this.#onPrinter(type, o)],
      [pods, (type: string, o: Record<string, unknown>) => this.#onPod(type, o)],
    ] as const) {
      const rv = await this.#relist(path, onEvent);
      this.#running.push(this.#watch(path, rv, onEvent));
    }
  }

  stop(): Promise<void> {
    this.#abort.abort();
    return Promise.all(this.#running).then(() => undefined);
  }

  /** Printers with at least one Pod they control. */
  get withPod(): number {
    return this.#withPod;
  }

  /** Printers that are done (with `judgeStatus`, their status follows their finished Pod). */
  get done(): number {
    return this.#done;
  }

  /** Printers that ever controlled more than one Pod: never right, a Printer prints its text once. */
  get extraPods(): number {
    let extra = 0;
    for (const [uid, names] of this.#podsEver) if (names.size > 1 && this.#byUid.has(uid)) extra++;
    return extra;
  }

  /** Printers, deleted ones included, that ever controlled more than one Pod. */
  get extraPodsEver(): number {
    let extra = 0;
    for (const names of this.#podsEver.values()) if (names.size > 1) extra++;
    return extra;
  }

  /** Pods of the namespace that no Printer of it controls (an ownerReference missing or wrong). */
  get strayPods(): number {
    let stray = 0;
    for (const pod of this.#pods.values()) if (pod.ownerUid === undefined || !this.#byUid.has(pod.ownerUid)) stray++;
    return stray;
  }

  /** Printers that are not (yet) done, with what the harness sees of them. */
  wrong(limit = 5): Array<{ name: string; pods: Array<{ name: string; phase: string | undefined }>; statusPhase: string | undefined }> {
    const out: ReturnType<PrinterTracker['wrong']> = [];
    for (const [name, seen] of this.printers) {
      if (seen.done) continue;
      const pods = [...(this.#podsOf.get(seen.uid) ?? [])].map((podName) => ({ name: podName, phase: this.#pods.get(podName)?.phase }));
      out.push({ name, pods, statusPhase: seen.phase });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Resolves once `count` Printers are tracked and `what` holds for all, or with false after `timeoutMs`. */
  all(what: 'withPod' | 'done', count: number, timeoutMs: number): Promise<boolean> {
    return this.#changes.until(() => this.printers.size >= count && (what === 'withPod' ? this.#withPod : this.#done) >= this.printers.size, timeoutMs);
  }

  async #relist(path: string, onEvent: (type: string, object: Record<string, unknown>) => void): Promise<string> {
    const list = await this.#api.json<{ metadata: { resourceVersion: string }; items: Array<Record<string, unknown>> }>('GET', path);
    for (const item of list.items) onEvent('ADDED', item);
    return list.metadata.resourceVersion;
  }

  async #watch(path: string, from: string, onEvent: (type: string, object: Record<string, unknown>) => void): Promise<void> {
    let rv = from;
    while (!this.#abort.signal.aborted) {
      try {
        rv = await this.#api.watch(path, rv, onEvent, this.#abort.signal);
      } catch (err) {
        if (this.#abort.signal.aborted) return;
        try {
          // A relist replays every object as ADDED; the handlers below are idempotent for that.
          rv = await this.#relist(path, onEvent);
        } catch (relistErr) {
          this.failure = relistErr instanceof Error ? relistErr : new Error(String(err));
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
    }
  }

  #onPrinter(type: string, object: Record<string, unknown>): void {
    const meta = object['metadata'] as ObjectMeta;
    if (type === 'DELETED') {
      const seen = this.printers.get(meta.name);
      if (seen) this.#forget(meta.name, seen);
      return;
    }
    let seen = this.printers.get(meta.name);
    if (seen === undefined) {
      seen = { uid: meta.uid, phase: undefined, podAt: undefined, doneAt: undefined, done: false };
      this.printers.set(meta.name, seen);
      this.#byUid.set(meta.uid, meta.name);
    }
    seen.phase = (object['status'] as { phase?: string } | undefined)?.phase;
    this.#judge(meta.name);
  }

  #onPod(type: string, object: Record<string, unknown>): void {
    const meta = object['metadata'] as ObjectMeta;
    const ownerUid = meta.ownerReferences?.find((ref) => ref.controller === true)?.uid;
    const before = this.#pods.get(meta.name)?.ownerUid;
    if (before !== undefined) this.#podsOf.get(before)?.delete(meta.name);
    if (type === 'DELETED') {
      this.#pods.delete(meta.name);
    } else {
      this.#pods.set(meta.name, { ownerUid, phase: (object['status'] as { phase?: string } | undefined)?.phase });
      if (ownerUid !== undefined) {
        for (const index of [this.#podsOf, this.#podsEver]) {
          const names = index.get(ownerUid) ?? new Set<string>();
          names.add(meta.name);
          index.set(ownerUid, names);
        }
      }
    }
    for (const uid of new Set([before, ownerUid])) {
      const name = uid === undefined ? undefined : this.#byUid.get(uid);
      if (name !== undefined) this.#judge(name);
    }
  }

  /** Recomputes one Printer's state and the counters. */
  #judge(name: string): void {
    const seen = this.printers.get(name);
    if (seen === undefined) return;
    const now = performance.now();
    const pods = [...(this.#podsOf.get(seen.uid) ?? [])];
    if (pods.length > 0 && seen.podAt === undefined) {
      seen.podAt = now;
      this.#withPod++;
    }
    const phase = pods.length === 1 ? this.#pods.get(pods[0] as string)?.phase : undefined;
    // Exactly one Pod, ever: a second one (even if deleted since) means the Printer printed twice.
    const onePod = pods.length === 1 && this.#podsEver.get(seen.uid)?.size === 1;
    const done = onePod && (!this.#judgeStatus || (FINISHED.has(phase ?? '') && seen.phase === phase));
    if (done !== seen.done) {
      this.#done += done ? 1 : -1;
      seen.done = done;
      if (done) seen.doneAt ??= now;
    }
    this.#changes.notify();
  }

  #forget(name: string, seen: PrinterSeen): void {
    if (seen.podAt !== undefined) this.#withPod--;
    if (seen.done) this.#done--;
    this.printers.delete(name);
    this.#byUid.delete(seen.uid);
    this.#changes.notify();
  }

}

/**
 * Requests no Printer operator makes, left out of its counts: in this workload they come from the
 * control plane for every Pod, whoever created it (the scheduler's binding, kwok's status
 * updates, the API server's LimitRanger admission looking up a new namespace's limits). The
 * scheduler's `Scheduled` Events are in `events.k8s.io`, and {@link printerRequestCounts} leaves
 * that group out.
 */
const CONTROL_PLANE_ONLY = new Set(['POST pods/binding', 'PATCH pods/status', 'PUT pods/status', 'LIST limitranges']);

/**
 * `apiserver_request_total` like {@link AdminApi.requestCounts}, minus what the control plane does
 * for every Pod (see {@link CONTROL_PLANE_ONLY}): kept apart because the Pods' traffic would
 * otherwise dwarf the operator's own.
 */
export async function printerRequestCounts(api: AdminApi): Promise<RequestCounts> {
  const res = await api.request('GET', '/metrics');
  if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status}`);
  const counts: RequestCounts = new Map();
  for (const line of res.text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    if (/group="events\.k8s\.io"/.test(line)) continue;
    const verb = /verb="([^"]*)"/.exec(line)?.[1] ?? '';
    const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? '';
    const sub = /subresource="([^"]*)"/.exec(line)?.[1] ?? '';
    const key = `${verb} ${resource}${sub ? `/${sub}` : ''}`;
    if (CONTROL_PLANE_ONLY.has(key)) continue;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}
