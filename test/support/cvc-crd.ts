/**
 * The CryptoValueCalculator CRD on a shared test plane, with one conversion webhook for the whole
 * plane.
 *
 * v2 is served and is the preferred version, so `kubectl get cvc`, a namespace's deletion and any
 * v2 read need a conversion webhook that answers. Test files run concurrently on one plane, each
 * with operators of its own; if each pointed the CRD at itself, the first to stop would leave the
 * others (and every later namespace deletion) with a conversion nothing answers. So one process
 * per plane serves it: the real CVC operator, `operon run operators/crypto/operator.ts`, serving
 * its webhooks on a loopback port and watching a namespace of its own that holds no CVCs. The
 * first file that needs it starts it; it outlives the file (it is not a child of the test) and
 * exits once the plane's state folder is gone. Operators a test starts serve their webhooks with
 * `patchCrds: false` (`OPERON_WEBHOOK_PATCH_CRDS=false`), as a developer's process would against a
 * shared cluster.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, type Cluster } from './cluster.ts';
import { freePort } from './processes.ts';
import { FROM_SOURCE } from './source.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const CRD_NAME = 'cryptovaluecalculators.crypto.tools';
/** The holder's own namespace (it watches it; nothing is created there). */
const HOLDER_NAMESPACE = 'operon-cvc-conversion';
/** Where a v1 object waits to be read in v2: the proof that the conversion answers. */
const PROBE_NAMESPACE = 'operon-cvc-probe';
/** A lock older than this was left by a killed test process. */
const STALE_LOCK_MS = 180_000;

interface Holder {
  pid: number;
  port: number;
}

/**
 * Installs the CVC CRD (both versions) and makes sure the plane's conversion webhook answers.
 * Call it at the top of every test file that stores CVCs.
 *
 * @example
 * ```ts
 * const cluster = await useCluster();
 * await useCvcCrd(cluster);
 * ```
 */
export async function useCvcCrd(cluster: Cluster): Promise<void> {
  const lock = join(cluster.state.dir, 'cvc-conversion.lock');
  await acquire(lock);
  try {
    const file = join(cluster.state.dir, 'cvc-conversion.json');
    const holder = readHolder(file);
    if (holder && alive(holder.pid) && (await conversionUrl(cluster)) === urlOf(holder.port)) return;
    if (holder && alive(holder.pid)) process.kill(-holder.pid, 'SIGKILL');
    await installCrd(cluster);
    for (const ns of [HOLDER_NAMESPACE, PROBE_NAMESPACE]) await cluster.kubectlResult(['create', 'namespace', ns]);
    const port = await freePort();
    const pid = startHolder(cluster, port);
    writeFileSync(file, JSON.stringify({ pid, port } satisfies Holder));
    await eventually(async () => (await conversionUrl(cluster)) === urlOf(port), { timeoutMs: 120_000, what: `the CVC operator on :${port} to point the CRD's conversion at itself (log: ${join(cluster.state.dir, 'cvc-conversion.log')})` });
    const probe = { apiVersion: 'crypto.tools/v1', kind: 'CryptoValueCalculator', metadata: { name: 'probe', namespace: PROBE_NAMESPACE }, spec: { coin: 'bitcoin', amount: 1 } };
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(probe) });
    // The API server picks the new conversion up asynchronously: wait until a v2 read converts.
    await eventually(async () => (await cluster.kubectlResult(['get', `${CRD_NAME.replace('.', '.v2.')}`, 'probe', '-n', PROBE_NAMESPACE])).code === 0, {
      timeoutMs: 60_000,
      what: 'a v1 CVC read in v2 through the conversion webhook',
    });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Creates the CRD, or replaces it (an `apply` over a Service-shaped client config would set both). */
async function installCrd(cluster: Cluster): Promise<void> {
  const file = join(repo, 'operators/crypto/crd.yaml');
  if ((await cluster.kubectlResult(['replace', '-f', file])).code !== 0) await cluster.kubectl(['create', '-f', file]);
  await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${CRD_NAME}`]);
}

/** The holder: `operon run` under a shell loop that stops it once the plane's folder is gone. */
function startHolder(cluster: Cluster, port: number): number {
  const log = openSync(join(cluster.state.dir, 'cvc-conversion.log'), 'a');
  const operon = [process.execPath, ...FROM_SOURCE, 'src/cli/main.ts', 'run', 'operators/crypto/operator.ts', '--namespace', HOLDER_NAMESPACE].map(quote).join(' ');
  const script = `${operon} & op=$!; while [ -d ${quote(cluster.state.dir)} ] && kill -0 $op 2>/dev/null; do sleep 5; done; kill $op 2>/dev/null`;
  const child = spawn('bash', ['-c', script], {
    cwd: repo,
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, KUBECONFIG: cluster.kubeconfig, OPERON_WEBHOOK_URL: `https://127.0.0.1:${port}`, OPERON_WEBHOOK_NAME: 'cvc-conversion-holder' },
  });
  child.unref();
  if (child.pid === undefined) throw new Error('could not start the CVC conversion holder');
  return child.pid;
}

async function conversionUrl(cluster: Cluster): Promise<string | undefined> {
  const got = await cluster.kubectlResult(['get', 'crd', CRD_NAME, '-o', 'jsonpath={.spec.conversion.webhook.clientConfig.url}']);
  return got.code === 0 ? got.stdout.trim() : undefined;
}

function urlOf(port: number): string {
  return `https://127.0.0.1:${port}/convert/${CRD_NAME}`;
}

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function acquire(lock: string): Promise<void> {
  await eventually(
    () => {
      try {
        mkdirSync(lock);
        return true;
      } catch {
        try {
          if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
        } catch {
          // Released meanwhile: the next try takes it.
        }
        return false;
      }
    },
    { timeoutMs: 5 * 60_000, what: `the CVC CRD lock ${lock}` },
  );
}

function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
