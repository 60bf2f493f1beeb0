/**
 * Sharding with real `operon run --shard-ring` processes on one resource that owns ConfigMaps:
 * 300 objects over 3 replicas (the issue asks 3,000: `OPERON_SHARDING_TEST_OBJECTS=3000` runs
 * that; 300 keeps this file under about two minutes on two shared cores in CI, and every assertion
 * below is per object, so the count changes only the load), then a fourth replica joins, one is SIGKILLed, one is SIGSTOPped and woken.
 *
 * Every handler run prints a start and an end line (replica, object, handler, wall time) on
 * stdout; the whole log of all processes is checked at the end: for each object, no run starts
 * before the previous run (on any replica) has ended. A run cut short by SIGKILL ends at the kill.
 * The objects' labels are compared with the ring computed here from the shard names, so "exactly
 * one owner" is read from the objects themselves.
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
import { builtin, Registry, resource, Type } from '../../src/index.ts';
import { LEASES_RESOURCE } from '../../src/runtime/leader-election.ts';
import { drainLabel, RING_LABEL, shardingKey, shardLabel } from '../../src/sharding/labels.ts';
import { HashRing } from '../../src/sharding/ring.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';
import { FROM_SOURCE } from '../support/source.ts';

/** Objects in the ring; `OPERON_SHARDING_TEST_OBJECTS=3000` runs the issue's size. */
const COUNT = Number(process.env['OPERON_SHARDING_TEST_OBJECTS'] ?? 300);
/** Waits grow with the count: the work is per object. */
const SCALE = Math.max(1, COUNT / 300);
const RING = 'chores';
const SHARD = shardLabel(RING);
const DRAIN = drainLabel(RING);

const cluster = await useCluster();
const ns = await cluster.namespace('sharding');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const root = fileURLToPath(new URL('../../', import.meta.url));
const declaration = {
  group: 'sharding.test.operon.dev',
  version: 'v1',
  kind: 'Chore',
  spec: Type.Object({ work: Type.String() }),
  status: Type.Object({}, { additionalProperties: true }),
};
const chores = resource(declaration, { registry: new Registry() });
const configMaps = builtin('v1', 'ConfigMap');
await installCrd(client, chores);

const dir = mkdtempSync(join(tmpdir(), 'operon-sharding-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const fixture = join(dir, 'chores-operator.ts');
// Short Leases so that a dead replica's objects move within seconds; the ring is declared in
// code (with its timings) and named again by --shard-ring, as a deployment would.
writeFileSync(
  fixture,
  `import { adopt, builtin, Operator, resource, Type } from ${JSON.stringify(pathToFileURL(join(root, 'src/index.ts')).href)};
const who = process.env.INSTANCE ?? 'unknown';
export const chores = resource({
  ...${JSON.stringify({ group: declaration.group, version: declaration.version, kind: declaration.kind })},
  spec: Type.Object({ work: Type.String() }),
  status: Type.Object({}, { additionalProperties: true }),
});
const configMaps = builtin('v1', 'ConfigMap');
chores.owns(configMaps);
// Runs at 'slow' take a second, so that many are in progress while a replica joins.
const run = async (h, name, signal, body, slow = false) => {
  console.log(JSON.stringify({ sh: 'start', h, name, who, t: Date.now() }));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, slow ? 1_000 : 100);
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
  await body?.();
  console.log(JSON.stringify({ sh: 'end', h, name, who, t: Date.now() }));
};
chores.onCreate(async ({ name, body, spec, client, patch, signal }) => {
  await run('create', name, signal, async () => {
    try {
      await client.create(configMaps, adopt({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: name + '-cm' }, data: { work: spec.work } }, body), { signal });
    } catch (error) {
      if (error?.kind !== 'AlreadyExists') throw error;
    }
  });
  patch.status.handled = spec.work;
});
chores.onUpdate(async ({ name, spec, patch, signal }) => {
  await run('update', name, signal, undefined, spec.work === 'slow');
  patch.status.handled = spec.work;
});
chores.onDelete(async ({ name, signal }) => {
  await run('delete', name, signal);
});
export const operator = new Operator({
  namespaces: [${JSON.stringify(ns)}],
  sharding: { ring: 'placeholder', leaseDurationMs: 6_000, renewDeadlineMs: 4_000, retryPeriodMs: 1_000 },
});
`,
);

interface Run {
  sh: 'start' | 'end';
  h: 'create' | 'update' | 'delete';
  name: string;
  who: string;
  t: number;
}

interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  readonly runs: Run[];
  readonly logs: Array<Record<string, unknown>>;
  shard: string | undefined;
  /** Its identity in the election of the sharder. */
  identity: string | undefined;
  killedAt?: number;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const replicas: Replica[] = [];
after(() => {
  for (const r of replicas) {
    if (r.child.exitCode !== null || r.child.signalCode !== null) continue;
    r.child.kill('SIGCONT');
    r.child.kill('SIGKILL');
  }
});

// After a failure, objects may still hold the finalizer with no replica left to remove it; the
// shared plane would keep the namespace terminating for ever.
after(async () => {
  const left = await client.list(chores, { namespace: ns }).catch(() => ({ items: [] }));
  await Promise.all(left.items.map((o) => client.patch(chores, o.metadata.name, { type: 'merge', body: { metadata: { finalizers: null } } }, { namespace: ns }).catch(() => {})));
});

function startReplica(name: string): Replica {
  const child = spawn(
    process.execPath,
    [...FROM_SOURCE, join(root, 'src/cli/main.ts'), 'run', fixture, '--no-check', '--kubeconfig', cluster.kubeconfig, '--shard-ring', RING, '--lease-namespace', ns, '--log-format', 'json'],
    // An exported Operator loads its client itself: from KUBECONFIG.
    { env: { ...process.env, INSTANCE: name, KUBECONFIG: cluster.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const replica: Replica = {
    name,
    child,
    runs: [],
    logs: [],
    shard: undefined,
    identity: undefined,
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  // An exported Operator logs (JSON) on stdout with its own logger; the CLI on stderr.
  const onLine = (line: string): void => {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      process.stderr.write(`[${name}] ${line}\n`);
      return;
    }
    if (record['sh'] !== undefined) {
      replica.runs.push(record as unknown as Run);
      return;
    }
    replica.logs.push(record);
    // Warnings and errors go to the test's output, to explain a failure.
    if (typeof record['level'] === 'number' && record['level'] >= 40) process.stderr.write(`[${name}] ${String(record['msg'])} ${record['err'] ? JSON.stringify(record['err']).slice(0, 300) : ''}\n`);
    if (typeof record['msg'] === 'string' && record['msg'].startsWith('joining shard ring')) replica.shard = String(record['shard']);
    if (record['msg'] === 'campaigning for the lease' && String(record['lease']).endsWith(`/${RING}-sharder`)) replica.identity = String(record['identity']);
  };
  lines(child.stdout, onLine);
  lines(child.stderr, onLine);
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

interface LeaseObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: { holderIdentity?: string };
}

async function shardLeases(): Promise<Map<string, string>> {
  const list = await client.list<LeaseObject>(LEASES_RESOURCE, { namespace: ns, labelSelector: `${RING_LABEL}=${RING}` });
  return new Map(list.items.map((l) => [l.metadata.name, l.spec?.holderIdentity ?? '']));
}

async function sharder(): Promise<Replica> {
  let found: Replica | undefined;
  await eventually(
    async () => {
      const lease = await client.get<LeaseObject>(LEASES_RESOURCE, `${RING}-sharder`, { namespace: ns }).catch(() => undefined);
      found = replicas.find((r) => r.identity !== undefined && r.identity === lease?.spec?.holderIdentity);
      return found !== undefined;
    },
    { timeoutMs: 60_000, what: 'a replica to run the sharder' },
  );
  return found as Replica;
}

/** Waits until the sharder has built a ring of exactly these shards. */
async function ringOf(members: Replica[]): Promise<HashRing> {
  const names = members.map((m) => m.shard as string).sort();
  await eventually(
    () => replicas.some((r) => r.logs.some((l) => JSON.stringify((l['members'] as string[] | undefined) ?? []) === JSON.stringify(names))),
    { timeoutMs: 90_000, what: `the sharder to build the ring of ${names.join(', ')}` },
  );
  return new HashRing(names);
}

const names = Array.from({ length: COUNT }, (_, i) => `chore-${String(i).padStart(4, '0')}`);
const keyOf = (name: string): string => shardingKey({ group: declaration.group, kind: declaration.kind }, name, ns);

async function objects(): Promise<Map<string, { shard: string | undefined; draining: boolean; handled: unknown; work: string; finalizers: string[] }>> {
  const list = await client.list(chores, { namespace: ns });
  return new Map(
    list.items.map((o) => [
      o.metadata.name,
      {
        shard: o.metadata.labels?.[SHARD],
        draining: o.metadata.labels?.[DRAIN] !== undefined,
        handled: (o as { status?: { handled?: unknown } }).status?.handled,
        work: (o as { spec: { work: string } }).spec.work,
        finalizers: o.metadata.finalizers ?? [],
      },
    ]),
  );
}

/** Every object handled at `work`, on its ring owner, not draining; ConfigMaps on their owner's shard. */
async function settled(ring: HashRing, work: string, timeoutMs: number): Promise<void> {
  let last = '';
  const waiting = eventually(
    async () => {
      const all = await objects();
      const wrong = names.filter((n) => {
        const o = all.get(n);
        return o === undefined || o.handled !== work || o.draining || o.shard !== ring.ownerOf(keyOf(n));
      });
      const maps = { items: (await client.list(configMaps, { namespace: ns })).items.filter((m) => m.metadata.name.endsWith('-cm')) };
      const strays = maps.items.filter((m) => m.metadata.labels?.[SHARD] !== all.get(m.metadata.name.replace(/-cm$/, ''))?.shard);
      last = `${wrong.length} objects not yet settled (e.g. ${wrong.slice(0, 3).map((n) => `${n}: ${JSON.stringify(all.get(n))}`).join('; ')}), ${strays.length} ConfigMaps not on their owner's shard (e.g. ${strays.slice(0, 3).map((m) => `${m.metadata.name} on ${m.metadata.labels?.[SHARD]}, owner on ${all.get(m.metadata.name.replace(/-cm$/, ''))?.shard}`).join('; ')})`;
      return wrong.length === 0 && strays.length === 0 && maps.items.length === COUNT;
    },
    { timeoutMs, intervalMs: 500, what: `all ${COUNT} objects handled at ${work}` },
  );
  await waiting.catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}: ${last}`);
  });
}

async function updateAll(work: string): Promise<void> {
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(names.slice(i, i + 25).map((name) => client.patch(chores, name, { type: 'merge', body: { spec: { work } } }, { namespace: ns })));
  }
}

describe('sharding with real replicas', { timeout: 400_000 * SCALE }, () => {
  const ringLog: Array<{ what: string; ring: HashRing }> = [];

  it(`assigns ${COUNT} new objects over 3 replicas, each handled by its shard only, and owned ConfigMaps follow their owner`, async () => {
    const three = ['a', 'b', 'c'].map(startReplica);
    await eventually(() => three.every((r) => r.shard !== undefined), { timeoutMs: 60_000, what: 'three replicas to join the ring' });
    await eventually(async () => [...(await shardLeases()).entries()].filter(([name, holder]) => name === holder).length === 3, { timeoutMs: 60_000, what: 'three held shard Leases' });
    const ring = await ringOf(three);
    ringLog.push({ what: '3 replicas', ring });
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(names.slice(i, i + 25).map((name) => client.create(chores, { apiVersion: `${declaration.group}/v1`, kind: 'Chore', metadata: { name, namespace: ns }, spec: { work: 'v0' } })));
    }
    await settled(ring, 'v0', 120_000 * SCALE);

    const all = await objects();
    const shares = new Map<string, number>();
    for (const o of all.values()) shares.set(o.shard as string, (shares.get(o.shard as string) ?? 0) + 1);
    assert.equal(shares.size, 3, 'every replica has a share');
    for (const r of three) {
      const creates = r.runs.filter((x) => x.sh === 'start' && x.h === 'create');
      for (const run of creates) assert.equal(all.get(run.name)?.shard, r.shard, `${r.name} handled ${run.name}, which belongs to ${all.get(run.name)?.shard}`);
    }
    const created = new Map<string, number>();
    for (const r of three) for (const x of r.runs) if (x.sh === 'start' && x.h === 'create') created.set(x.name, (created.get(x.name) ?? 0) + 1);
    assert.deepEqual(names.filter((n) => created.get(n) !== 1), [], 'each object created exactly once');
  });

  it('scaling 3 → 4 moves only objects to the new replica, about a quarter, by draining, while updates go on', async () => {
    const before = await objects();
    // Handler runs of a second each are in progress and queued on the old shards while d joins.
    await updateAll('slow');
    const d = startReplica('d');
    await eventually(() => d.shard !== undefined, { timeoutMs: 60_000, what: 'd to join' });
    const ring = await ringOf(replicas.filter((r) => ['a', 'b', 'c', 'd'].includes(r.name)));
    ringLog.push({ what: '4 replicas', ring });
    await updateAll('v1');
    await settled(ring, 'v1', 120_000 * SCALE);
    const after = await objects();
    const moved = names.filter((n) => before.get(n)?.shard !== after.get(n)?.shard);
    assert.deepEqual(moved.filter((n) => after.get(n)?.shard !== d.shard), [], 'objects moved only to the new replica');
    assert.ok(moved.length >= COUNT * 0.15 && moved.length <= COUNT * 0.35, `about a quarter moved: ${moved.length} of ${COUNT}`);
    const drains = replicas.flatMap((r) => r.logs.filter((l) => l['msg'] === 'drained: let the object go to its new shard').map((l) => String(l['object'])));
    assert.deepEqual([...new Set(drains)].sort(), moved.map((n) => `${ns}/${n}`).sort(), 'every moved object was drained by its old shard, and no other');
  });

  it("SIGKILL of a replica: after its Lease expires the sharder takes it, and its objects move and are handled", async () => {
    const leader = await sharder();
    const victim = replicas.find((r) => r !== leader && r.name !== 'd' && r.child.exitCode === null) as Replica;
    victim.killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exit;
    const rest = replicas.filter((r) => r !== victim);
    const ring = await ringOf(rest);
    ringLog.push({ what: `without ${victim.name}`, ring });
    await updateAll('v2');
    await settled(ring, 'v2', 120_000 * SCALE);
    assert.equal((await shardLeases()).get(victim.shard as string), 'operon-sharder', "the sharder holds the dead replica's Lease (fenced)");
  });

  it('SIGSTOP of a replica: its objects move once its Lease is taken, and when it wakes it stops and exits 1', async () => {
    const leader = await sharder();
    const sleeper = replicas.find((r) => r !== leader && r.killedAt === undefined) as Replica;
    const stoppedAt = Date.now();
    sleeper.child.kill('SIGSTOP');
    const rest = replicas.filter((r) => r !== sleeper && r.killedAt === undefined);
    const ring = await ringOf(rest);
    ringLog.push({ what: `without ${sleeper.name}`, ring });
    await updateAll('v3');
    await settled(ring, 'v3', 120_000 * SCALE);
    assert.equal((await shardLeases()).get(sleeper.shard as string), 'operon-sharder');
    sleeper.child.kill('SIGCONT');
    const exit = await sleeper.exit;
    assert.equal(exit.code, 1, 'a replica that lost its shard Lease exits 1');
    assert.ok(sleeper.logs.some((l) => String(l['msg']).includes('leader election lost')), 'it says it lost its Lease');
    assert.deepEqual(sleeper.runs.filter((x) => x.sh === 'start' && x.t > stoppedAt), [], 'it ran no handler after it was stopped');
  });

  it('a move is not a deletion: every object kept its finalizer, no delete handler ran until the objects were deleted, then each was handled', async () => {
    const all = await objects();
    assert.deepEqual(names.filter((n) => (all.get(n)?.finalizers.length ?? 0) === 0), [], 'every object still has its finalizer');
    assert.deepEqual(replicas.flatMap((r) => r.runs.filter((x) => x.h === 'delete')), [], 'no delete handler ran');
    for (let i = 0; i < names.length; i += 25) await Promise.all(names.slice(i, i + 25).map((name) => client.delete(chores, name, { namespace: ns })));
    await eventually(async () => (await client.list(chores, { namespace: ns })).items.length === 0, { timeoutMs: 120_000 * SCALE, intervalMs: 500, what: 'every object deleted after its delete handler' });
    const deleted = new Set(replicas.flatMap((r) => r.runs.filter((x) => x.sh === 'end' && x.h === 'delete').map((x) => x.name)));
    assert.deepEqual(names.filter((n) => !deleted.has(n)), [], 'every deletion was handled');
  });

  it('no two handler runs for one object ever overlapped, over the whole log of every replica', () => {
    const byObject = new Map<string, Array<{ start: number; end: number; who: string; h: string }>>();
    for (const r of replicas) {
      const open = new Map<string, Run>();
      for (const x of r.runs) {
        if (x.sh === 'start') {
          open.set(x.name, x);
          continue;
        }
        const start = open.get(x.name);
        open.delete(x.name);
        if (start) (byObject.get(x.name) ?? byObject.set(x.name, []).get(x.name))?.push({ start: start.t, end: x.t, who: r.name, h: x.h });
      }
      // A run cut short by SIGKILL ended at the kill; any other unfinished run ends now.
      for (const [name, x] of open) (byObject.get(name) ?? byObject.set(name, []).get(name))?.push({ start: x.t, end: r.killedAt ?? Date.now(), who: r.name, h: x.h });
    }
    const overlaps: string[] = [];
    let runs = 0;
    for (const [name, list] of byObject) {
      list.sort((a, b) => a.start - b.start);
      runs += list.length;
      for (let i = 1; i < list.length; i++) {
        const [a, b] = [list[i - 1], list[i]] as [(typeof list)[0], (typeof list)[0]];
        if (b.start < a.end) overlaps.push(`${name}: ${a.h} on ${a.who} [${a.start}, ${a.end}] and ${b.h} on ${b.who} from ${b.start}`);
      }
    }
    assert.ok(runs >= COUNT * 5, `the log holds every run (${runs})`);
    assert.deepEqual(overlaps, []);
    assert.ok(ringLog.length === 4);
  });
});
