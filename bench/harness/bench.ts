/**
 * The benchmark itself: one control plane, the CVC and Printer CRDs, one local CoinGecko, and each
 * contender in turn on the same work, with clean-up (objects gone, namespace gone) between contenders.
 *
 * Guarantees:
 * - Every number comes from outside the contender: the API server's request counters, the price
 *   server's request log, /proc for memory and CPU, and the harness's own watch for results.
 * - A contender that cannot be set up is reported as skipped with the reason; one that crashes or
 *   does not finish is reported as failed or incomplete with what was measured. Nothing is estimated.
 * - Contenders never overlap: the next starts only after the previous one exited and its objects
 *   and namespace are gone.
 * - Every contender meets the same etcd: its history compacted and its file defragmented just
 *   before it starts ({@link compactEtcd}), whatever the contenders before it wrote.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { up, type PlaneState } from '../../src/cluster/plane.ts';
import { CoinGeckoServer, SAMPLE_PRICES } from '../../operators/crypto/price/server.ts';
import { AdminApi, countsDelta, type RequestCounts } from './api.ts';
import { applyCrd, bump, cleanUp, cleanUpAfter, cleanUpLeftovers, compactEtcd, createNamespace, refuseForeignObjects, machine, pricesOf, round, serviceAccountReady, type Machine } from './cluster.ts';
import { CVC_WORKLOADS, printerProgram, type Contender, type Program, type Readiness, type WorkloadName } from './contenders.ts';
import { createCvcs, CvcTracker, GROUP_PATH } from './cvcs.ts';
import { createPrinters, PRINTER_CRD_FILE, PRINTER_GROUP_PATH, printerRequestCounts, PrinterTracker } from './printers.ts';
import { resetPeak, start, usage, type Running } from './proc.ts';
import { summarize, type LatencySummary } from './stats.ts';

export interface BenchOptions {
  repo: string;
  /** Object counts to run, each for every contender. */
  sizes: number[];
  contenders: Contender[];
  workloads: WorkloadName[];
  /** The contenders' REFRESH_SECONDS. */
  refreshSeconds: number;
  /** Price changes in the steady workload (one per refresh interval). */
  steadyRounds: number;
  /** The steady workload runs only at sizes up to this (it lasts rounds × refresh per contender). Default: all. */
  steadyMaxN?: number;
  /** The printer workload runs only at sizes up to this (it puts N Pods on the simulated Node). Default: all. */
  printerMaxN?: number;
  /** Create requests in flight. */
  creatorConcurrency: number;
  /** Wait after a contender starts before idle memory is read. */
  settleMs: number;
  /** How long a restart with nothing changed is watched for writes, at least. */
  quietWindowMs: number;
  /**
   * Passes over every contender at each size, the order reversed on every second pass, so that
   * neither the plane's warm-up nor its wear favours one contender. Default 1. A 1,000-object burst
   * lasts about 3 s on a 2-core machine, and one pass moved a ratio from 0.83× to 1.21×; the
   * report's medians over three or more passes are what decide a comparison.
   */
  repeat?: number;
  /** Control-plane state folder (the benchmark's own plane). */
  planeDir: string;
  /** Contender logs go here. */
  logDir: string;
  log: (line: string) => void;
}

/** API requests a contender caused in a phase. */
export interface Requests {
  total: number;
  byVerb: Record<string, number>;
  /** PATCH/PUT/APPLY on cryptovaluecalculators (and their subresources). */
  cvcWrites: number;
  /** The part of `cvcWrites` that went to the status subresource. */
  cvcStatusWrites: number;
  /** Every counter that moved, `VERB resource`. */
  detail: Record<string, number>;
}

export interface BurstResult {
  complete: boolean;
  /** Objects that carried the right value at the end. */
  correct: number;
  /** Created (POST) time of all N, seconds. */
  createSeconds: number;
  /** First create sent → last object correct, seconds. */
  seconds: number;
  objectsPerSecond: number;
  /** Creation confirmed → value seen by the harness's watch, per object, ms. */
  latencyMs: LatencySummary;
  peakRssMiB: number;
  cpuSeconds: number;
  requests: Requests;
  priceRequests: number;
  wrong?: unknown;
}

export interface SteadyResult {
  converged: boolean;
  rounds: number;
  /** From the first price change until every value is right and `rounds` refresh intervals have passed. */
  windowSeconds: number;
  /** CVC writes in the window ÷ rounds (one price change per round). */
  writesPerRefresh: number;
  /** Values that had to change per refresh: the least any correct operator writes. */
  neededWritesPerRefresh: number;
  priceRequestsPerRefresh: number;
  cpuSecondsPerMinute: number;
  rssMiB: number;
  peakRssMiB: number;
  requests: Requests;
  wrong?: unknown;
}

export interface RestartResult {
  /** Prices changed while it was down: process start → every value right again, seconds. */
  catchUpSeconds: number;
  caughtUp: boolean;
  catchUpWrites: number;
  catchUpNeededWrites: number;
  catchUpRequests?: Requests;
  /** Restart with nothing changed: writes seen in `quietSeconds` (ideal: 0). */
  quietWrites: number;
  quietSeconds: number;
  quietRequests: Requests;
  wrong?: unknown;
}

/** The printer workload: N Printers created at once; each needs its Pod and a status that follows it. */
export interface PrinterResult {
  /** Every Printer done within the time limit. */
  complete: boolean;
  /** Printers with at least one Pod they control. */
  withPod: number;
  /** Printers done: exactly one Pod ever, and (when judged) `status.phase` = that Pod's finished phase. */
  done: number;
  /** Whether the status was judged; false for a program that writes none ("status: n/a"). */
  statusJudged: boolean;
  /** Printers that ever had more than one Pod (never right). */
  extraPods: number;
  /** Pods in the namespace that no Printer there controls (never right). */
  strayPods: number;
  /** Created (POST) time of all N, seconds. */
  createSeconds: number;
  /** First create sent → last Printer has its Pod, seconds. */
  podsSeconds: number;
  /** First create sent → last Printer done, seconds. */
  seconds: number;
  /** N ÷ `seconds`. */
  objectsPerSecond: number;
  /** Create confirmed → first Pod seen by the harness, per Printer, ms. */
  podLatencyMs: LatencySummary;
  /** Create confirmed → done, per Printer, ms. */
  latencyMs: LatencySummary;
  peakRssMiB: number;
  cpuSeconds: number;
  /** The contender's requests; the control plane's per-Pod work (binding, Pod status, its Events) left out. */
  requests: Requests;
  /** POST pods. */
  podCreates: number;
  /** PATCH/PUT/APPLY on printers and printers/status. */
  printerWrites: number;
  /** The part of `printerWrites` that went to the status subresource. */
  printerStatusWrites: number;
  wrong?: unknown;
}

export interface IdleResult {
  /** VmRSS after start with no objects, MiB. */
  emptyRssMiB: number;
  /** VmRSS after a restart over N objects, caught up and quiet, MiB. */
  withObjectsRssMiB?: number;
}

export interface ContenderResult {
  contender: string;
  about: string;
  n: number;
  /** 'printer' for the run of the contender's Printer program; absent for its CVC workloads. */
  workload?: 'printer';
  /** Which pass of {@link BenchOptions.repeat} (from 1); absent in a run of one pass. */
  pass?: number;
  status: 'ok' | 'skipped' | 'failed' | 'incomplete';
  reason?: string;
  idle?: IdleResult;
  burst?: BurstResult;
  steady?: SteadyResult;
  restart?: RestartResult;
  printer?: PrinterResult;
  log?: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  versions: Record<string, string>;
  settings: Omit<BenchOptions, 'contenders' | 'log' | 'repo' | 'planeDir' | 'logDir'>;
  /** Creating N objects with no operator running: the creator's own speed. */
  creation: Array<{ n: number; seconds: number; objectsPerSecond: number }>;
  /** Creating N Printers with no operator running. Absent in runs without the printer workload. */
  printerCreation?: Array<{ n: number; seconds: number; objectsPerSecond: number }>;
  results: ContenderResult[];
  notes: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

/**
 * What a contender's requests were, from counter deltas: the harness's own creates (`harnessCreates`
 * of `create`, by default the CVC creator's) subtracted and non-resource paths (/metrics,
 * /openapi, discovery, mostly the control plane's own components) left out.
 */
export function requests(delta: Record<string, number>, harnessCreates = 0, create = 'POST cryptovaluecalculators'): Requests {
  const detail = { ...delta };
  if (detail[create] !== undefined) {
    detail[create] -= harnessCreates;
    if (detail[create] <= 0) delete detail[create];
  }
  const byVerb: Record<string, number> = {};
  let total = 0;
  let cvcWrites = 0;
  let cvcStatusWrites = 0;
  for (const [key, value] of Object.entries(detail)) {
    const [verb = '', resource = ''] = key.split(' ');
    if (resource === '' || resource.startsWith('/') || resource === 'apis' || resource === 'api') {
      delete detail[key];
      continue;
    }
    byVerb[verb] = (byVerb[verb] ?? 0) + value;
    total += value;
    if (resource.startsWith('cryptovaluecalculators') && ['PATCH', 'PUT', 'APPLY'].includes(verb)) {
      cvcWrites += value;
      if (resource.endsWith('/status')) cvcStatusWrites += value;
    }
  }
  return { total, byVerb, cvcWrites, cvcStatusWrites, detail };
}

/** The CVC workloads `contender`'s `command` runs at size `n` (the printer workload is apart: {@link printerProgram}). */
function workloadsOf(options: BenchOptions, contender: Contender, n: number): WorkloadName[] {
  return options.workloads.filter((w) => w !== 'printer' && (contender.workloads ?? CVC_WORKLOADS).includes(w) && (w !== 'steady' || n <= (options.steadyMaxN ?? Infinity)));
}

interface Ctx {
  options: BenchOptions;
  plane: PlaneState;
  api: AdminApi;
  server: CoinGeckoServer;
  /** What each program's setup made ready, from {@link prepareAll}. */
  prepared: Map<Program, Readiness>;
  /** The pass under way, from 1. */
  pass: number;
}

/** The row's pass, when the run makes more than one. */
const passOf = (ctx: Ctx): { pass?: number } => ((ctx.options.repeat ?? 1) > 1 ? { pass: ctx.pass } : {});
/** Log files of later passes do not overwrite the first's. */
const passSuffix = (ctx: Ctx): string => ((ctx.options.repeat ?? 1) > 1 ? `-pass${ctx.pass}` : '');

/** Namespaces this harness process has made, for {@link freshNamespace}. */
let namespaceCount = 0;

/**
 * A namespace no earlier run used: for 30 s after a namespace is deleted, the API server's
 * NamespaceLifecycle admission looks a namespace of that name up live (a GET against etcd) as it
 * admits requests there. A run in the namespace its contender's previous run had just deleted (the
 * next pass, which reverses the order, or a second bench started right after) carried 1,032 such
 * GETs in a 1,000-object burst, on the server the operator was measured against.
 */
function freshNamespace(...parts: Array<string | number>): string {
  const unique = `${Date.now().toString(36)}${(namespaceCount++).toString(36)}`;
  return `bench-${parts.join('-')}`.slice(0, 62 - unique.length) + `-${unique}`;
}

/** The contenders of pass `pass` (from 1) in their order: as named on odd passes, reversed on even ones. */
export function passOrder<T>(contenders: readonly T[], pass: number): T[] {
  return pass % 2 === 1 ? [...contenders] : [...contenders].reverse();
}

async function runContender(ctx: Ctx, contender: Contender, prepared: { path?: string }, n: number): Promise<ContenderResult> {
  const { options, api, server, plane } = ctx;
  const workloads = workloadsOf(options, contender, n);
  const result: ContenderResult = { contender: contender.name, about: contender.about, n, ...passOf(ctx), status: 'ok' };
  const namespace = freshNamespace(contender.name, n);
  const logFile = join(options.logDir, `${contender.name}-${n}${passSuffix(ctx)}.log`);
  result.log = logFile;
  const log = (line: string): void => options.log(`  ${contender.name} n=${n}: ${line}`);
  const prices = pricesOf(server, new Map(), { ...SAMPLE_PRICES });
  const command = contender.command(options.repo, { ready: true, ...prepared });
  const env = { KUBECONFIG: plane.kubeconfig, COINGECKO_BASE_URL: server.baseUrl, [contender.refreshEnv ?? 'REFRESH_SECONDS']: String(options.refreshSeconds), ...contender.env };
  const refreshMs = options.refreshSeconds * 1000;

  await createNamespace(api, namespace);
  const tracker = new CvcTracker(api, namespace, prices);
  await tracker.start();
  let proc: Running = start(command, env, logFile, options.repo);
  const alive = (): void => {
    if (proc.hasExited()) throw new Error(`the contender exited early; see ${logFile}`);
  };
  const counts = (): Promise<RequestCounts> => api.requestCounts();
  const populate = async (): Promise<void> => {
    if (tracker.size >= n) return;
    log(`creating ${n} CVCs for the workload`);
    await createCvcs(api, namespace, n, options.creatorConcurrency);
    if (!(await tracker.allCorrect(n, 60_000 + n * 50))) throw new Error(`only ${tracker.correct}/${n} CVCs got their value`);
  };

  try {
    await sleep(options.settleMs);
    alive();
    if (workloads.includes('idle')) result.idle = { emptyRssMiB: mib(usage(proc.pid).rssKiB) };

    if (workloads.includes('burst')) {
      log(`burst: creating ${n} CVCs, ${options.creatorConcurrency} in flight`);
      resetPeak(proc.pid);
      const before = await counts();
      const cpu0 = usage(proc.pid).cpuSeconds;
      const price0 = server.priceRequestCount;
      const t0 = performance.now();
      const created = await createCvcs(api, namespace, n, options.creatorConcurrency);
      if (created.failures) throw new Error(`${created.failures} creates failed`);
      const complete = await tracker.allCorrect(n, 60_000 + n * 50);
      const u = usage(proc.pid);
      const after = await counts();
      let last = t0;
      const latencies: number[] = [];
      for (const [name, seen] of tracker.objects) {
        if (seen.correctAt === undefined) continue;
        last = Math.max(last, seen.correctAt);
        const createdAt = created.createdAt.get(name);
        if (createdAt !== undefined) latencies.push(Math.max(0, seen.correctAt - createdAt));
      }
      const seconds = (last - t0) / 1000;
      result.burst = {
        complete,
        correct: tracker.correct,
        createSeconds: round(created.seconds, 2),
        seconds: round(seconds, 2),
        objectsPerSecond: round(tracker.correct / seconds, 1),
        latencyMs: roundSummary(summarize(latencies)),
        peakRssMiB: mib(u.hwmKiB),
        cpuSeconds: round(u.cpuSeconds - cpu0, 2),
        requests: requests(countsDelta(before, after), n),
        priceRequests: server.priceRequestCount - price0,
      };
      if (!complete) {
        result.burst.wrong = tracker.wrong();
        result.status = 'incomplete';
        log(`burst: only ${tracker.correct}/${n} correct`);
        return result;
      }
      log(`burst: ${result.burst.seconds} s, ${result.burst.objectsPerSecond}/s, p99 ${result.burst.latencyMs.p99} ms, peak ${result.burst.peakRssMiB} MiB`);
    }

    if (workloads.includes('steady')) {
      await populate();
      alive();
      log(`steady: ${options.steadyRounds} bitcoin price changes, one per ${options.refreshSeconds} s`);
      resetPeak(proc.pid);
      const before = await counts();
      const cpu0 = usage(proc.pid).cpuSeconds;
      const price0 = server.priceRequestCount;
      const t0 = performance.now();
      let needed = 0;
      for (let round = 0; round < options.steadyRounds; round++) {
        if (round > 0) await sleep(t0 + round * refreshMs - performance.now());
        pricesOf(server, prices, { bitcoin: bump(prices.get('bitcoin') as string, '1.37') });
        needed += tracker.setPrices(prices);
      }
      const converged = await tracker.allCorrect(n, 2 * refreshMs + 30_000);
      // The window covers at least every round's full refresh interval.
      await sleep(t0 + options.steadyRounds * refreshMs - performance.now());
      const windowSeconds = (performance.now() - t0) / 1000;
      const u = usage(proc.pid);
      const after = await counts();
      const req = requests(countsDelta(before, after));
      const k = options.steadyRounds;
      result.steady = {
        converged,
        rounds: k,
        windowSeconds: round(windowSeconds, 1),
        writesPerRefresh: round(req.cvcWrites / k, 1),
        neededWritesPerRefresh: round(needed / k, 1),
        priceRequestsPerRefresh: round((server.priceRequestCount - price0) / k, 1),
        cpuSecondsPerMinute: round((u.cpuSeconds - cpu0) / (windowSeconds / 60), 2),
        rssMiB: mib(u.rssKiB),
        peakRssMiB: mib(u.hwmKiB),
        requests: req,
      };
      if (!converged) {
        result.steady.wrong = tracker.wrong();
        result.status = 'incomplete';
      }
      log(`steady: ${result.steady.writesPerRefresh} writes/refresh (needed ${result.steady.neededWritesPerRefresh}), ${result.steady.priceRequestsPerRefresh} price requests/refresh, ${result.steady.cpuSecondsPerMinute} CPU s/min`);
    }

    if (workloads.includes('restart')) {
      await populate();
      log('restart: prices change while it is down');
      await proc.stop();
      pricesOf(server, prices, {
        bitcoin: bump(prices.get('bitcoin') as string, '10'),
        ethereum: bump(prices.get('ethereum') as string, '1.11'),
        dogecoin: bump(prices.get('dogecoin') as string, '0.0036'),
        'shiba-inu': bump(prices.get('shiba-inu') as string, '0.00000073'),
      });
      const needed = tracker.setPrices(prices);
      let before = await counts();
      const t0 = performance.now();
      proc = start(command, env, logFile, options.repo);
      const caughtUp = await tracker.allCorrect(n, 60_000 + n * 50);
      const catchUpSeconds = (performance.now() - t0) / 1000;
      let after = await counts();
      const catchUp = requests(countsDelta(before, after));
      log(`restart: caught up in ${round(catchUpSeconds, 2)} s with ${catchUp.cvcWrites} writes (${needed} needed); now restarting with nothing changed`);
      await proc.stop();
      before = await counts();
      proc = start(command, env, logFile, options.repo);
      const quietMs = Math.max(options.quietWindowMs, 1.5 * catchUpSeconds * 1000);
      await sleep(quietMs);
      alive();
      after = await counts();
      const quiet = requests(countsDelta(before, after));
      result.restart = {
        catchUpSeconds: round(catchUpSeconds, 2),
        caughtUp,
        catchUpWrites: catchUp.cvcWrites,
        catchUpNeededWrites: needed,
        catchUpRequests: catchUp,
        quietWrites: quiet.cvcWrites,
        quietSeconds: round(quietMs / 1000, 1),
        quietRequests: quiet,
      };
      if (tracker.correct !== n) {
        result.restart.wrong = tracker.wrong();
        result.status = 'incomplete';
      }
      if (!caughtUp) result.status = 'incomplete';
      if (result.idle) result.idle.withObjectsRssMiB = mib(usage(proc.pid).rssKiB);
      log(`restart: ${quiet.cvcWrites} writes in ${round(quietMs / 1000, 1)} s with nothing changed`);
    } else if (result.idle && tracker.size > 0) {
      await sleep(options.settleMs);
      result.idle.withObjectsRssMiB = mib(usage(proc.pid).rssKiB);
    }
    return result;
  } finally {
    await proc.stop();
    await tracker.stop();
    await cleanUpAfter(api, namespace, log);
  }
}

/**
 * The printer workload for one contender's Printer program: N Printers created with the program
 * running, then the time until every Printer has its Pod and until every status follows its
 * finished Pod, with memory, CPU and requests over that window. Namespace and objects are gone
 * afterwards, whatever happened.
 */
async function runPrinterContender(ctx: Ctx, contender: Contender, program: Program, prepared: { path?: string }, n: number): Promise<ContenderResult> {
  const { options, api, plane } = ctx;
  const result: ContenderResult = { contender: contender.name, about: program.about, n, workload: 'printer', ...passOf(ctx), status: 'ok' };
  const namespace = freshNamespace(contender.name, 'printer', n);
  const logFile = join(options.logDir, `${contender.name}-printer-${n}${passSuffix(ctx)}.log`);
  result.log = logFile;
  const log = (line: string): void => options.log(`  ${contender.name} printer n=${n}: ${line}`);
  const judgeStatus = program.followsPodPhase ?? true;
  await createNamespace(api, namespace);
  const tracker = new PrinterTracker(api, namespace, judgeStatus);
  let proc: Running | undefined;
  try {
    await serviceAccountReady(api, namespace);
    await tracker.start();
    proc = start(program.command(options.repo, { ready: true, ...prepared }), { KUBECONFIG: plane.kubeconfig, ...program.env }, logFile, options.repo);
    await sleep(options.settleMs);
    if (proc.hasExited()) throw new Error(`the contender exited early; see ${logFile}`);
    log(`creating ${n} Printers, ${options.creatorConcurrency} in flight`);
    resetPeak(proc.pid);
    const before = await printerRequestCounts(api);
    const cpu0 = usage(proc.pid).cpuSeconds;
    const t0 = performance.now();
    const created = await createPrinters(api, namespace, n, options.creatorConcurrency);
    if (created.failures) throw new Error(`${created.failures} creates failed`);
    const limitMs = 60_000 + n * 100;
    const complete = (await tracker.all('withPod', n, limitMs)) && (await tracker.all('done', n, Math.max(10_000, t0 + limitMs - performance.now())));
    const u = usage(proc.pid);
    const req = requests(countsDelta(before, await printerRequestCounts(api)), n, 'POST printers');
    result.printer = {
      complete,
      withPod: tracker.withPod,
      done: tracker.done,
      statusJudged: judgeStatus,
      extraPods: tracker.extraPods,
      strayPods: tracker.strayPods,
      createSeconds: round(created.seconds, 2),
      ...printerTimes(tracker, created.createdAt, t0),
      peakRssMiB: mib(u.hwmKiB),
      cpuSeconds: round(u.cpuSeconds - cpu0, 2),
      requests: req,
      ...printerWrites(req),
    };
    if (!complete || tracker.extraPods > 0 || tracker.strayPods > 0) {
      result.printer.wrong = tracker.failure ? { printers: tracker.wrong(), watch: tracker.failure.message } : tracker.wrong();
      result.status = proc.hasExited() ? 'failed' : 'incomplete';
      if (proc.hasExited()) result.reason = `the contender exited during the run; see ${logFile}`;
      log(`only ${tracker.done}/${n} done (${tracker.withPod} with a Pod, ${tracker.extraPods} with more than one, ${tracker.strayPods} stray Pods)`);
    } else {
      log(`all Pods in ${result.printer.podsSeconds} s, all done in ${result.printer.seconds} s (${result.printer.objectsPerSecond}/s), p99 ${result.printer.latencyMs.p99} ms, peak ${result.printer.peakRssMiB} MiB`);
    }
    return result;
  } finally {
    await proc?.stop();
    await tracker.stop();
    await cleanUpAfter(api, namespace, log, [`${PRINTER_GROUP_PATH}/namespaces/${namespace}/printers`, `/api/v1/namespaces/${namespace}/pods`]);
  }
}

/** The printer workload's times: to the last Pod, to the last done Printer, and per Printer. */
function printerTimes(tracker: PrinterTracker, createdAt: ReadonlyMap<string, number>, t0: number): Pick<PrinterResult, 'podsSeconds' | 'seconds' | 'objectsPerSecond' | 'podLatencyMs' | 'latencyMs'> {
  let lastPod = t0;
  let lastDone = t0;
  const toPod: number[] = [];
  const toDone: number[] = [];
  for (const [name, seen] of tracker.printers) {
    const created = createdAt.get(name);
    if (seen.podAt !== undefined) {
      lastPod = Math.max(lastPod, seen.podAt);
      if (created !== undefined) toPod.push(Math.max(0, seen.podAt - created));
    }
    if (seen.doneAt !== undefined && seen.done) {
      lastDone = Math.max(lastDone, seen.doneAt);
      if (created !== undefined) toDone.push(Math.max(0, seen.doneAt - created));
    }
  }
  const seconds = (lastDone - t0) / 1000;
  return {
    podsSeconds: round((lastPod - t0) / 1000, 2),
    seconds: round(seconds, 2),
    objectsPerSecond: round(toDone.length / Math.max(seconds, 0.001), 1),
    podLatencyMs: roundSummary(summarize(toPod)),
    latencyMs: roundSummary(summarize(toDone)),
  };
}

/** Pod creates and Printer writes among a printer workload's requests. */
function printerWrites(req: Requests): Pick<PrinterResult, 'podCreates' | 'printerWrites' | 'printerStatusWrites'> {
  let printerWrites = 0;
  let printerStatusWrites = 0;
  for (const [key, count] of Object.entries(req.detail)) {
    const [verb = '', resource = ''] = key.split(' ');
    if (!resource.startsWith('printers') || !['PATCH', 'PUT', 'APPLY'].includes(verb)) continue;
    printerWrites += count;
    if (resource.endsWith('/status')) printerStatusWrites += count;
  }
  return { podCreates: req.detail['POST pods'] ?? 0, printerWrites, printerStatusWrites };
}

function roundSummary(s: LatencySummary): LatencySummary {
  return { count: s.count, p50: round(s.p50, 0), p90: round(s.p90, 0), p99: round(s.p99, 0), max: round(s.max, 0) };
}

/** Runs every contender at every size; never throws for a contender's failure, only for the harness's own. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  mkdirSync(options.logDir, { recursive: true });
  process.env.OPERON_REAL_NODE ??= '0'; // CVCs need no kubelet; kwok alone keeps the plane light
  const prepared = await prepareAll(options);
  const plane = await up({ dir: options.planeDir, log: (line) => options.log(line) });
  const api = new AdminApi(plane);
  const server = await CoinGeckoServer.start();
  const notes: string[] = [];
  try {
    await applyCrd(api, options.repo);
    if (options.workloads.includes('printer')) await applyCrd(api, options.repo, PRINTER_CRD_FILE, `${PRINTER_GROUP_PATH}/printers?limit=1`);
    await cleanUpLeftovers(api, options.log);
    await refuseForeignObjects(api, [`${GROUP_PATH}/cryptovaluecalculators`, `${PRINTER_GROUP_PATH}/printers`]);
    const version = await api.json<{ gitVersion: string }>('GET', '/version');
    const versions: Record<string, string> = { 'kube-apiserver': version.gitVersion, node: process.version };
    const creation: BenchReport['creation'] = [];
    const printerCreation: NonNullable<BenchReport['printerCreation']> = [];
    const results: ContenderResult[] = [];
    for (const n of options.sizes) {
      if (options.workloads.includes('burst')) {
        // A warm-up first: the first writes of a new CRD pay for caches and connections.
        const warm = 'bench-creator-warm-up';
        await createNamespace(api, warm);
        await createCvcs(api, warm, Math.min(n, 200), options.creatorConcurrency);
        await cleanUp(api, warm, options.log);
        const ns = `bench-creator-${n}`;
        await createNamespace(api, ns);
        const created = await createCvcs(api, ns, n, options.creatorConcurrency);
        creation.push({ n, seconds: round(created.seconds, 2), objectsPerSecond: round(n / created.seconds, 1) });
        options.log(`creator alone: ${n} CVCs in ${round(created.seconds, 2)} s (${round(n / created.seconds, 1)}/s)`);
        await cleanUp(api, ns, options.log);
      }
      const printing = options.workloads.includes('printer') && n <= (options.printerMaxN ?? Infinity);
      if (printing) printerCreation.push(await printerCreatorAlone(api, n, options));
      const passes = options.repeat ?? 1;
      for (let pass = 1; pass <= passes; pass++) {
        if (passes > 1) options.log(`N = ${n}: pass ${pass} of ${passes}`);
        for (const contender of passOrder(options.contenders, pass)) {
          const ctx: Ctx = { options, plane, api, server, prepared, pass };
          if (workloadsOf(options, contender, n).length > 0) {
            results.push(await attempt(ctx, contender, contender, n, (prepared) => runContender(ctx, contender, prepared, n)));
          }
          const printer = printerProgram(contender);
          if (printer && printing) {
            results.push(await attempt(ctx, contender, printer, n, (prepared) => runPrinterContender(ctx, contender, printer, prepared, n), 'printer'));
          }
        }
      }
    }
    return {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: machine(),
      versions: { ...versions, ...toolVersions(options.repo) },
      settings: {
        sizes: options.sizes,
        workloads: options.workloads,
        refreshSeconds: options.refreshSeconds,
        steadyRounds: options.steadyRounds,
        steadyMaxN: options.steadyMaxN,
        printerMaxN: options.printerMaxN,
        creatorConcurrency: options.creatorConcurrency,
        settleMs: options.settleMs,
        quietWindowMs: options.quietWindowMs,
        ...(options.repeat && options.repeat > 1 ? { repeat: options.repeat } : {}),
      },
      creation,
      ...(options.workloads.includes('printer') ? { printerCreation } : {}),
      results,
      notes,
    };
  } finally {
    await server.close();
    api.close();
  }
}

/**
 * Builds and installs every program's needs (Go builds, the kopf venv, Operon's compile) one after
 * another, before the harness opens any connection: a setup of minutes that ran between
 * workloads left the harness's idle keep-alive sockets to the API server's idle timeout, and the
 * first request after it failed with `socket hang up` (the first fresh-machine run of the smoke
 * test). The setups run off the event loop, so nothing else stalls while they do.
 */
async function prepareAll(options: BenchOptions): Promise<Map<Program, Readiness>> {
  const prepared = new Map<Program, Readiness>();
  for (const contender of options.contenders) {
    const programs: Program[] = [];
    if (options.sizes.some((n) => workloadsOf(options, contender, n).length > 0)) programs.push(contender);
    const printer = printerProgram(contender);
    if (printer && options.workloads.includes('printer')) programs.push(printer);
    for (const program of programs) {
      if (!program.setup || prepared.has(program)) continue;
      const t0 = performance.now();
      prepared.set(program, await program.setup(options.repo));
      const seconds = (performance.now() - t0) / 1000;
      if (seconds > 1) options.log(`set up ${contender.name}${program === contender ? '' : ' printer'} in ${round(seconds, 1)} s`);
    }
  }
  return prepared;
}

/**
 * Runs `program` (set up by {@link prepareAll}) through `run`, on an etcd compacted just before
 * ({@link compactEtcd}); a setup that fails is a skipped row, a run that throws a failed one, each
 * with the reason.
 */
async function attempt(ctx: Ctx, contender: Contender, program: Program, n: number, run: (prepared: { path?: string }) => Promise<ContenderResult>, workload?: 'printer'): Promise<ContenderResult> {
  const { options } = ctx;
  const label = `${contender.name}${workload ? ` ${workload}` : ''} n=${n}`;
  const row = { contender: contender.name, about: program.about, n, ...(workload ? { workload } : {}), ...passOf(ctx) };
  const readiness: Readiness = ctx.prepared.get(program) ?? { ready: true };
  if (!readiness.ready) {
    options.log(`${label}: skipped: ${readiness.reason}`);
    return { ...row, status: 'skipped', reason: readiness.reason };
  }
  options.log(`${label}: ${workload ?? workloadsOf(options, contender, n).join(', ')}`);
  await compactEtcd(ctx.plane.etcdUrl, options.log);
  try {
    return await run(readiness);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    options.log(`${label}: failed: ${reason}`);
    return { ...row, status: 'failed', reason, log: join(options.logDir, `${contender.name}${workload ? `-${workload}` : ''}-${n}${passSuffix(ctx)}.log`) };
  }
}

/** Creating N Printers with no operator running: the creator's own speed. */
async function printerCreatorAlone(api: AdminApi, n: number, options: BenchOptions): Promise<{ n: number; seconds: number; objectsPerSecond: number }> {
  const create = async (ns: string, count: number): Promise<number> => {
    await createNamespace(api, ns);
    const created = await createPrinters(api, ns, count, options.creatorConcurrency);
    await cleanUp(api, ns, options.log, [`${PRINTER_GROUP_PATH}/namespaces/${ns}/printers`]);
    return created.seconds;
  };
  // A warm-up first, as for CVCs: the first writes of a new CRD pay for caches, its validation
  // rule's compilation and connections.
  await create('bench-printer-creator-warm-up', Math.min(n, 200));
  const seconds = await create(`bench-printer-creator-${n}`, n);
  options.log(`printer creator alone: ${n} Printers in ${round(seconds, 2)} s (${round(n / seconds, 1)}/s)`);
  return { n, seconds: round(seconds, 2), objectsPerSecond: round(n / seconds, 1) };
}

function toolVersions(repo: string): Record<string, string> {
  const out: Record<string, string> = {};
  const read = (file: string): string | undefined => {
    try {
      return readFileSync(join(repo, file), 'utf8');
    } catch {
      return undefined;
    }
  };
  const kopf = /kopf==([\w.]+)/.exec(read('bench/contenders/kopf/requirements.txt') ?? '')?.[1];
  if (kopf) out['kopf'] = kopf;
  const cr = /sigs\.k8s\.io\/controller-runtime (v[\w.]+)/.exec(read('bench/contenders/controller-runtime/go.mod') ?? '')?.[1];
  if (cr) out['controller-runtime'] = cr;
  const clientNode = (JSON.parse(read('node_modules/@kubernetes/client-node/package.json') ?? '{}') as { version?: string }).version;
  if (clientNode) out['@kubernetes/client-node'] = clientNode;
  return out;
}

