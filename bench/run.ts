#!/usr/bin/env node
/**
 * Runs every contender on the same CVC and Printer work and writes the results.
 *
 *   node bench/run.ts [--n 1000,10000] [--contenders a,b] [--workloads idle,burst,steady,restart,printer]
 *                     [--refresh 15] [--rounds 4] [--steady-max-n 1000] [--printer-max-n 1000] [--repeat 3] [--quick] [--keep-plane]
 *   node bench/run.ts --render bench/results/A.json,bench/results/B.json
 *                     (no run: latest.md/png from earlier runs, each size from the newest that has it)
 *
 * --repeat K: K passes over the contenders at each size, the order reversed on every second pass;
 * the report adds each contender's medians and their ratios to controller-runtime's.
 *
 * Results: bench/results/<timestamp>.json, bench/results/latest.md, bench/results/latest.png (and
 * .svg), and with two sizes or more latest-scale.png (and .svg), the curve against N. Contender logs: ~/.cache/operon/bench/logs/<timestamp>/. The benchmark brings up its own
 * control plane in ~/.cache/operon/bench/plane (OPERON_BENCH_PLANE_DIR) and stops it at the end.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { down } from '../src/cluster/plane.ts';
import { runBench, type BenchReport } from './harness/bench.ts';
import { selectContenders, type WorkloadName } from './harness/contenders.ts';
import { markdown, mergeReports, scaleChart, svgChart, toPng } from './harness/report.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cache = process.env.OPERON_BENCH_CACHE ?? join(homedir(), '.cache', 'operon', 'bench');

const USAGE = `Usage:
  node bench/run.ts [--n 1000,10000] [--contenders a,b] [--workloads idle,burst,steady,restart,printer]
                    [--refresh 15] [--rounds 4] [--steady-max-n 1000] [--printer-max-n 1000] [--repeat 3] [--quick] [--keep-plane]
  node bench/run.ts --render bench/results/A.json,bench/results/B.json
See bench/README.md for the contenders, the workloads and how to read the results.
`;

/** Bad input gets one line and the usage, exit 2, never a stack trace. */
function usageError(message: string): never {
  process.stderr.write(`bench/run.ts: ${message}\n${USAGE}`);
  process.exit(2);
}

let parsed: ReturnType<typeof parseOptions>;
try {
  parsed = parseOptions();
} catch (error) {
  usageError(error instanceof Error ? error.message : String(error));
}
if (parsed.values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const { values } = parsed;

function parseOptions() {
  return parseArgs({
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      n: { type: 'string' },
      contenders: { type: 'string' },
      workloads: { type: 'string' },
      refresh: { type: 'string' },
      rounds: { type: 'string' },
      repeat: { type: 'string' },
      'steady-max-n': { type: 'string' },
      'printer-max-n': { type: 'string' },
      quick: { type: 'boolean', default: false },
      'keep-plane': { type: 'boolean', default: false },
      render: { type: 'string' },
    },
  });
}
const list = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const known: WorkloadName[] = ['idle', 'burst', 'steady', 'restart', 'printer'];
/** Default: every workload (printer runs only for contenders that have a Printer program). */
const workloads = (list(values.workloads).length ? list(values.workloads) : known) as WorkloadName[];
const unknownWorkload = workloads.filter((w) => !known.includes(w));
if (unknownWorkload.length) usageError(`unknown workload(s): ${unknownWorkload.join(', ')}; known: ${known.join(', ')}`);

/** A whole number of at least 1, or a usage error naming the option. */
function positive(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) usageError(`${option} wants a whole number of at least 1, not ${JSON.stringify(text)}`);
  return value;
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');

async function measure(): Promise<BenchReport> {
  const quick = values.quick;
  const sizes = list(values.n).map(Number);
  const planeDir = process.env.OPERON_BENCH_PLANE_DIR ?? join(cache, 'plane');

  const report = await runBench({
    repo,
    sizes: sizes.length ? sizes : quick ? [200] : [1000],
    contenders: selectContenders(list(values.contenders)),
    workloads,
    refreshSeconds: Number(values.refresh ?? (quick ? 5 : 15)),
    steadyRounds: Number(values.rounds ?? (quick ? 2 : 4)),
    ...(values['steady-max-n'] ? { steadyMaxN: Number(values['steady-max-n']) } : {}),
    ...(values['printer-max-n'] ? { printerMaxN: Number(values['printer-max-n']) } : {}),
    ...(values.repeat ? { repeat: positive(values.repeat, '--repeat') } : {}),
    creatorConcurrency: 32,
    settleMs: quick ? 3_000 : 5_000,
    quietWindowMs: quick ? 8_000 : 15_000,
    planeDir,
    logDir: join(cache, 'logs', stamp),
    log: (line) => console.error(line),
  }).finally(async () => {
    if (!values['keep-plane']) await down({ dir: planeDir, log: (line) => console.error(line) });
  });
  return report;
}

const tool = (cmd: string, args: string[], pattern: RegExp): string | undefined => {
  try {
    return pattern.exec(execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))?.[1];
  } catch {
    return undefined;
  }
};

const results = join(repo, 'bench', 'results');
const renderFrom = list(values.render);
const report = renderFrom.length ? mergeReports(renderFrom.map((f) => JSON.parse(readFileSync(f, 'utf8')) as BenchReport)) : await measure();
if (!renderFrom.length) {
  const python = tool('python3', ['--version'], /Python (\S+)/);
  const go = tool('go', ['version'], /go version go(\S+)/);
  if (python) report.versions['python'] = python;
  if (go) report.versions['go'] = go;
}
mkdirSync(results, { recursive: true });
if (!renderFrom.length) writeFileSync(join(results, `${stamp}.json`), JSON.stringify(report, null, 2) + '\n');
writeFileSync(join(results, 'latest.md'), markdown(report));
writeFileSync(join(results, 'latest.svg'), svgChart(report));
const pngProblem = toPng(join(results, 'latest.svg'), join(results, 'latest.png'));
if (pngProblem) console.error(pngProblem);
// With two sizes or more, the curve against N too.
const scale = scaleChart(report);
if (scale) {
  writeFileSync(join(results, 'latest-scale.svg'), scale);
  toPng(join(results, 'latest-scale.svg'), join(results, 'latest-scale.png'));
}
console.log(markdown(report));
console.error(`results: ${renderFrom.length ? '' : `bench/results/${stamp}.json, `}bench/results/latest.md, bench/results/latest.png`);
