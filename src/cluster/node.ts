/**
 * The real node: a kubelet (built from the same k8s.io/kubernetes module as the control plane) with
 * containerd, runc and the CNI plugins from Debian, beside kwok's simulated Node. Pods scheduled
 * there really run, and `kubectl logs` prints what they printed.
 *
 * Guarantees:
 * - `startRealNode` first runs a preflight (root, binaries, cgroup controllers, namespaces, overlay,
 *   bridge and veth). When a check fails, the plane carries on with kwok only and its state says
 *   which check failed. OPERON_REAL_NODE=0 turns the node off; OPERON_REAL_NODE=1 makes any
 *   failure fatal to `up`. A node that passes the preflight but fails to start is cleaned up and
 *   recorded as failed, with the reason.
 * - Simulated and real Pods do not mix by accident: the real Node carries the taint
 *   `operon.dev/real-node=true:NoSchedule`. A Pod meant to run for real tolerates it and selects
 *   `operon.dev/node=real`; every other Pod keeps landing on kwok's Node.
 * - What the node creates is named after its state folder (bridge `opn<id>`, cgroup `/operon-<id>`,
 *   CNI network `operon-<id>`, a /24 in 10.200.0.0/16 not used on the machine) or lives under
 *   `<state>/node`, so two planes on one machine stay apart. The few machine-wide side effects
 *   (kernel settings the kubelet insists on, /run/containerd for shim sockets, /var/log/containers,
 *   /var/lib/cni) are recorded before the first node starts and restored when the last one stops.
 * - `stopRealNode` undoes `startRealNode`: Pods are deleted through the API so the kubelet tears
 *   their sandboxes down (CNI DEL), then the kubelet stops, remaining containers are removed
 *   through containerd, containerd stops, leftover processes in the node's cgroups or shims of its
 *   containerd are killed by pid, mounts under `<state>/node` are unmounted, the cgroups, the
 *   bridge and the CNI cache entries are removed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statfsSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { call, waitUntil, type Tls } from './http.ts';
import { issueServingCert, kubeconfigYaml, type Pki } from './pki.ts';
import { freePorts } from './ports.ts';
import { isRunning, startDetached, stopProcess, tail } from './process.ts';
import { controlplaneDir } from './recipe.ts';

const nodeAssets = join(controlplaneDir, 'node');

/** The real Node's name, label and taint. */
export const REAL_NODE = 'real-node-0';
export const REAL_NODE_LABEL = { key: 'operon.dev/node', value: 'real' } as const;
export const REAL_NODE_TAINT = { key: 'operon.dev/real-node', value: 'true', effect: 'NoSchedule' } as const;
/** Its kubelet's client identity (the API server's Node authorizer knows it by this name and group). */
export const REAL_NODE_USER = `system:node:${REAL_NODE}`;
export const REAL_NODE_GROUP = 'system:nodes';
/** The identity the API server presents to kubelets (for logs, exec, port-forward). */
export const KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';

/** What a Pod adds to run on the real node. */
export const RUN_ON_REAL_NODE = {
  nodeSelector: { [REAL_NODE_LABEL.key]: REAL_NODE_LABEL.value },
  tolerations: [{ key: REAL_NODE_TAINT.key, operator: 'Equal', value: REAL_NODE_TAINT.value, effect: REAL_NODE_TAINT.effect }],
};

export type RealNodeMode = 'auto' | 'off' | 'required';

/** OPERON_REAL_NODE: 0/false/off → off, 1/true/required → required, unset → auto. */
export function realNodeMode(env: NodeJS.ProcessEnv = process.env): RealNodeMode {
  const v = (env.OPERON_REAL_NODE ?? '').trim().toLowerCase();
  if (['0', 'false', 'off', 'no'].includes(v)) return 'off';
  if (['1', 'true', 'on', 'yes', 'required'].includes(v)) return 'required';
  return 'auto';
}

export interface RealNodeUnavailable {
  /** unsupported: the preflight failed or the node is turned off; failed: it passed the preflight but did not start. */
  status: 'unsupported' | 'failed';
  reason: string;
}

export interface RealNode {
  /** starting: recorded before the first process starts, so an interrupted `up` is cleaned up by `down`. */
  status: 'starting' | 'running';
  name: string;
  id: string;
  dir: string;
  bridge: string;
  subnet: string;
  /** The bridge's address, which is also the Node's InternalIP (the kubelet refuses a loopback one). */
  nodeIP: string;
  network: string;
  cgroupRoot: string;
  containerdSocket: string;
  ctr: string;
  binaries: { containerd: string; kubelet: string };
  pids: { containerd: number; kubelet: number };
  ports: { kubelet: number; healthz: number };
  images: { busybox: string; pause: string };
  /** Seconds from the preflight to the Node being Ready. */
  startSeconds?: number;
}

export type RealNodeState = RealNode | RealNodeUnavailable;

export function isRealNode(n: RealNodeState | undefined): n is RealNode {
  return n !== undefined && (n.status === 'running' || n.status === 'starting');
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function run(cmd: string, args: string[], timeoutMs = 60_000): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? (r.error ? 127 : 1), stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error.message) : '') };
}

const SEARCH_PATH = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function which(name: string): string | undefined {
  for (const d of SEARCH_PATH) {
    if (!d) continue;
    const p = join(d, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

const CNI_DIRS = ['/usr/lib/cni', '/opt/cni/bin', '/usr/libexec/cni'];

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

interface Mount {
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** /proc/self/mountinfo, with octal escapes (\040 for a space) decoded. */
function mounts(): Mount[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return (readText('/proc/self/mountinfo') ?? '')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [left = '', right = ''] = line.split(' - ');
      const f = left.split(' ');
      const r = right.split(' ');
      return { mountPoint: unescape(f[4] ?? ''), fsType: r[0] ?? '', superOptions: (r[2] ?? '').split(',') };
    });
}

const CGROUP2_MAGIC = 0x63677270;

/** Every cgroup hierarchy mounted here: v1 ones with their controllers, and cgroup2 (unified or hybrid). */
function cgroupHierarchies(): Array<{ path: string; v2: boolean; controllers: string[] }> {
  return mounts()
    .filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2')
    .map((m) => ({ path: m.mountPoint, v2: m.fsType === 'cgroup2', controllers: m.fsType === 'cgroup' ? m.superOptions : [] }));
}

function cgroupV2Only(): boolean {
  try {
    return statfsSync('/sys/fs/cgroup').type === CGROUP2_MAGIC;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Preflight

interface Tools {
  containerd: string;
  shim: string;
  runc: string;
  ctr: string;
  ip: string;
  umount: string;
  unshare: string;
  cniDir: string;
}

/**
 * The checks a machine must pass to run the real node; the first failure, or the tools found.
 * Without `binDir`, the kubelet binary is not looked for (a question about the machine only).
 */
export function preflight(binDir?: string): { ok: true; tools: Tools } | { ok: false; reason: string } {
  const fail = (check: string, detail: string) => ({ ok: false as const, reason: `preflight check "${check}" failed: ${detail}` });
  if (process.platform !== 'linux') return fail('linux', `this is ${process.platform}`);
  if (process.getuid?.() !== 0) return fail('root', 'the kubelet and containerd need root (namespaces, cgroups, mounts)');

  const found: Partial<Record<keyof Tools, string>> = {};
  const missing: string[] = [];
  const need: Array<[keyof Tools, string, string]> = [
    ['containerd', 'containerd', 'Debian package containerd'],
    ['shim', 'containerd-shim-runc-v2', 'Debian package containerd'],
    ['ctr', 'ctr', 'Debian package containerd'],
    ['runc', 'runc', 'Debian package runc'],
    ['ip', 'ip', 'Debian package iproute2'],
    ['umount', 'umount', 'Debian package mount'],
    ['unshare', 'unshare', 'Debian package util-linux'],
  ];
  for (const [key, name, pkg] of need) {
    const p = which(name);
    if (p) found[key] = p;
    else missing.push(`${name} (${pkg})`);
  }
  const cniDir = CNI_DIRS.find((d) => ['bridge', 'host-local', 'loopback'].every((p) => existsSync(join(d, p))));
  if (!cniDir) missing.push(`CNI plugins bridge, host-local, loopback in ${CNI_DIRS.join(' or ')} (Debian package containernetworking-plugins)`);
  // The images copy these two static binaries (node/image.sh).
  for (const pkg of ['busybox-static', 'catatonit']) {
    if (!run('dpkg-query', ['-W', '-f=${Status}', pkg]).stdout.includes('install ok installed')) missing.push(`Debian package ${pkg} (for the images)`);
  }
  if (binDir !== undefined && !existsSync(join(binDir, 'kubelet'))) missing.push(`kubelet in ${binDir} (controlplane/build.sh builds it)`);
  if (missing.length > 0) return fail('binaries', `missing ${missing.join('; ')}; scripts/setup.sh installs them`);

  if (!cgroupV2Only()) {
    const controllers = new Set(cgroupHierarchies().flatMap((h) => h.controllers));
    const absent = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids'].filter((c) => !controllers.has(c));
    if (absent.length > 0) return fail('cgroups', `cgroup v1 controllers not mounted: ${absent.join(', ')}`);
  }
  if (!(readText('/proc/filesystems') ?? '').split('\n').some((l) => l.trim().endsWith('overlay'))) {
    return fail('overlay', 'the kernel has no overlay filesystem (containerd snapshots need it)');
  }
  // A throwaway set of namespaces, with a bridge and a veth pair inside: what every Pod sandbox needs.
  const probe = run(found.unshare!, ['--mount', '--net', '--pid', '--uts', '--ipc', '--fork', found.ip!, 'link', 'add', 'opnprobe', 'type', 'bridge'], 10_000);
  if (probe.code !== 0) return fail('namespaces', `unshare --mount --net --pid --uts --ipc --fork ip link add … type bridge: exit ${probe.code}: ${probe.stderr.trim()}`);
  const veth = run(found.unshare!, ['--net', found.ip!, 'link', 'add', 'opnprobe0', 'type', 'veth', 'peer', 'name', 'opnprobe1'], 10_000);
  if (veth.code !== 0) return fail('veth', `unshare --net ip link add … type veth: exit ${veth.code}: ${veth.stderr.trim()}`);
  return { ok: true, tools: { ...(found as Omit<Tools, 'cniDir'>), cniDir: cniDir! } };
}

// ---------------------------------------------------------------------------------------------
// Machine-wide record: what existed before the first real node, restored after the last one

const MACHINE_DIR = '/run/operon-real-node';
const MACHINE_RECORD = join(MACHINE_DIR, 'machine.json');
/** Kernel settings the kubelet sets on start (it refuses to run otherwise). */
const KUBELET_SYSCTLS = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes'];
/**
 * Machine-wide folders the node's programs create when missing: containerd's shim sockets, the
 * kubelet's log links and device-plugin socket (both at fixed paths), the CNI result cache and
 * libmount's table.
 */
const SHARED_DIRS = ['/run/containerd', '/var/log/containers', '/var/lib/kubelet', '/var/lib/cni', '/run/mount'];

interface MachineRecord {
  sysctls: Record<string, string>;
  existed: Record<string, boolean>;
}

function recordMachine(node: RealNode): void {
  mkdirSync(join(MACHINE_DIR, 'nodes'), { recursive: true });
  if (!existsSync(MACHINE_RECORD)) {
    const record: MachineRecord = { sysctls: {}, existed: {} };
    for (const s of KUBELET_SYSCTLS) record.sysctls[s] = (readText(`/proc/sys/${s}`) ?? '').trim();
    for (const d of SHARED_DIRS) record.existed[d] = existsSync(d);
    writeFileSync(MACHINE_RECORD, JSON.stringify(record, null, 2));
  }
  const entry = { dir: node.dir, kubelet: node.binaries.kubelet, pid: node.pids.kubelet, at: Date.now() };
  writeFileSync(join(MACHINE_DIR, 'nodes', `${node.id}.json`), JSON.stringify(entry));
}

/** Forgets this node; when no other real node runs on the machine, restores what the record says. */
function releaseMachine(node: RealNode, log: (line: string) => void): void {
  const nodesDir = join(MACHINE_DIR, 'nodes');
  rmSync(join(nodesDir, `${node.id}.json`), { force: true });
  let others = 0;
  for (const f of existsSync(nodesDir) ? readdirSync(nodesDir) : []) {
    const other = JSON.parse(readText(join(nodesDir, f)) ?? '{}') as { dir?: string; kubelet?: string; pid?: number; at?: number };
    // Live: its kubelet runs, or it is still starting (recorded in the last two minutes, folder present).
    const starting = Date.now() - (other.at ?? 0) < 120_000 && other.dir !== undefined && existsSync(other.dir);
    if ((other.kubelet && other.pid && isRunning(other.pid, other.kubelet)) || starting) others++;
    else rmSync(join(nodesDir, f), { force: true });
  }
  if (others > 0) return;
  if (!existsSync(MACHINE_RECORD)) {
    removeEmptyDirs(MACHINE_DIR);
    return;
  }
  const record = JSON.parse(readFileSync(MACHINE_RECORD, 'utf8')) as MachineRecord;
  for (const [s, value] of Object.entries(record.sysctls)) {
    if (!value || (readText(`/proc/sys/${s}`) ?? '').trim() === value) continue;
    try {
      writeFileSync(`/proc/sys/${s}`, value);
    } catch (err) {
      log(`real node: could not restore ${s.replaceAll('/', '.')}=${value}: ${(err as Error).message}`);
    }
  }
  for (const [d, existed] of Object.entries(record.existed)) if (!existed) removeEmptyDirs(d, true);
  rmSync(MACHINE_DIR, { recursive: true, force: true });
}

/**
 * Removes `dir` and the folders below it, depth first, as long as they are empty; with `sockets`,
 * stale unix sockets in them go too (a socket is runtime state; no other kind of file is removed).
 */
function removeEmptyDirs(dir: string, sockets = false): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e);
    try {
      const st = lstatSync(p);
      if (st.isDirectory()) removeEmptyDirs(p, sockets);
      else if (sockets && st.isSocket()) unlinkSync(p);
    } catch {
      // gone
    }
  }
  try {
    rmdirSync(dir);
  } catch {
    // not empty: something else uses it
  }
}

// ---------------------------------------------------------------------------------------------
// Addresses, cgroups

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** Prefixes (route destinations and interface addresses) already used on the machine. */
function usedPrefixes(ip: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const text = run(ip, ['-4', 'route', 'show', 'table', 'all']).stdout + '\n' + run(ip, ['-4', '-o', 'addr', 'show']).stdout;
  for (const m of text.matchAll(/(?:^|\s)(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/g)) {
    const bits = m[2] === undefined ? 32 : Number(m[2]);
    if (bits === 0) continue; // the default route overlaps everything and means nothing here
    const size = 2 ** (32 - bits);
    const start = Math.floor(ipv4ToInt(m[1]!) / size) * size;
    out.push([start, start + size - 1]);
  }
  return out;
}

/** A /24 in 10.200.0.0/16 that nothing on the machine uses, starting from one derived from `id`. */
function pickSubnet(id: string, ip: string): string {
  const used = usedPrefixes(ip);
  const first = parseInt(id.slice(0, 4), 16) % 254;
  for (let i = 0; i < 254; i++) {
    const third = ((first + i) % 254) + 1;
    const start = ipv4ToInt(`10.200.${third}.0`);
    if (!used.some(([a, b]) => a <= start + 255 && start <= b)) return `10.200.${third}.0/24`;
  }
  throw new Error('no free /24 in 10.200.0.0/16 for the real node');
}

/** Creates the node's cgroup root in every hierarchy (the kubelet requires it to exist). */
function createCgroupRoot(root: string): void {
  for (const h of cgroupHierarchies()) {
    const dir = join(h.path, root);
    mkdirSync(dir, { recursive: true });
    if (h.controllers.includes('cpuset')) {
      // A new cpuset cgroup starts with no CPUs and no memory nodes; give it the parent's.
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const cur = (readText(join(dir, f)) ?? '').trim();
        if (!cur) writeFileSync(join(dir, f), (readText(join(h.path, f)) ?? '').trim());
      }
    }
    if (h.v2 && cgroupV2Only()) {
      const available = (readText(join(h.path, 'cgroup.subtree_control')) ?? '').trim().split(/\s+/).filter(Boolean);
      if (available.length > 0) writeFileSync(join(dir, 'cgroup.subtree_control'), available.map((c) => `+${c}`).join(' '));
    }
  }
}

/** Pids still in the node's cgroups (anything there was started for it). */
function cgroupPids(root: string): number[] {
  const pids = new Set<number>();
  const walk = (dir: string): void => {
    for (const p of (readText(join(dir, 'cgroup.procs')) ?? '').split('\n')) if (p.trim()) pids.add(Number(p));
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) walk(join(dir, e));
  };
  for (const h of cgroupHierarchies()) if (existsSync(join(h.path, root))) walk(join(h.path, root));
  return [...pids];
}

function removeCgroupRoot(root: string): string[] {
  const left: string[] = [];
  const rmTree = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) rmTree(join(dir, e));
    try {
      rmdirSync(dir);
    } catch {
      if (existsSync(dir)) left.push(dir);
    }
  };
  for (const h of cgroupHierarchies()) rmTree(join(h.path, root));
  return left;
}

// ---------------------------------------------------------------------------------------------
// Configuration files

function containerdConfig(node: RealNode, tools: Tools): string {
  const q = (s: string): string => JSON.stringify(s);
  const c = join(node.dir, 'containerd');
  return `# Written by src/cluster/node.ts for this node only.
version = 2
root = ${q(join(c, 'root'))}
state = ${q(join(c, 'state'))}
# Not needed here; "opt" would create /opt/containerd.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${q(node.containerdSocket)}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(node.images.pause)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  enable_selinux = false
  # Never below containerd's own oom_score_adj: lowering it needs CAP_SYS_RESOURCE, which a
  # sandboxed machine may not grant (runc init then dies writing /proc/self/oom_score_adj).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # cgroupfs, matching the kubelet's cgroupDriver.
        SystemdCgroup = false
        BinaryName = ${q(tools.runc)}
        Root = ${q(join(c, 'runc'))}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(tools.cniDir)}
    conf_dir = ${q(join(node.dir, 'cni', 'net.d'))}
    max_conf_num = 1
`;
}

/**
 * One bridge, addresses from host-local. The bridge and its address are made by startRealNode, not
 * by the plugin: with isGateway the plugin would also switch on the machine-wide ip_forward. No
 * masquerading, no port mapping: nothing here touches iptables.
 */
function cniConfig(node: RealNode): string {
  const gateway = node.nodeIP;
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: node.network,
      plugins: [
        {
          type: 'bridge',
          bridge: node.bridge,
          isGateway: false,
          ipMasq: false,
          hairpinMode: false,
          ipam: { type: 'host-local', dataDir: join(node.dir, 'cni', 'ipam'), ranges: [[{ subnet: node.subnet, gateway }]] },
        },
      ],
    },
    null,
    2,
  );
}

function kubeletConfig(node: RealNode, pki: Pki, serving: { cert: string; key: string }): string {
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: node.nodeIP,
    port: node.ports.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: node.ports.healthz,
    // Its own oom_score_adj: the default -999 needs CAP_SYS_RESOURCE (see containerdConfig).
    oomScoreAdj: 0,
    tlsCertFile: serving.cert,
    tlsPrivateKeyFile: serving.key,
    // The API server proxies logs/exec with its kubelet-client certificate; the kubelet checks it
    // against the plane's CA and asks the API server (SubjectAccessReview) whether it may.
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: pki.caCert } },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: `unix://${node.containerdSocket}`,
    // containerd 1.6 does not report its cgroup driver (RuntimeConfig), so the kubelet uses this one.
    cgroupDriver: 'cgroupfs',
    cgroupRoot: node.cgroupRoot,
    // The machine may mount cgroup v1 only; kubelet 1.35+ refuses it unless told otherwise.
    failCgroupV1: false,
    failSwapOn: false,
    // No KUBE-IPTABLES-HINT / KUBE-FIREWALL chains on the machine.
    makeIPTablesUtilChains: false,
    podLogsDir: join(node.dir, 'pod-logs'),
    volumePluginDir: join(node.dir, 'kubelet', 'volume-plugins'),
    registerNode: true,
    registerWithTaints: [REAL_NODE_TAINT],
    // Images are imported, not pulled: never collect them, and do not evict on a fuller disk.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    resolvConf: '/etc/resolv.conf',
    maxPods: 50,
    containerLogMaxSize: '1Mi',
    serializeImagePulls: false,
    shutdownGracePeriod: '0s',
    logging: { format: 'text' },
  };
  return JSON.stringify(config, null, 2);
}

// ---------------------------------------------------------------------------------------------
// Start

export interface StartOptions {
  /** The plane's state folder; the node lives in `<stateDir>/node`. */
  stateDir: string;
  binDir: string;
  server: string;
  pki: Pki;
  log: (line: string) => void;
  /** Called whenever the node's state changes, so the plane can persist it. */
  save: (node: RealNodeState) => void;
  mode?: RealNodeMode;
}

/**
 * Starts the real node, or explains why not. Never throws in mode auto (the plane goes on with
 * kwok only); throws in mode required.
 */
export async function startRealNode(options: StartOptions): Promise<RealNodeState> {
  const { stateDir, binDir, server, pki, log } = options;
  const mode = options.mode ?? realNodeMode();
  const t0 = Date.now();
  if (mode === 'off') {
    log('real node: off (OPERON_REAL_NODE=0); kwok only');
    return { status: 'unsupported', reason: 'turned off by OPERON_REAL_NODE=0' };
  }
  const check = preflight(binDir);
  if (!check.ok) {
    if (mode === 'required') throw new Error(`real node required (OPERON_REAL_NODE=1) but ${check.reason}`);
    log(`real node: not started, ${check.reason}; continuing with kwok only`);
    return { status: 'unsupported', reason: check.reason };
  }
  const tools = check.tools;
  const id = createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 8);
  const dir = join(stateDir, 'node');
  const subnet = pickSubnet(id, tools.ip);
  const base = subnet.split('/')[0]!.split('.').slice(0, 3).join('.');
  const [kubeletPort, healthzPort] = (await freePorts(2)) as [number, number];
  const node: RealNode = {
    status: 'starting',
    name: REAL_NODE,
    id,
    dir,
    bridge: `opn${id}`,
    subnet,
    nodeIP: `${base}.1`,
    network: `operon-${id}`,
    cgroupRoot: `/operon-${id}`,
    containerdSocket: join(dir, 'containerd', 'containerd.sock'),
    ctr: tools.ctr,
    binaries: { containerd: tools.containerd, kubelet: join(binDir, 'kubelet') },
    pids: { containerd: 0, kubelet: 0 },
    ports: { kubelet: kubeletPort, healthz: healthzPort },
    images: { busybox: '', pause: '' },
  };
  const admin: Tls = { ca: pki.caCert, ...pki.client('admin') };
  try {
    // Images first: they need nothing running, and their names go into containerd's config.
    const imagesDir = execFileSync('bash', [join(nodeAssets, 'image.sh')], { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim().split('\n').pop() ?? '';
    const env = Object.fromEntries(readFileSync(join(imagesDir, 'images.env'), 'utf8').trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
    node.images = { busybox: env.BUSYBOX_IMAGE ?? '', pause: env.PAUSE_IMAGE ?? '' };

    rmSync(dir, { recursive: true, force: true });
    for (const d of ['containerd', 'cni/net.d', 'cni/ipam', 'kubelet/pki', 'pod-logs']) mkdirSync(join(dir, d), { recursive: true });
    options.save(node);
    recordMachine(node);

    log(`real node: bridge ${node.bridge} ${node.nodeIP}/24, cgroup ${node.cgroupRoot}`);
    createCgroupRoot(node.cgroupRoot);
    const ipOk = (args: string[]): void => {
      const r = run(tools.ip, args);
      if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
    };
    // The name derives from this plane's folder: a bridge by that name is a leftover of this plane.
    if (run(tools.ip, ['link', 'show', node.bridge]).code === 0) ipOk(['link', 'delete', node.bridge]);
    ipOk(['link', 'add', 'name', node.bridge, 'type', 'bridge']);
    ipOk(['addr', 'add', `${node.nodeIP}/24`, 'dev', node.bridge]);
    ipOk(['link', 'set', node.bridge, 'up']);
    writeFileSync(join(dir, 'cni', 'net.d', '10-operon.conflist'), cniConfig(node));

    log('real node: starting containerd');
    const containerdConf = join(dir, 'containerd', 'config.toml');
    writeFileSync(containerdConf, containerdConfig(node, tools));
    const containerdLog = join(stateDir, 'containerd.log');
    node.pids.containerd = startDetached(tools.containerd, ['--config', containerdConf], containerdLog).pid;
    options.save(node);
    const ctr = (args: string[]) => run(tools.ctr, ['--address', node.containerdSocket, '--namespace', 'k8s.io', ...args]);
    await waitUntil(
      'containerd',
      30_000,
      async () => {
        const r = ctr(['version']);
        if (r.code !== 0) throw new Error(`ctr version: ${r.stderr.trim().split('\n').pop()}`);
        return true;
      },
      () => `last lines of ${containerdLog}:\n${tail(containerdLog, 10)}`,
    );
    const imported = ctr(['images', 'import', join(imagesDir, 'images.tar')]);
    if (imported.code !== 0) throw new Error(`ctr images import failed: ${imported.stderr.trim()}`);

    log(`real node: starting kubelet (${REAL_NODE}, ${node.nodeIP}:${node.ports.kubelet})`);
    const serving = issueServingCert(pki, `kubelet-${REAL_NODE}`, REAL_NODE, [`IP:${node.nodeIP}`, 'IP:127.0.0.1', `DNS:${REAL_NODE}`]);
    const kubeconfig = join(dir, 'kubelet.kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(server, pki, REAL_NODE_USER), { mode: 0o600 });
    const kubeletConf = join(dir, 'kubelet.json');
    writeFileSync(kubeletConf, kubeletConfig(node, pki, serving));
    const kubeletLog = join(stateDir, 'kubelet.log');
    node.pids.kubelet = startDetached(node.binaries.kubelet, [
      `--config=${kubeletConf}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${join(dir, 'kubelet')}`,
      `--cert-dir=${join(dir, 'kubelet', 'pki')}`,
      `--hostname-override=${REAL_NODE}`,
      `--node-ip=${node.nodeIP}`,
      `--node-labels=${REAL_NODE_LABEL.key}=${REAL_NODE_LABEL.value}`,
      '--v=1',
    ], kubeletLog).pid;
    options.save(node);
    recordMachine(node);
    const kubeletFailed = () => `kubelet ${isRunning(node.pids.kubelet, node.binaries.kubelet) ? 'still running' : 'exited'}; last lines of ${kubeletLog}:\n${tail(kubeletLog)}`;
    await waitUntil('kubelet', 60_000, async () => (await call(`http://127.0.0.1:${node.ports.healthz}/healthz`, {})).body === 'ok', kubeletFailed);
    await waitUntil(`the real Node ${REAL_NODE}`, 90_000, () => nodeReady(server, admin), kubeletFailed);
    node.status = 'running';
    node.startSeconds = Math.round((Date.now() - t0) / 100) / 10;
    options.save(node);
    log(`real node: ${REAL_NODE} Ready in ${node.startSeconds} s (taint ${REAL_NODE_TAINT.key}=${REAL_NODE_TAINT.value}:${REAL_NODE_TAINT.effect})`);
    return node;
  } catch (err) {
    const reason = `the preflight passed but the node did not start: ${(err as Error).message}`;
    await stopRealNode(node, { server, tls: admin, log: () => {} });
    if (mode === 'required') throw new Error(`real node required (OPERON_REAL_NODE=1): ${reason}`, { cause: err });
    log(`real node: ${reason}; continuing with kwok only`);
    return { status: 'failed', reason };
  }
}

async function nodeReady(server: string, admin: Tls): Promise<boolean> {
  const res = await call(`${server}/api/v1/nodes/${REAL_NODE}`, admin);
  if (res.status !== 200) return false;
  const n = JSON.parse(res.body) as { status?: { conditions?: Array<{ type: string; status: string }> } };
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

// ---------------------------------------------------------------------------------------------
// Status and stop

/** Process health of a running node, for `status` (empty when there is none). */
export function realNodeComponents(node: RealNodeState | undefined): Record<string, boolean> {
  if (!isRealNode(node)) return {};
  return {
    containerd: isRunning(node.pids.containerd, node.binaries.containerd),
    kubelet: isRunning(node.pids.kubelet, node.binaries.kubelet),
  };
}

/** One line about the real node for `status`. */
export function describeRealNode(node: RealNodeState | undefined): string {
  if (node === undefined) return 'real node: none (this plane was started before real nodes existed)';
  if (!isRealNode(node)) return `real node: ${node.status}: ${node.reason}`;
  return `real node: ${node.name} ${node.status}, InternalIP ${node.nodeIP}, kubelet port ${node.ports.kubelet}, containerd ${node.containerdSocket}`;
}

/** Stops the node and removes what it created. Safe on a half-started node and when run twice. */
export async function stopRealNode(node: RealNodeState, options: { server?: string; tls?: Tls; log: (line: string) => void }): Promise<void> {
  if (!isRealNode(node)) return;
  const { log } = options;
  const ctr = (args: string[], timeoutMs = 30_000) => run(node.ctr, ['--address', node.containerdSocket, '--namespace', 'k8s.io', ...args], timeoutMs);
  const kubeletUp = isRunning(node.pids.kubelet, node.binaries.kubelet);
  const containerdUp = isRunning(node.pids.containerd, node.binaries.containerd);

  // 1. Let the kubelet stop its Pods the normal way (sandboxes torn down, CNI DEL), briefly.
  if (kubeletUp && containerdUp && options.server && options.tls) {
    const base = `${options.server}/api/v1`;
    try {
      const list = await call(`${base}/pods?fieldSelector=spec.nodeName%3D${REAL_NODE}`, options.tls);
      const pods = (JSON.parse(list.body) as { items?: Array<{ metadata: { name: string; namespace: string } }> }).items ?? [];
      for (const p of pods) await call(`${base}/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`, options.tls, 'DELETE', { gracePeriodSeconds: 1 });
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && ctr(['tasks', 'ls', '-q']).stdout.trim() !== '') await new Promise((r) => setTimeout(r, 500));
      await call(`${base}/nodes/${REAL_NODE}`, options.tls, 'DELETE');
    } catch {
      // The API server may be gone already; the forced clean-up below still runs.
    }
  }

  // 2. kubelet, then whatever containers remain, then containerd.
  if (node.pids.kubelet) await stopProcess(node.pids.kubelet, node.binaries.kubelet);
  if (isRunning(node.pids.containerd, node.binaries.containerd)) {
    for (const id of ctr(['tasks', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
      ctr(['tasks', 'kill', '--all', '--signal', 'SIGKILL', id]);
      ctr(['tasks', 'delete', '--force', id]);
    }
    for (const id of ctr(['containers', 'ls', '-q']).stdout.split('\n').filter(Boolean)) ctr(['containers', 'delete', id]);
  }
  if (node.pids.containerd) await stopProcess(node.pids.containerd, node.binaries.containerd);

  // 3. Leftovers, by pid: shims serving this containerd, and anything in the node's cgroups.
  const leftovers = new Set(cgroupPids(node.cgroupRoot));
  const shimSockets: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (readText(`/proc/${entry}/cmdline`) ?? '').split('\0');
    if (!(argv[0] ?? '').endsWith('containerd-shim-runc-v2') || !argv.includes(node.containerdSocket)) continue;
    leftovers.add(Number(entry));
    // A killed shim leaves its socket: /run/containerd/s/sha256(<containerd address>/<namespace>/<id>).
    const arg = (flag: string): string => argv[argv.indexOf(flag) + 1] ?? '';
    shimSockets.push(join('/run/containerd/s', createHash('sha256').update(join(node.containerdSocket, arg('-namespace'), arg('-id'))).digest('hex')));
  }
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (leftovers.size > 0) log(`real node: killed ${leftovers.size} leftover process(es)`);
  for (const s of shimSockets) rmSync(s, { force: true });

  // 4. Mounts under the node's folder (kubelet volumes, its root-dir bind, container rootfs, shm, netns), deepest first.
  const prefix = `${node.dir}/`;
  for (let round = 0; round < 5; round++) {
    const ours = mounts()
      .map((m) => m.mountPoint)
      .filter((p) => p.startsWith(prefix) || p === node.dir)
      .sort((a, b) => b.length - a.length);
    if (ours.length === 0) break;
    for (const p of ours) if (run('umount', [p]).code !== 0) run('umount', ['--lazy', p]);
  }

  // 5. cgroups (retried: the kernel frees a cgroup a moment after its last process dies), bridge.
  let left: string[] = [];
  for (let i = 0; i < 20; i++) {
    left = removeCgroupRoot(node.cgroupRoot);
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (left.length > 0) log(`real node: could not remove cgroups ${left.join(', ')}`);
  const ipBin = which('ip');
  if (ipBin && run(ipBin, ['link', 'show', node.bridge]).code === 0) run(ipBin, ['link', 'delete', node.bridge]);

  // 6. Machine-wide files that are this node's: CNI result cache, log links, shim sockets.
  const results = '/var/lib/cni/results';
  for (const f of existsSync(results) ? readdirSync(results) : []) if (f.startsWith(`${node.network}-`)) rmSync(join(results, f), { force: true });
  const links = '/var/log/containers';
  for (const f of existsSync(links) ? readdirSync(links) : []) {
    try {
      if (readlinkSync(join(links, f)).startsWith(join(node.dir, 'pod-logs'))) unlinkSync(join(links, f));
    } catch {
      // not a link
    }
  }
  releaseMachine(node, log);
  rmSync(node.dir, { recursive: true, force: true });
  log(`real node: stopped; its containers, mounts, cgroups and bridge ${node.bridge} are gone`);
}
