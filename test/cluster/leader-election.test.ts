/**
 * Leader election with real `operon run --leader-elect` processes on one resource: only the
 * leader handles objects; SIGKILL of the leader hands over within the lease duration and every
 * object created across the hand-over is handled exactly once to success; a leader paused (SIGSTOP)
 * beyond its renew deadline stops working when it wakes and exits non-zero; an in-process leader
 * whose RBAC on leases is revoked fails `/healthz` with the reason and `run` rejects.
 *
 * Every handler run prints a start and an end line (instance, object, wall time) on stdout, and a
 * success adds a key of its own to the object's status (merge patches add keys, never overwrite
 * other runs' keys), so "exactly once" is read from the object itself, and "never two at the same
 * time" from the intervals of all processes.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { defaults, Registry, resource, Type } from '../../src/index.ts';
import { LEASES_RESOURCE, LeadershipLostError } from '../../src/runtime/leader-election.ts';
import { addOperatorChecks } from '../../src/runtime/probes.ts';
import { HealthServer } from '../../src/server/health.ts';
import { startOperator } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';
import { FROM_SOURCE } from '../support/source.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('leader-election');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const root = fileURLToPath(new URL('../../', import.meta.url));
const declaration = {
  group: 'election.test.operon.dev',
  version: 'v1',
  kind: 'Chore',
  spec: Type.Object({ work: Type.String() }),
  status: Type.Object({}, { additionalProperties: true }),
};
const chores = resource(declaration, { registry: new Registry() });
await installCrd(client, chores);

const dir = mkdtempSync(join(tmpdir(), 'operon-election-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const fixture = join(dir, 'chores-operator.ts');
writeFileSync(
  fixture,
  `import { resource, Type } from ${JSON.stringify(pathToFileURL(join(root, 'src/index.ts')).href)};
const who = process.env.INSTANCE ?? 'unknown';
export const chores = resource({
  ...${JSON.stringify({ group: declaration.group, version: declaration.version, kind: declaration.kind })},
  spec: Type.Object({ work: Type.String() }),
  status: Type.Object({}, { additionalProperties: true }),
});
chores.onCreate(async ({ name, patch, signal }) => {
  console.log(JSON.stringify({ le: 'start', name, who, t: Date.now() }));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, 300);
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
  const t = Date.now();
  console.log(JSON.stringify({ le: 'end', name, who, t }));
  patch.status['ok-' + who + '-' + t] = true;
});
`,
);

interface Line {
  le: 'start' | 'end';
  name: string;
  who: string;
  t: number;
}

interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  readonly runs: Line[];
  readonly logs: Array<Record<string, unknown>>;
  identity: string | undefined;
  healthUrl: string | undefined;
  killedAt?: number;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const replicas: Replica[] = [];
after(() => {
  for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
});

function startReplica(name: string): Replica {
  const child = spawn(
    process.execPath,
    [
      ...FROM_SOURCE,
      join(root, 'src/cli/main.ts'),
      'run',
      fixture,
      '-n',
      ns,
      '--kubeconfig',
      cluster.kubeconfig,
      '--leader-elect',
      '--lease-name',
      'chores',
      '--lease-namespace',
      ns,
      '--health-address',
      '127.0.0.1:0',
      '--log-format',
      'json',
    ],
    { env: { ...process.env, INSTANCE: name }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const replica: Replica = {
    name,
    child,
    runs: [],
    logs: [],
    identity: undefined,
    healthUrl: undefined,
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  lines(child.stdout, (line) => {
    try {
      const parsed = JSON.parse(line) as Line;
      if (parsed.le) replica.runs.push(parsed);
    } catch {
      // Not a run line.
    }
  });
  lines(child.stderr, (line) => {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      process.stderr.write(`[${name}] ${line}\n`);
      return;
    }
    replica.logs.push(record);
    if (record['msg'] === 'campaigning for the lease') replica.identity = String(record['identity']);
    if (typeof record['url'] === 'string' && String(record['msg']).startsWith('serving /healthz')) replica.healthUrl = record['url'];
  });
  replicas.push(replica);
  return replica;
}

function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let buffer = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) onLine(line);
    }
  });
}

async function holder(): Promise<string | undefined> {
  try {
    const lease = await client.get<{ apiVersion: string; kind: string; metadata: { name: string }; spec?: { holderIdentity?: string } }>(LEASES_RESOURCE, 'chores', { namespace: ns });
    return lease.spec?.holderIdentity || undefined;
  } catch {
    return undefined;
  }
}

async function leader(): Promise<Replica> {
  let found: Replica | undefined;
  await eventually(
    async () => {
      const id = await holder();
      found = replicas.find((r) => r.identity !== undefined && r.identity === id);
      return found !== undefined;
    },
    { timeoutMs: 40_000, what: 'a replica to hold the lease' },
  );
  return found as Replica;
}

async function probe(replica: Replica, path: string): Promise<{ status: number; body: string }> {
  await eventually(() => replica.healthUrl !== undefined, { what: `${replica.name} to serve health` });
  const res = await fetch(`${replica.healthUrl}${path}`);
  return { status: res.status, body: await res.text() };
}

const chore = (name: string) => ({ apiVersion: chores.apiVersion, kind: chores.kind, metadata: { name, namespace: ns }, spec: { work: name } });

/** Objects whose status carries exactly one success key; fails on two. */
async function handledOnce(names: string[], timeoutMs = 60_000): Promise<Map<string, string>> {
  const by = new Map<string, string>();
  await eventually(
    async () => {
      for (const name of names) {
        if (by.has(name)) continue;
        const object = await client.get(chores, name, { namespace: ns });
        const successes = Object.keys(object.status ?? {}).filter((k) => k.startsWith('ok-'));
        assert.ok(successes.length <= 1, `${name} was handled to success ${successes.length} times: ${successes.join(', ')}`);
        if (successes.length === 1) by.set(name, (successes[0] ?? '').split('-')[1] ?? '');
      }
      return by.size === names.length;
    },
    { timeoutMs, what: `${names.join(', ')} to be handled` },
  );
  return by;
}

/** No object was ever handled by two replicas at the same time (a killed replica's run ends at its kill). */
function assertNoOverlap(): void {
  const intervals = new Map<string, Array<{ who: string; from: number; to: number }>>();
  for (const r of replicas) {
    const open = new Map<string, number>();
    for (const line of r.runs) {
      if (line.le === 'start') open.set(line.name, line.t);
      else {
        const from = open.get(line.name) ?? line.t;
        open.delete(line.name);
        intervals.set(line.name, [...(intervals.get(line.name) ?? []), { who: r.name, from, to: line.t }]);
      }
    }
    for (const [name, from] of open) intervals.set(name, [...(intervals.get(name) ?? []), { who: r.name, from, to: r.killedAt ?? Date.now() }]);
  }
  for (const [name, list] of intervals) {
    for (const a of list) {
      for (const b of list) {
        if (a === b || a.who === b.who) continue;
        assert.ok(a.to <= b.from || b.to <= a.from, `${name} was handled by ${a.who} and ${b.who} at the same time`);
      }
    }
  }
}

describe('leader election with operon run --leader-elect', () => {
  let first: Replica;

  it('of two replicas only the leader handles objects; both serve health and are ready', async () => {
    const a = startReplica('a');
    const b = startReplica('b');
    first = await leader();
    const standby = first === a ? b : a;
    await eventually(async () => (await probe(standby, '/readyz')).status === 200, { what: 'the standby to be ready (warm cache)' });
    const names = ['two-1', 'two-2', 'two-3', 'two-4'];
    for (const name of names) await client.create(chores, chore(name));
    const by = await handledOnce(names);
    assert.deepEqual([...new Set(by.values())], [first.name]);
    assert.equal(standby.runs.length, 0, 'the standby ran no handler');
    const leaderHealth = await probe(first, '/healthz?verbose');
    assert.equal(leaderHealth.status, 200);
    assert.match(leaderHealth.body, /\[\+\]leader-election ok/);
    const standbyHealth = await probe(standby, '/healthz/leader-election?verbose');
    assert.equal(standbyHealth.status, 200);
    const metrics = await probe(first, '/metrics');
    assert.match(metrics.body, /leader_election_master_status\{name="chores"\} 1/);
    assert.match((await probe(standby, '/metrics')).body, /leader_election_master_status\{name="chores"\} 0/);
  });

  it('with a third replica, killing the leader hands over within the lease duration and objects created across are handled exactly once', async () => {
    startReplica('c');
    await eventually(() => replicas.every((r) => r.identity !== undefined), { what: 'every replica to campaign' });
    await client.create(chores, chore('three-0'));
    assert.equal((await handledOnce(['three-0'])).get('three-0'), first.name);
    // Objects in flight at the kill, and objects created while nobody leads.
    for (const name of ['across-1', 'across-2']) await client.create(chores, chore(name));
    first.child.kill('SIGKILL');
    first.killedAt = Date.now();
    for (const name of ['across-3', 'across-4']) await client.create(chores, chore(name));
    await eventually(async () => ![undefined, first.identity].includes(await holder()), { timeoutMs: 40_000, intervalMs: 100, what: 'another replica to take the lease' });
    const takeoverMs = Date.now() - (first.killedAt ?? 0);
    const next = await leader();
    assert.notEqual(next, first);
    // The last renewal was up to one retry period before the kill; the standby notices expiry on
    // its next jittered attempt (≤ 2.2 retry periods) — plus polling slack here.
    const bound = defaults.leaderElection.leaseDurationMs + 3 * defaults.leaderElection.retryPeriodMs + 2_000;
    assert.ok(takeoverMs <= bound, `hand-over took ${takeoverMs} ms (bound ${bound} ms)`);
    for (const name of ['across-5', 'across-6']) await client.create(chores, chore(name));
    const by = await handledOnce(['across-1', 'across-2', 'across-3', 'across-4', 'across-5', 'across-6']);
    for (const name of ['across-3', 'across-4', 'across-5', 'across-6']) assert.equal(by.get(name), next.name, `${name} handled by the new leader`);
    assertNoOverlap();
    assert.ok((await first.exit).signal === 'SIGKILL');
  });

  it('a leader paused beyond its renew deadline stops working when it wakes and exits non-zero; another takes over', async () => {
    const paused = await leader();
    const other = replicas.find((r) => r !== paused && r.killedAt === undefined);
    assert.ok(other);
    paused.child.kill('SIGSTOP');
    const pausedAt = Date.now();
    await eventually(async () => (await holder()) === other.identity, { timeoutMs: 40_000, what: `${other.name} to take over from the paused leader` });
    for (const name of ['paused-1', 'paused-2']) await client.create(chores, chore(name));
    const by = await handledOnce(['paused-1', 'paused-2']);
    assert.deepEqual([...new Set(by.values())], [other.name]);
    const runsBefore = paused.runs.length;
    paused.child.kill('SIGCONT');
    const exit = await Promise.race([paused.exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.notEqual(exit, 'timeout', 'the woken leader did not exit');
    assert.equal(exit !== 'timeout' && exit.code, 1);
    assert.equal(paused.runs.length, runsBefore, 'the woken leader ran no handler');
    const lost = paused.logs.find((l) => String(l['msg']).includes('leader election lost'));
    assert.ok(lost, 'it says why it stopped');
    assert.ok(Date.now() - pausedAt > defaults.leaderElection.renewDeadlineMs);
    assertNoOverlap();
    // The survivor keeps working.
    await client.create(chores, chore('after-pause'));
    assert.equal((await handledOnce(['after-pause'])).get('after-pause'), other.name);
  });
});

describe('leader election in-process', () => {
  it('a leader whose RBAC on leases is revoked loses within the renew deadline: /healthz 503 naming the lease, run rejects', async () => {
    const account = 'elector';
    await cluster.kubectl(['create', 'serviceaccount', account, '-n', ns]);
    await cluster.kubectl(['create', 'role', 'chores', '-n', ns, '--verb=get,list,watch,patch', '--resource=chores.election.test.operon.dev', '--resource=chores.election.test.operon.dev/status']);
    await cluster.kubectl(['create', 'role', 'events', '-n', ns, '--verb=create,patch', '--resource=events']);
    await cluster.kubectl(['create', 'role', 'lease', '-n', ns, '--verb=get,create,update', '--resource=leases.coordination.k8s.io']);
    for (const role of ['chores', 'events', 'lease']) await cluster.kubectl(['create', 'rolebinding', role, '-n', ns, `--role=${role}`, `--serviceaccount=${ns}:${account}`]);
    const token = (await cluster.kubectl(['create', 'token', account, '-n', ns, '--duration=10m'])).trim();
    const config = loadClusterConfig({ kubeconfig: cluster.kubeconfig });
    const asAccount = KubeClient.fromConfig({ ...config, clientCert: undefined, clientKey: undefined, auth: { type: 'token', token } });
    after(() => asAccount.close());

    const registry = new Registry();
    resource(chores, { registry }).onCreate(async ({ patch }) => {
      patch.status['ok-inproc'] = true;
    });
    const run = startOperator(registry, { client: asAccount, namespaces: [ns], leaderElection: { lease: 'inproc', namespace: ns } });
    after(() => run.stop());
    const server = new HealthServer({ bindAddress: '127.0.0.1:0' });
    addOperatorChecks(server, run.operator);
    const { url } = await server.start();
    after(() => server.stop());
    await run.operator.whenLeading();
    assert.equal((await fetch(`${url}/healthz`)).status, 200);

    await cluster.kubectl(['delete', 'rolebinding', 'lease', '-n', ns]);
    const revokedAt = Date.now();
    const rejected = await run.done.then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(rejected instanceof LeadershipLostError, `run rejected with ${String(rejected)}`);
    assert.ok(Date.now() - revokedAt <= defaults.leaderElection.renewDeadlineMs + defaults.leaderElection.retryPeriodMs + 2_000);
    assert.match(rejected.message, new RegExp(`${ns}/inproc`));
    assert.match(rejected.message, /Forbidden/);
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 503);
    const body = await health.text();
    assert.match(body, /\[-\]leader-election failed: leader election lost: .*inproc.*Forbidden/);
    assert.equal(run.operator.health().healthy, false);
  });
});
