/**
 * The local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
 * (one simulated Node whose Pods go Pending → Running → Succeeded), built from pinned sources by
 * ../build.sh and started as loopback-only processes; plus, when the machine allows it, a real
 * node (node.ts: kubelet and containerd, for Pods that must really run).
 *
 * Guarantees:
 * - `up` is idempotent: when a healthy plane already runs from the same state folder it is reused;
 *   when some of its components are down, only those start again, on the recorded ports and data.
 * - Nothing of the user's is deleted unless asked: `down` (stop and remove the folder) and `reset`
 *   (down, then up) are the only ways state goes.
 * - Ports are chosen by the OS, so two planes (two state folders) on one machine never clash.
 * - `down` stops exactly the processes `up` started (by recorded pid, checked against the binary)
 *   and removes the state folder.
 * - A component that fails to start makes `up` fail with the tail of that component's log.
 * - The API server enforces RBAC and authenticates with client certificates and ServiceAccount
 *   tokens; the admin kubeconfig is in group system:masters.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { call, waitUntil } from './http.ts';
import { ensurePki, kubeconfigYaml, type Pki } from './pki.ts';
import { freePorts } from './ports.ts';
import { isRunning, startDetached, stopProcess, tail } from './process.ts';
import { controlplaneDir, stateDirFor } from './recipe.ts';
// The real node (kubelet + containerd beside kwok) lives in node.ts; plane.ts only calls it.
import { KUBELET_CLIENT_USER, REAL_NODE_GROUP, REAL_NODE_USER, realNodeComponents, startRealNode, stopRealNode, type RealNodeState } from './node.ts';

/** Where state lives unless a `dir` is given (`stateDirFor` in recipe.ts says how it is chosen). */
export const defaultStateDir = stateDirFor();

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
 * Brings the plane up and returns its state. The admin kubeconfig is at `state.kubeconfig`.
 *
 * - No plane recorded in the folder: a new one starts, on ports the OS picks.
 * - A healthy plane: reused as it is.
 * - A recorded plane with components down (a crash, a reboot, a killed process): only those are
 *   started again, on the recorded ports, with the same arguments and the same etcd data, so the
 *   objects created before are still there and kubeconfigs stay valid. Nothing is deleted; wiping
 *   is `down` or `reset`, and only when asked for.
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
  if (current.state) return repair(current.state, current.components, log);
  return startNew(dir, log);
}

/**
 * Stops one component of the plane in `dir` (by its recorded pid) and starts it again with its
 * recorded arguments; the rest of the plane keeps running. Returns the plane's state.
 *
 * @example
 * ```ts
 * await restart('kube-scheduler');
 * ```
 */
export async function restart(component: string, options: UpOptions = {}): Promise<PlaneState> {
  const dir = resolve(options.dir ?? defaultStateDir);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!isComponent(component)) throw new Error(`unknown component "${component}": expected one of ${COMPONENTS.join(', ')}`);
  const state = readState(dir);
  if (!state) throw new Error(`no control plane recorded in ${dir}: start one with "up"`);
  const pid = state.pids[component];
  if (pid) await stopProcess(pid, join(state.binDir, component));
  const now = await status(dir);
  return repair(state, now.components, log);
}

/** The components of every plane, in start order. */
export const COMPONENT_NAMES: readonly string[] = COMPONENTS;

function isComponent(name: string): name is Component {
  return (COMPONENTS as readonly string[]).includes(name);
}

/** The PKI of a plane: every identity its components and the real node use. Created once, then reused. */
function planePki(dir: string): Pki {
  return ensurePki(join(dir, 'pki'), {
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
}

function kubeconfigFiles(dir: string): Record<'admin' | 'system:kube-controller-manager' | 'system:kube-scheduler' | 'system:kwok', string> {
  return {
    admin: join(dir, 'admin.kubeconfig'),
    'system:kube-controller-manager': join(dir, 'controller-manager.kubeconfig'),
    'system:kube-scheduler': join(dir, 'scheduler.kubeconfig'),
    'system:kwok': join(dir, 'kwok.kubeconfig'),
  };
}

/**
 * A component's command line, derived only from the recorded state (folder, ports) and the PKI, so
 * that a restart runs exactly what the first start ran.
 */
function componentArgs(c: Component, state: PlaneState, pki: Pki): string[] {
  const { dir, ports } = state;
  const kubeconfigs = kubeconfigFiles(dir);
  const componentServing = (port: number): string[] => [
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
    '--leader-elect=false',
  ];
  switch (c) {
    case 'etcd':
      return [
        '--name=operon',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${ports.etcd}`,
        `--advertise-client-urls=http://127.0.0.1:${ports.etcd}`,
        `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-cluster=operon=http://127.0.0.1:${ports.etcdPeer}`,
        // Test data is disposable: skipping fsync makes every write much faster on a shared disk.
        // A killed etcd keeps its data (the OS still has the writes); only a machine crash loses them.
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ];
    case 'kube-apiserver':
      return [
        `--etcd-servers=${state.etcdUrl}`,
        '--bind-address=127.0.0.1',
        // Without it, a loopback bind makes the server look for a default-route interface and fail.
        '--advertise-address=127.0.0.1',
        `--secure-port=${ports.apiserver}`,
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
      ];
    case 'kube-controller-manager':
      return [
        `--kubeconfig=${kubeconfigs['system:kube-controller-manager']}`,
        `--authentication-kubeconfig=${kubeconfigs['system:kube-controller-manager']}`,
        `--authorization-kubeconfig=${kubeconfigs['system:kube-controller-manager']}`,
        ...componentServing(ports.controllerManager),
        `--controllers=${CONTROLLERS.join(',')}`,
        `--root-ca-file=${pki.caCert}`,
        `--service-account-private-key-file=${pki.saKey}`,
        '--use-service-account-credentials=false',
        '--v=1',
      ];
    case 'kube-scheduler':
      return [
        `--kubeconfig=${kubeconfigs['system:kube-scheduler']}`,
        `--authentication-kubeconfig=${kubeconfigs['system:kube-scheduler']}`,
        `--authorization-kubeconfig=${kubeconfigs['system:kube-scheduler']}`,
        ...componentServing(ports.scheduler),
        '--v=1',
      ];
    case 'kwok':
      return [
        `--kubeconfig=${kubeconfigs['system:kwok']}`,
        `--config=${join(dir, 'kwok.yaml')}`,
        '--manage-nodes-with-label-selector=type=kwok',
        '--node-ip=127.0.0.1',
        `--node-port=${ports.kwok}`,
        `--server-address=127.0.0.1:${ports.kwok}`,
        `--tls-cert-file=${pki.serverCert}`,
        `--tls-private-key-file=${pki.serverKey}`,
        '--cidr=10.244.0.0/16',
        '--node-lease-duration-seconds=0',
      ];
  }
}

/** Starts components of a recorded plane and waits for each to be healthy, in start order. */
class Launcher {
  readonly state: PlaneState;
  readonly pki: Pki;
  constructor(state: PlaneState, pki: Pki) {
    this.state = state;
    this.pki = pki;
  }

  save(): void {
    writeFileSync(stateFile(this.state.dir), JSON.stringify(this.state, null, 2));
  }

  private logFile(c: Component): string {
    return join(this.state.dir, `${c}.log`);
  }

  private failed(c: Component): () => string {
    return () => {
      const alive = isRunning(this.state.pids[c], join(this.state.binDir, c)) ? 'still running' : 'exited';
      return `${c} ${alive}; last lines of ${this.logFile(c)}:\n${tail(this.logFile(c))}`;
    };
  }

  start(c: Component): void {
    if (c === 'kwok') writeFileSync(join(this.state.dir, 'kwok.yaml'), kwokStages(this.state.binDir));
    this.state.pids[c] = startDetached(join(this.state.binDir, c), componentArgs(c, this.state, this.pki), this.logFile(c)).pid;
    this.save();
  }

  async healthy(c: Component): Promise<void> {
    const { state, pki } = this;
    const healthz = (port: number) => async () => (await call(`https://127.0.0.1:${port}/healthz`, { insecure: true })).status === 200;
    switch (c) {
      case 'etcd':
        return waitUntil('etcd', 30_000, async () => (await call(`${state.etcdUrl}/health`, {})).body.includes('"true"'), this.failed(c));
      case 'kube-apiserver':
        return waitUntil('kube-apiserver', 120_000, async () => (await call(`${state.server}/readyz`, { ca: pki.caCert })).status === 200, this.failed(c));
      case 'kube-controller-manager':
        return waitUntil(c, 60_000, healthz(state.ports.controllerManager), this.failed(c));
      case 'kube-scheduler':
        return waitUntil(c, 60_000, healthz(state.ports.scheduler), this.failed(c));
      case 'kwok':
        await waitUntil('kwok', 60_000, healthz(state.ports.kwok), this.failed(c));
        await createKwokNode(state.server, pki);
        return waitUntil('the kwok Node', 60_000, () => nodeReady(state.server, pki, KWOK_NODE), this.failed(c));
    }
  }
}

async function startNew(dir: string, log: (line: string) => void): Promise<PlaneState> {
  const binDir = buildBinaries(log);
  mkdirSync(dir, { recursive: true });
  const [etcd, etcdPeer, apiserver, controllerManager, scheduler, kwok] = (await freePorts(6)) as [number, number, number, number, number, number];
  const ports = { etcd, etcdPeer, apiserver, controllerManager, scheduler, kwok };
  const server = `https://127.0.0.1:${apiserver}`;
  const pki = planePki(dir);
  for (const [user, file] of Object.entries(kubeconfigFiles(dir))) writeFileSync(file, kubeconfigYaml(server, pki, user), { mode: 0o600 });

  const state: PlaneState = {
    version: 1,
    dir,
    binDir,
    server,
    kubeconfig: kubeconfigFiles(dir).admin,
    etcdUrl: `http://127.0.0.1:${etcd}`,
    ports,
    pids: {} as Record<Component, number>,
    startedAt: new Date().toISOString(),
  };
  const launch = new Launcher(state, pki);
  try {
    log(`control plane: starting etcd on 127.0.0.1:${etcd}`);
    launch.start('etcd');
    await launch.healthy('etcd');
    log(`control plane: starting kube-apiserver on ${server}`);
    launch.start('kube-apiserver');
    await launch.healthy('kube-apiserver');
    log('control plane: starting kube-controller-manager and kube-scheduler');
    launch.start('kube-controller-manager');
    launch.start('kube-scheduler');
    log(`control plane: starting kwok (simulated node ${KWOK_NODE})`);
    launch.start('kwok');
    for (const c of ['kube-controller-manager', 'kube-scheduler', 'kwok'] as const) await launch.healthy(c);
    launch.save();

    // The real node, when the machine allows it (else its state says why, and kwok carries on alone).
    state.realNode = await startRealNode({ stateDir: dir, binDir, server, pki, log, save: (node) => ((state.realNode = node), launch.save()) });
    launch.save();
    log(`control plane: ready. export KUBECONFIG=${state.kubeconfig}`);
    return state;
  } catch (err) {
    // A plane that never came up holds no data of the user's: remove it, keep the logs.
    await down({ dir, log: () => {}, keepLogs: true });
    throw err;
  }
}

/**
 * Starts again, in start order, the components of a recorded plane that are not running, with
 * their recorded ports, arguments and data. A component that does not come back fails `up` with
 * its log, and the plane's folder is left as it is for a look (or `reset`).
 */
async function repair(recorded: PlaneState, components: Record<string, boolean>, log: (line: string) => void): Promise<PlaneState> {
  const state: PlaneState = { ...recorded, pids: { ...recorded.pids } };
  // The binaries of a recorded plane stay where they were built (~/.cache/operon); only a cache
  // that was cleared since makes `up` build them again.
  if (!existsSync(join(state.binDir, 'kube-apiserver'))) state.binDir = buildBinaries(log);
  const pki = planePki(state.dir);
  const launch = new Launcher(state, pki);
  const stopped = COMPONENTS.filter((c) => !components[c]);
  const apiserverUnready = components['kube-apiserver'] === true && components['readyz'] === false;
  log(`control plane: ${stopped.length > 0 ? `${stopped.join(', ')} not running` : 'API server not ready'}; starting again on the recorded ports, with the recorded data`);
  try {
    for (const c of COMPONENTS) {
      if (stopped.includes(c)) {
        log(`control plane: starting ${c}`);
        launch.start(c);
      }
      // Each component needs the ones before it; an API server that was up reconnects to a
      // restarted etcd by itself, so it is waited for rather than restarted.
      if (stopped.includes(c) || (c === 'kube-apiserver' && (apiserverUnready || stopped.includes('etcd')))) await launch.healthy(c);
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${message}\nthe plane's data in ${state.dir} is untouched; to start from an empty plane, run "reset"`, { cause: err });
  }
  // The real node holds no data of the user's (its Pods are in etcd): when part of it died, it is
  // stopped and started afresh.
  const node = realNodeComponents(state.realNode);
  if (Object.values(node).some((ok) => !ok) && state.realNode !== undefined) {
    log('control plane: the real node is partly down; starting it again');
    await stopRealNode(state.realNode, { server: state.server, tls: { ca: pki.caCert, ...pki.client('admin') }, log });
    state.realNode = await startRealNode({ stateDir: state.dir, binDir: state.binDir, server: state.server, pki, log, save: (n) => ((state.realNode = n), launch.save()) });
  }
  launch.save();
  log(`control plane: ready. export KUBECONFIG=${state.kubeconfig}`);
  return state;
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
