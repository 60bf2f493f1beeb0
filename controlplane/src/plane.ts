/**
 * The local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
 * (one simulated Node whose Pods go Pending → Running → Succeeded), built from pinned sources by
 * ../build.sh and started as loopback-only processes; plus, when the machine allows it, a real
 * node (node.ts: kubelet and containerd, for Pods that must really run).
 *
 * Guarantees:
 * - `up` is idempotent: when a healthy plane already runs from the same state folder it is reused.
 * - Ports are chosen by the OS, so two planes (two state folders) on one machine never clash.
 * - `down` stops exactly the processes `up` started (by recorded pid, checked against the binary)
 *   and removes the state folder.
 * - A component that fails to start makes `up` fail with the tail of that component's log.
 * - The API server enforces RBAC and authenticates with client certificates and ServiceAccount
 *   tokens; the admin kubeconfig is in group system:masters.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { call, waitUntil } from './http.ts';
import { ensurePki, kubeconfigYaml, type Pki } from './pki.ts';
import { freePorts } from './ports.ts';
import { isRunning, startDetached, stopProcess, tail } from './process.ts';
// The real node (kubelet + containerd beside kwok) lives in node.ts; plane.ts only calls it.
import { KUBELET_CLIENT_USER, REAL_NODE_GROUP, REAL_NODE_USER, realNodeComponents, startRealNode, stopRealNode, type RealNodeState } from './node.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** The controlplane/ folder. */
export const controlplaneDir = resolve(here, '..');
const repoDir = resolve(controlplaneDir, '..');

/** Where state lives unless OPERON_CONTROLPLANE_DIR says otherwise: inside the (ignored) .cache of the checkout. */
export const defaultStateDir = process.env.OPERON_CONTROLPLANE_DIR ?? join(repoDir, '.cache', 'controlplane');

/** The simulated Node every plane has. */
export const KWOK_NODE = 'kwok-node-0';

const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
type Component = (typeof COMPONENTS)[number];

/**
 * Controllers the plane runs. Garbage collection and namespaces are what operators rely on; the
 * ServiceAccount ones make Pods admissible in new namespaces and give in-cluster tokens; the
 * workload ones let an operator itself run as a Deployment. Node lifecycle is left out on purpose:
 * without kubelet heartbeats it would taint and evict kwok's Node.
 */
const CONTROLLERS = [
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'root-ca-certificate-publisher-controller',
  'deployment-controller',
  'replicaset-controller',
  'job-controller',
];

export interface PlaneState {
  version: 1;
  dir: string;
  binDir: string;
  server: string;
  kubeconfig: string;
  etcdUrl: string;
  ports: Record<'etcd' | 'etcdPeer' | 'apiserver' | 'controllerManager' | 'scheduler' | 'kwok', number>;
  pids: Record<Component, number>;
  startedAt: string;
  /** The real node (node.ts): running, or why not. Absent in planes started before it existed. */
  realNode?: RealNodeState;
}

export interface UpOptions {
  dir?: string;
  /** Progress lines go here (stderr by default). */
  log?: (line: string) => void;
}

function stateFile(dir: string): string {
  return join(dir, 'state.json');
}

/** The recorded state of the plane in `dir`, or undefined when none was started there. */
export function readState(dir = defaultStateDir): PlaneState | undefined {
  if (!existsSync(stateFile(dir))) return undefined;
  return JSON.parse(readFileSync(stateFile(dir), 'utf8')) as PlaneState;
}

/** Health of each component of a recorded plane. */
export async function status(dir = defaultStateDir): Promise<{ state: PlaneState | undefined; components: Record<string, boolean>; healthy: boolean }> {
  const state = readState(dir);
  if (!state) return { state, components: {}, healthy: false };
  const components: Record<string, boolean> = {};
  for (const c of COMPONENTS) components[c] = isRunning(state.pids[c], join(state.binDir, c));
  Object.assign(components, realNodeComponents(state.realNode));
  if (components['kube-apiserver']) {
    components['readyz'] = await call(`${state.server}/readyz`, { ca: join(dir, 'pki', 'ca.crt') })
      .then((r) => r.status === 200)
      .catch(() => false);
  }
  const healthy = Object.values(components).length > 0 && Object.values(components).every(Boolean);
  return { state, components, healthy };
}

/** Builds (when needed) and returns the folder holding the binaries. */
export function buildBinaries(log: (line: string) => void): string {
  log('control plane: checking binaries (first build compiles Kubernetes from source)');
  const out = execFileSync('bash', [join(controlplaneDir, 'build.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  return out.toString().trim().split('\n').pop() ?? '';
}

/**
 * Brings the plane up (or reuses a healthy one) and returns its state. The admin kubeconfig is at
 * `state.kubeconfig`.
 *
 * @example
 * ```ts
 * const plane = await up();
 * process.env.KUBECONFIG = plane.kubeconfig;
 * ```
 */
export async function up(options: UpOptions = {}): Promise<PlaneState> {
  const dir = resolve(options.dir ?? defaultStateDir);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const current = await status(dir);
  if (current.healthy && current.state) {
    log(`control plane: already running (${current.state.server})`);
    return current.state;
  }
  if (current.state) {
    log('control plane: found a stopped or broken plane, cleaning it up');
    await down({ dir, log: () => {} });
  }

  const binDir = buildBinaries(log);
  const bin = (c: string): string => join(binDir, c);
  mkdirSync(dir, { recursive: true });
  const [etcd, etcdPeer, apiserver, controllerManager, scheduler, kwok] = (await freePorts(6)) as [number, number, number, number, number, number];
  const ports = { etcd, etcdPeer, apiserver, controllerManager, scheduler, kwok };
  const server = `https://127.0.0.1:${apiserver}`;
  const pki = ensurePki(join(dir, 'pki'), {
    // Components act for the whole cluster; system:masters keeps their permissions out of the way
    // (the names still show who did what in audit and events).
    admin: ['system:masters'],
    'system:kube-controller-manager': ['system:masters'],
    'system:kube-scheduler': ['system:masters'],
    'system:kwok': ['system:masters'],
    // Real node: the API server's identity towards kubelets, and the kubelet's own (Node authorizer).
    [KUBELET_CLIENT_USER]: ['system:masters'],
    [REAL_NODE_USER]: [REAL_NODE_GROUP],
  });
  const kubeconfigs = {
    admin: join(dir, 'admin.kubeconfig'),
    'system:kube-controller-manager': join(dir, 'controller-manager.kubeconfig'),
    'system:kube-scheduler': join(dir, 'scheduler.kubeconfig'),
    'system:kwok': join(dir, 'kwok.kubeconfig'),
  };
  for (const [user, file] of Object.entries(kubeconfigs)) writeFileSync(file, kubeconfigYaml(server, pki, user), { mode: 0o600 });

  const pids = {} as Record<Component, number>;
  const state: PlaneState = {
    version: 1,
    dir,
    binDir,
    server,
    kubeconfig: kubeconfigs.admin,
    etcdUrl: `http://127.0.0.1:${etcd}`,
    ports,
    pids,
    startedAt: new Date().toISOString(),
  };
  const save = (): void => writeFileSync(stateFile(dir), JSON.stringify(state, null, 2));
  const start = (c: Component, args: string[]): string => {
    const logFile = join(dir, `${c}.log`);
    pids[c] = startDetached(bin(c), args, logFile).pid;
    save();
    return logFile;
  };
  const failed = (c: Component, logFile: string) => () => {
    const alive = isRunning(pids[c], bin(c)) ? 'still running' : 'exited';
    return `${c} ${alive}; last lines of ${logFile}:\n${tail(logFile)}`;
  };

  try {
    log(`control plane: starting etcd on 127.0.0.1:${etcd}`);
    const etcdLog = start('etcd', [
      '--name=operon',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcd}`,
      `--advertise-client-urls=http://127.0.0.1:${etcd}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=operon=http://127.0.0.1:${etcdPeer}`,
      // Test data is disposable: skipping fsync makes every write much faster on a shared disk.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);
    await waitUntil('etcd', 30_000, async () => (await call(`${state.etcdUrl}/health`, {})).body.includes('"true"'), failed('etcd', etcdLog));

    log(`control plane: starting kube-apiserver on ${server}`);
    const apiLog = start('kube-apiserver', [
      `--etcd-servers=${state.etcdUrl}`,
      '--bind-address=127.0.0.1',
      // Without it, a loopback bind makes the server look for a default-route interface and fail.
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiserver}`,
      `--cert-dir=${join(dir, 'apiserver')}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      // Node: kubelets (user system:node:<name>, group system:nodes) get what their Pods need.
      '--authorization-mode=Node,RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.saKey}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      // TaintNodesByCondition would taint every new Node not-ready until node-lifecycle (not run here) clears it.
      '--disable-admission-plugins=TaintNodesByCondition',
      // `kubectl logs` reaches kwok (or a kubelet) at the Node's InternalIP.
      '--kubelet-preferred-address-types=InternalIP,Hostname',
      `--kubelet-client-certificate=${pki.client(KUBELET_CLIENT_USER).cert}`,
      `--kubelet-client-key=${pki.client(KUBELET_CLIENT_USER).key}`,
      `--kubelet-certificate-authority=${pki.caCert}`,
      // The loopback address cannot be written into the kubernetes Endpoints; nothing here needs it.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
      '--v=1',
    ]);
    await waitUntil('kube-apiserver', 120_000, async () => (await call(`${server}/readyz`, { ca: pki.caCert })).status === 200, failed('kube-apiserver', apiLog));

    const componentServing = (port: number): string[] => [
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
      '--leader-elect=false',
    ];
    log('control plane: starting kube-controller-manager and kube-scheduler');
    const kcmLog = start('kube-controller-manager', [
      `--kubeconfig=${kubeconfigs['system:kube-controller-manager']}`,
      `--authentication-kubeconfig=${kubeconfigs['system:kube-controller-manager']}`,
      `--authorization-kubeconfig=${kubeconfigs['system:kube-controller-manager']}`,
      ...componentServing(controllerManager),
      `--controllers=${CONTROLLERS.join(',')}`,
      `--root-ca-file=${pki.caCert}`,
      `--service-account-private-key-file=${pki.saKey}`,
      '--use-service-account-credentials=false',
      '--v=1',
    ]);
    const schedLog = start('kube-scheduler', [
      `--kubeconfig=${kubeconfigs['system:kube-scheduler']}`,
      `--authentication-kubeconfig=${kubeconfigs['system:kube-scheduler']}`,
      `--authorization-kubeconfig=${kubeconfigs['system:kube-scheduler']}`,
      ...componentServing(scheduler),
      '--v=1',
    ]);

    log(`control plane: starting kwok (simulated node ${KWOK_NODE})`);
    const kwokConfig = join(dir, 'kwok.yaml');
    writeFileSync(kwokConfig, kwokStages(binDir));
    const kwokLog = start('kwok', [
      `--kubeconfig=${kubeconfigs['system:kwok']}`,
      `--config=${kwokConfig}`,
      '--manage-nodes-with-label-selector=type=kwok',
      '--node-ip=127.0.0.1',
      `--node-port=${kwok}`,
      `--server-address=127.0.0.1:${kwok}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      '--cidr=10.244.0.0/16',
      '--node-lease-duration-seconds=0',
    ]);

    const healthz = (port: number) => async () => (await call(`https://127.0.0.1:${port}/healthz`, { insecure: true })).status === 200;
    await waitUntil('kube-controller-manager', 60_000, healthz(controllerManager), failed('kube-controller-manager', kcmLog));
    await waitUntil('kube-scheduler', 60_000, healthz(scheduler), failed('kube-scheduler', schedLog));
    await waitUntil('kwok', 60_000, healthz(kwok), failed('kwok', kwokLog));

    await createKwokNode(server, pki);
    await waitUntil('the kwok Node', 60_000, () => nodeReady(server, pki, KWOK_NODE), failed('kwok', kwokLog));
    save();

    // The real node, when the machine allows it (else its state says why, and kwok carries on alone).
    state.realNode = await startRealNode({ stateDir: dir, binDir, server, pki, log, save: (node) => ((state.realNode = node), save()) });
    save();
    log(`control plane: ready. export KUBECONFIG=${state.kubeconfig}`);
    return state;
  } catch (err) {
    await down({ dir, log: () => {}, keepLogs: true });
    throw err;
  }
}

/** Stops the processes of the plane in `dir` and removes its state (logs too, unless `keepLogs`). */
export async function down(options: { dir?: string; log?: (line: string) => void; keepLogs?: boolean } = {}): Promise<void> {
  const dir = resolve(options.dir ?? defaultStateDir);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const state = readState(dir);
  if (!state) {
    log('control plane: nothing to stop');
    return;
  }
  // The real node first, while the API server can still delete its Pods.
  if (state.realNode) {
    const pki = join(dir, 'pki');
    await stopRealNode(state.realNode, { server: state.server, tls: { ca: join(pki, 'ca.crt'), cert: join(pki, 'admin.crt'), key: join(pki, 'admin.key') }, log });
  }
  // Reverse start order: clients of the API server first, etcd last.
  for (const c of [...COMPONENTS].reverse()) {
    const pid = state.pids[c];
    if (pid) await stopProcess(pid, join(state.binDir, c));
  }
  if (options.keepLogs) {
    rmSync(stateFile(dir), { force: true });
    rmSync(join(dir, 'etcd'), { recursive: true, force: true });
  } else {
    rmSync(dir, { recursive: true, force: true });
  }
  log('control plane: stopped');
}

/**
 * kwok's configuration: its upstream Stages for Node start-up, Pod readiness and Pod deletion (read
 * from the kwok module in the Go module cache, which the build filled), then ours for Pods that
 * run to completion.
 */
function kwokStages(binDir: string): string {
  const upstream = join(binDir, '..', 'kwok-stages');
  const files = ['node-initialize.yaml', 'pod-ready.yaml', 'pod-delete.yaml'].map((f) => join(upstream, f));
  const docs = files.map((f) => readFileSync(f, 'utf8').trim());
  docs.push(readFileSync(join(controlplaneDir, 'kwok', 'stages.yaml'), 'utf8').trim());
  return docs.join('\n---\n') + '\n';
}

async function createKwokNode(server: string, pki: Pki): Promise<void> {
  const admin = { ca: pki.caCert, ...pki.client('admin') };
  // What the simulated Node offers the scheduler. Its Pods cost nothing (kwok only writes their
  // status), so the limits are set to be out of the way: 20,000 Pods lets a benchmark's burst of
  // thousands of run-to-completion Pods (bench/, the printer workload) be scheduled at once, where
  // a kubelet's default of 110 would leave most of them Pending; cpu and memory cover 20,000 of the
  // Printer's 10m / 16Mi requests. The real node (node.ts) keeps its real limits. The Node is
  // created once per plane (every `up` starts from an empty etcd), so 409 only means a racing
  // creator already made it the same way.
  const resources = { cpu: '256', memory: '512Gi', pods: '20000' };
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: KWOK_NODE,
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
      labels: { 'kubernetes.io/hostname': KWOK_NODE, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
    },
    spec: {},
    status: { allocatable: resources, capacity: resources },
  };
  const res = await call(`${server}/api/v1/nodes`, admin, 'POST', node);
  if (res.status !== 201 && res.status !== 409) throw new Error(`creating Node ${KWOK_NODE} failed: HTTP ${res.status} ${res.body}`);
}

async function nodeReady(server: string, pki: Pki, name: string): Promise<boolean> {
  const res = await call(`${server}/api/v1/nodes/${name}`, { ca: pki.caCert, ...pki.client('admin') });
  if (res.status !== 200) return false;
  const node = JSON.parse(res.body) as { status?: { conditions?: Array<{ type: string; status: string }> } };
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
