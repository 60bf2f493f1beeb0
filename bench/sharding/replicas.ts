/**
 * Sharding at scale: the reference CVC operator, compiled as the image runs it, as 1, 2 and 3
 * replicas of one ring (`operon run --shard-ring`) on the same API server, each replica watching
 * only its shard. Per replica count: the burst of N CVCs (time until every value is right),
 * the peak RSS of each replica and the objects it holds; then one replica is SIGKILLed and the
 * time is measured until its objects carry a live shard's label, and until a price move has been
 * applied to every object by the replicas left.
 *
 *   node bench/sharding/replicas.ts [--n 30000] [--replicas 1,2,3] [--keep-plane]
 *
 * Brings up a control plane of its own in ~/.cache/operon/bench/plane (OPERON_BENCH_PLANE_DIR),
 * as bench/run.ts does, and writes bench/results/sharding-<time>.json and sharding-latest.md.
 * Each replica count gets a namespace and a ring of its own; the Leases live there too.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { down, up } from '../../src/cluster/plane.ts';
import { defaults } from '../../src/defaults.ts';
import { CoinGeckoServer, SAMPLE_PRICES } from '../../operators/crypto/price/server.ts';
import { AdminApi } from '../harness/api.ts';
import { applyCrd, cleanUp, createNamespace, machine, round } from '../harness/cluster.ts';
import { compileOperon, selectContenders } from '../harness/contenders.ts';
import { createCvcs, CvcTracker, GROUP_PATH } from '../harness/cvcs.ts';
import { resetPeak, start, usage, type Running } from '../harness/proc.ts';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '30000' },
    replicas: { type: 'string', default: '1,2,3' },
    'keep-plane': { type: 'boolean', default: false },
  },
});
const N = Number(values.n);
const COUNTS = (values.replicas ?? '1,2,3').split(',').map(Number);
const RING = 'cvc';
const SHARD_LABEL = `shard.sharding.operon.dev/${RING}`;
/** The operators' price refresh, as the bench's burst uses it: no refresh during the measurement. */
const REFRESH_SECONDS = 3600;
/** Generous: the burst of 30,000 takes minutes on two shared cores. */
const CONVERGE_MS = 30 * 60_000;

interface ReplicaFigures {
  name: string;
  objects: number;
  peakRssMiB: number;
  cpuSeconds: number;
}

interface RunFigures {
  replicas: number;
  burstSeconds: number;
  objectsPerSecond: number;
  perReplica: ReplicaFigures[];
  /**
   * After one replica is SIGKILLed: until none of its objects keeps its label (its Lease must
   * expire and the sharder take it over first: two lease durations, `defaults.sharding`).
   */
  kill?: { killed: string; itsObjects: number; relabelledSeconds: number };
}

const log = (line: string): void => console.error(line);
const mib = (kib: number): number => round(kib / 1024, 1);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const planeDir = process.env['OPERON_BENCH_PLANE_DIR'] ?? join(homedir(), '.cache/operon/bench/plane');
const logDir = join(tmpdir(), `operon-sharding-bench-${Date.now()}`);
mkdirSync(logDir, { recursive: true });
const compiled = await compileOperon(repo, 'operators/crypto/operator.ts');
if (!compiled.ready) throw new Error(compiled.reason);
const operonCommand = selectContenders(['operon'])[0]?.command(repo, compiled) ?? [];

const state = await up({ dir: planeDir, log });
const api = new AdminApi(state);
const server = await CoinGeckoServer.start();
const prices = new Map(Object.entries(SAMPLE_PRICES));
await applyCrd(api, repo);

/** Shard name → its objects, from the labels (a metadata-only list). */
async function objectsByShard(namespace: string): Promise<Map<string, number>> {
  const list = await api.json<{ items: Array<{ metadata: { labels?: Record<string, string> } }> }>('GET', `${GROUP_PATH}/namespaces/${namespace}/cryptovaluecalculators`);
  const by = new Map<string, number>();
  for (const item of list.items) {
    const shard = item.metadata.labels?.[SHARD_LABEL] ?? '(none)';
    by.set(shard, (by.get(shard) ?? 0) + 1);
  }
  return by;
}

async function runWith(count: number): Promise<RunFigures> {
  const namespace = `sharding-${count}`;
  await createNamespace(api, namespace);
  const command = operonCommand.map((arg) => (arg === '-A' ? '-n' : arg));
  const replicas: Array<{ name: string; logFile: string; proc: Running }> = [];
  for (let i = 0; i < count; i++) {
    const name = `replica-${i}`;
    const env = { KUBECONFIG: state.kubeconfig, COINGECKO_BASE_URL: server.baseUrl, CVC_REFRESH_SECONDS: String(REFRESH_SECONDS) };
    const logFile = join(logDir, `${namespace}-${name}.log`);
    replicas.push({ name, logFile, proc: start([...command, namespace, '--shard-ring', RING, '--lease-namespace', namespace], env, logFile, repo) });
  }
  // Every replica's Lease is in the ring before the burst, so no object starts on a smaller ring.
  for (let i = 0; ; i++) {
    const leases = await api.json<{ items: unknown[] }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases?labelSelector=${encodeURIComponent(`sharding.operon.dev/ring=${RING}`)}`);
    if (leases.items.length >= count) break;
    if (i > 600) throw new Error(`${count} replicas: only ${leases.items.length} shard Leases after 2 minutes (logs in ${logDir})`);
    await sleep(200);
  }
  // The sharder reads the Leases every retry period: two of them, and its view holds them all.
  await sleep(2 * defaults.sharding.retryPeriodMs + 1_000);
  for (const r of replicas) resetPeak(r.proc.pid);
  const cpu0 = replicas.map((r) => usage(r.proc.pid).cpuSeconds);
  const tracker = new CvcTracker(api, namespace, prices);
  await tracker.start();
  const started = performance.now();
  log(`${count} replica(s): creating ${N} CVCs`);
  await createCvcs(api, namespace, N, 32);
  if (!(await tracker.allCorrect(N, CONVERGE_MS))) throw new Error(`${count} replicas: ${tracker.correct}/${N} right after ${CONVERGE_MS / 60_000} minutes`);
  const burstSeconds = (performance.now() - started) / 1000;
  // Objects in a move (drained, not yet labelled again) are right but on no shard: wait them out.
  let shards = await objectsByShard(namespace);
  for (let i = 0; shards.has('(none)') && i < 120; i++) {
    await sleep(500);
    shards = await objectsByShard(namespace);
  }
  const perReplica = replicas.map((r, i): ReplicaFigures => {
    const u = usage(r.proc.pid);
    // Each process names its shard once, when it joins the ring.
    const shard = /joining shard ring \S+ as (\S+?)"/.exec(readFileSync(r.logFile, 'utf8'))?.[1] ?? r.name;
    return { name: shard, objects: shards.get(shard) ?? 0, peakRssMiB: mib(u.hwmKiB), cpuSeconds: round(u.cpuSeconds - (cpu0[i] ?? 0), 2) };
  });
  log(`${count} replica(s): ${N} right in ${burstSeconds.toFixed(1)} s; ${perReplica.map((r) => `${r.name} ${r.objects} objects, peak ${r.peakRssMiB} MiB`).join('; ')}; labels: ${JSON.stringify(Object.fromEntries(shards))}`);
  const figures: RunFigures = { replicas: count, burstSeconds: round(burstSeconds, 2), objectsPerSecond: round(N / burstSeconds, 1), perReplica };

  if (count > 1) {
    const victim = replicas[0] as { name: string; logFile: string; proc: Running };
    const killed = perReplica[0]?.name ?? victim.name;
    const itsObjects = perReplica[0]?.objects ?? 0;
    const killedAt = performance.now();
    victim.proc.child.kill('SIGKILL');
    await victim.proc.exited;
    log(`${count} replica(s): SIGKILLed ${killed} (${itsObjects} objects)`);
    for (;;) {
      const now = await objectsByShard(namespace);
      if (!now.has(killed) && !now.has('(none)')) break;
      if (performance.now() - killedAt > CONVERGE_MS) throw new Error(`${count} replicas: ${now.get(killed) ?? 0} objects still on ${killed}`);
      await sleep(500);
    }
    const relabelledSeconds = (performance.now() - killedAt) / 1000;
    figures.kill = { killed, itsObjects, relabelledSeconds: round(relabelledSeconds, 2) };
    log(`${count} replica(s): its objects relabelled onto the replicas left in ${relabelledSeconds.toFixed(1)} s`);
  }
  await tracker.stop();
  for (const r of replicas) await r.proc.stop();
  await cleanUp(api, namespace, log);
  return figures;
}

const results: RunFigures[] = [];
try {
  for (const count of COUNTS) results.push(await runWith(count));
} finally {
  await server.close();
  api.close();
  if (!values['keep-plane']) await down({ dir: planeDir, log });
}

const m = machine();
const lines = [
  `# Sharding: N = ${N} CVCs, ${COUNTS.join(', ')} replica(s) of one ring`,
  '',
  `Run ${new Date().toISOString()} on ${m.nproc} CPUs (${m.cpu}), ${m.memoryMiB} MiB, Linux ${m.kernel}; node ${process.version}. Command: \`node bench/sharding/replicas.ts --n ${N} --replicas ${COUNTS.join(',')}\`.`,
  '',
  'Relabelled: time from the SIGKILL of one replica until every object it held carries the label of a live one (the Lease expires, the sharder takes it over and moves the objects).',
  '',
  '| replicas | burst s | objects/s | objects per replica | peak RSS per replica MiB | CPU s per replica | killed replica: objects, relabelled s |',
  '|---:|---:|---:|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.replicas} | ${r.burstSeconds} | ${r.objectsPerSecond} | ${r.perReplica.map((p) => p.objects).join(' / ')} | ${r.perReplica.map((p) => p.peakRssMiB).join(' / ')} | ${r.perReplica.map((p) => p.cpuSeconds).join(' / ')} | ${r.kill ? `${r.kill.itsObjects}, ${r.kill.relabelledSeconds}` : '—'} |`,
  ),
  '',
];
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
mkdirSync(join(repo, 'bench/results'), { recursive: true });
writeFileSync(join(repo, `bench/results/sharding-${stamp}.json`), `${JSON.stringify({ n: N, machine: m, results }, null, 2)}\n`);
writeFileSync(join(repo, 'bench/results/sharding-latest.md'), lines.join('\n'));
console.log(lines.join('\n'));
