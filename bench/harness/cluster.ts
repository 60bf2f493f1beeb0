/**
 * The cluster side shared by the benchmark and the fault suite (chaos/): CRDs applied and served,
 * namespaces made and emptied (finalizers a stopped operator left are lifted), prices set on the
 * local CoinGecko stand-in, and the machine a run measured on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { call } from '../../src/cluster/http.ts';
import type { CoinGeckoServer } from '../../operators/crypto/price/server.ts';
import type { AdminApi } from './api.ts';
import { GROUP_PATH } from './cvcs.ts';

/** The machine a run measured on. */
export interface Machine {
  nproc: number;
  memoryMiB: number;
  kernel: string;
  cpu: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Compacts etcd's history to its current revision and defragments its file, so that every
 * contender meets the same near-empty etcd: a plane keeps every revision of the objects earlier
 * contenders created and deleted until the API server's compactor (every 5 minutes) frees them,
 * and bbolt never gives pages back without a defragmentation. Four 5,000-CVC bursts in a row grew
 * the file from 0.3 to 74 MiB, all of it still in use. Called between contenders, when no operator
 * runs and the harness's own watches are stopped; the components' watches are current, so the
 * compaction sends none of them back to a relist. A failure is logged and the run goes on: the
 * step makes runs comparable, it does not make them correct.
 */
export async function compactEtcd(etcdUrl: string, log: (line: string) => void): Promise<void> {
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const answer = await call(`${etcdUrl}${path}`, {}, 'POST', body);
    if (answer.status !== 200) throw new Error(`POST ${path}: ${answer.status} ${answer.body.slice(0, 200)}`);
    return JSON.parse(answer.body) as Record<string, unknown>;
  };
  try {
    const status = await post('/v3/maintenance/status', {});
    const revision = (status['header'] as { revision?: string } | undefined)?.revision;
    const before = Number(status['dbSize'] ?? 0);
    if (revision !== undefined) {
      await post('/v3/kv/compaction', { revision, physical: true }).catch((err: unknown) => {
        // Already compacted at this revision (by the API server's compactor): nothing to free.
        if (!String(err).includes('compacted')) throw err;
      });
    }
    await post('/v3/maintenance/defragment', {});
    const after = Number((await post('/v3/maintenance/status', {}))['dbSize'] ?? 0);
    log(`etcd compacted and defragmented: ${(before / 1048576).toFixed(1)} → ${(after / 1048576).toFixed(1)} MiB`);
  } catch (err) {
    log(`etcd compaction skipped: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The machine a run measured on, from /proc. */
export function machine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  return {
    nproc: (cpuinfo.match(/^processor\s*:/gm) ?? []).length,
    memoryMiB: Math.round(Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0) / 1024),
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
  };
}

/** The CRD in `file` applied, established and served at `probe`. */
export async function applyCrd(api: AdminApi, repo: string, file = 'bench/crds/cvc.yaml', probe = `${GROUP_PATH}/cryptovaluecalculators?limit=1`): Promise<void> {
  const crd = parseYaml(readFileSync(join(repo, file), 'utf8')) as { metadata: { name: string; resourceVersion?: string } };
  const path = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  const created = await api.request('POST', path, crd);
  if (created.status === 409) {
    const current = await api.json<{ metadata: { resourceVersion: string }; spec: { conversion?: { strategy?: string } } }>('GET', `${path}/${crd.metadata.name}`);
    // A CRD that converts between versions through a webhook (the shared test plane's, with v2) is
    // kept: replacing it would drop the versions its objects are read in. Its v1 is the bench's.
    if (current.spec.conversion?.strategy !== 'Webhook') {
      crd.metadata.resourceVersion = current.metadata.resourceVersion;
      await api.json('PUT', `${path}/${crd.metadata.name}`, crd);
    }
  } else if (created.status !== 201) {
    throw new Error(`creating the CRD of ${file}: HTTP ${created.status} ${created.text}`);
  }
  for (let i = 0; i < 300; i++) {
    const got = await api.json<{ status?: { conditions?: Array<{ type: string; status: string }> } }>('GET', `${path}/${crd.metadata.name}`);
    if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) {
      // Served only once discovery has it; a contender starting earlier would see 404.
      if ((await api.request('GET', probe)).status === 200) return;
    }
    await sleep(200);
  }
  throw new Error(`the CRD of ${file} did not become established`);
}

/** Creates namespace `name` (it must not exist). */
export async function createNamespace(api: AdminApi, name: string): Promise<void> {
  await api.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, [201]);
}

/**
 * Waits for the `default` ServiceAccount the controller-manager makes in a new namespace: until it
 * exists, the API server refuses every Pod there, and a contender's first creates would fail.
 */
export async function serviceAccountReady(api: AdminApi, namespace: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await api.request('GET', `/api/v1/namespaces/${namespace}/serviceaccounts/default`)).status === 200) return;
    await sleep(100);
  }
  throw new Error(`no default ServiceAccount in ${namespace} after 30 s`);
}

/**
 * Deletes the objects of each collection in turn (default: the CVCs), lifting finalizers a stopped
 * operator left, then the namespace; waits until all are gone.
 */
export async function cleanUp(api: AdminApi, namespace: string, log: (line: string) => void, collections: readonly string[] = [`${GROUP_PATH}/namespaces/${namespace}/cryptovaluecalculators`]): Promise<void> {
  for (const collection of collections) await deleteAll(api, collection, log);
  await api.request('DELETE', `/api/v1/namespaces/${namespace}`);
  for (let i = 0; ; i++) {
    if ((await api.request('GET', `/api/v1/namespaces/${namespace}`)).status === 404) return;
    if (i > 1200) throw new Error(`clean-up: namespace ${namespace} did not go in 4 minutes`);
    await sleep(200);
  }
}

/** {@link cleanUp} after a contender's run: what was measured stands even if it fails (logged), as the next contender has a namespace of its own. */
export async function cleanUpAfter(api: AdminApi, namespace: string, log: (line: string) => void, collections?: readonly string[]): Promise<void> {
  try {
    await cleanUp(api, namespace, log, collections);
  } catch (err) {
    log(`clean-up of ${namespace} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Deletes every object of `collection` and waits until none is left, lifting finalizers a stopped
 * operator left. Tens of thousands of objects outlast the DELETE's own timeout while the server
 * goes on deleting, so only a count that stops falling for two minutes is a failure.
 */
export async function deleteAll(api: AdminApi, collection: string, log: (line: string) => void): Promise<void> {
  try {
    await api.request('DELETE', collection);
  } catch (err) {
    log(`  clean-up: DELETE ${collection}: ${err instanceof Error ? err.message : String(err)}; the server goes on deleting, waiting for it`);
  }
  let fewest = Infinity;
  let fellAt = Date.now();
  for (let i = 0; ; i++) {
    const left = await firstPage(api, collection);
    if (left === undefined) throw new Error(`clean-up: the server does not serve ${collection}`);
    const count = left.count;
    if (count === 0) return;
    if (count < fewest) [fewest, fellAt] = [count, Date.now()];
    // The operator has stopped, so finalizers it added (kopf adds one for timers) stay until lifted.
    if (i % 25 === 5 && left.items.some((o) => o.metadata.finalizers?.length)) {
      log(`  clean-up: lifting finalizers the stopped operator left on ${collection}`);
      const all = await api.json<{ items: ListedObject[] }>('GET', collection);
      await Promise.all(
        all.items.filter((o) => o.metadata.finalizers?.length).map((o) => api.request('PATCH', `${collection}/${o.metadata.name}`, { metadata: { finalizers: null } }, 'application/merge-patch+json')),
      );
    }
    if (Date.now() - fellAt > 120_000) throw new Error(`clean-up: ${count} objects in ${collection} stopped going for 2 minutes`);
    await sleep(count > 5_000 ? 1_000 : 200);
  }
}

interface ListedObject {
  metadata: { name: string; namespace?: string; finalizers?: string[] };
}

/**
 * The first 500 objects of `collection` and how many it holds in all (the page plus the server's
 * `remainingItemCount`); `undefined` when the server does not serve it (no such CRD).
 */
async function firstPage(api: AdminApi, collection: string): Promise<{ items: ListedObject[]; count: number } | undefined> {
  const res = await api.request('GET', `${collection}?limit=500`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET ${collection}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
  const list = JSON.parse(res.text) as { items: ListedObject[]; metadata?: { remainingItemCount?: number } };
  return { items: list.items, count: list.items.length + (list.metadata?.remainingItemCount ?? 0) };
}

/**
 * Removes what an earlier run left (a clean-up that failed, a run that was stopped): every
 * `bench-` namespace with its CVCs, so no contender starts with another's objects in its watch.
 */
export async function cleanUpLeftovers(api: AdminApi, log: (line: string) => void): Promise<void> {
  const namespaces = await api.json<{ items: Array<{ metadata: { name: string } }> }>('GET', '/api/v1/namespaces');
  for (const { metadata } of namespaces.items.filter((ns) => ns.metadata.name.startsWith('bench-'))) {
    log(`clean-up: namespace ${metadata.name} is left from an earlier run; deleting it first`);
    await cleanUp(api, metadata.name, log);
  }
}

/**
 * Stops the run when the plane holds objects the contenders would count that no benchmark made:
 * every contender watches all namespaces, so CVCs or Printers left by someone else (a test, a
 * hand-run operator) are listed, valued and written by each of them, and every figure is wrong
 * while looking plausible. `collections` are cluster-wide list paths.
 */
export async function refuseForeignObjects(api: AdminApi, collections: readonly string[]): Promise<void> {
  for (const path of collections) {
    const list = await firstPage(api, path);
    if (!list?.count) continue;
    const namespaces = [...new Set(list.items.map((o) => o.metadata.namespace ?? ''))];
    throw new Error(
      `the plane holds ${list.count} objects of ${path} that no benchmark made, in namespace(s) ${namespaces.join(', ')}: every contender watches all namespaces and would count them; delete them (kubectl delete namespace ${namespaces.join(' ')}) or give the benchmark a plane of its own (OPERON_BENCH_PLANE_DIR)`,
    );
  }
}

/** Sets `next` prices on the price stand-in and in `current`; returns `current`. */
export function pricesOf(server: CoinGeckoServer, current: Map<string, string>, next: Record<string, string>): Map<string, string> {
  for (const [coin, price] of Object.entries(next)) {
    server.setPrice(coin, price);
    current.set(coin, price);
  }
  return current;
}

/** Adds `delta` to a decimal price text without binary floats (prices here have ≤ 8 decimals). */
export function bump(price: string, delta: string): string {
  const scale = 8;
  const toInt = (s: string): bigint => {
    const [i = '0', f = ''] = s.split('.');
    return BigInt(i) * 10n ** BigInt(scale) + BigInt((f + '0'.repeat(scale)).slice(0, scale));
  };
  const v = toInt(price) + toInt(delta);
  const text = v.toString().padStart(scale + 1, '0');
  return `${text.slice(0, -scale)}.${text.slice(-scale)}`.replace(/\.?0+$/, '');
}

/** `x` rounded to `places` decimals. */
export function round(x: number, places: number): number {
  const f = 10 ** places;
  return Math.round(x * f) / f;
}
