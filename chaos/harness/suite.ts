/**
 * The standing fault suite: one control plane of its own (faults kill its components, so never a
 * shared one), the CVC and Printer CRDs, the local CoinGecko stand-in, and each scenario in turn,
 * each in a namespace of its own that is emptied and removed before the next starts.
 *
 * Guarantees:
 * - Every verdict comes from outside the operator: the harness's own watches for values and Pods,
 *   the recording proxy for writes, the API server for Leases and Events, /proc for memory.
 * - A scenario that throws is a failed row with the reason; the suite goes on with the next.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdminApi } from '../../bench/harness/api.ts';
import { applyCrd, machine, type Machine } from '../../bench/harness/cluster.ts';
import { PRINTER_CRD_FILE, PRINTER_GROUP_PATH } from '../../bench/harness/printers.ts';
import { up, type PlaneState } from '../../src/cluster/plane.ts';
import { badInput } from './bad-input.ts';
import { CoinGeckoServer } from '../../operators/crypto/price/server.ts';
import { CONTROL_PLANE_FAULTS, CVC_SCENARIOS } from './cvc-scenarios.ts';
import { printerKills } from './printer-scenario.ts';
import type { Scenario, ScenarioResult, Sizes } from './scenario.ts';
import { WEBHOOK_SCENARIOS } from './webhook-scenarios.ts';

/**
 * Every scenario, in the order the suite runs them: operator-side faults first, then the ones that
 * kill control-plane components, then the webhook ones (their configuration is cluster-wide, so
 * nothing else runs while it exists).
 */
export const SCENARIOS: readonly Scenario[] = [
  ...CVC_SCENARIOS.filter((s) => !CONTROL_PLANE_FAULTS.includes(s.name)),
  printerKills,
  badInput,
  ...CVC_SCENARIOS.filter((s) => CONTROL_PLANE_FAULTS.includes(s.name)),
  ...WEBHOOK_SCENARIOS,
];

/** The full suite's sizes: hundreds of objects and the outages the issue names. */
export const FULL: Sizes = {
  cvcs: 300,
  burstCvcs: 500,
  operatorKills: 20,
  printers: 100,
  printersDeleted: 30,
  printerKills: 10,
  scaleCvcs: 5_000,
  refreshSeconds: 5,
  scaleRefreshSeconds: 20,
  apiserverDownMs: 20_000,
  etcdDownMs: 15_000,
  quietMs: 20_000,
  stallMs: 60_000,
  stallWatches: true,
  hostileMs: 20_000,
  stormMs: 20_000,
  pauseMs: 25_000,
  webhookKills: 5,
  convergeTimeoutMs: 240_000,
};

/** The small suite CI runs: tens of objects, short outages, no frozen watches (their recovery waits out the 90 s idle timeout). */
export const SMALL: Sizes = {
  cvcs: 20,
  burstCvcs: 20,
  operatorKills: 3,
  printers: 12,
  printersDeleted: 3,
  printerKills: 3,
  scaleCvcs: 40,
  refreshSeconds: 3,
  scaleRefreshSeconds: 3,
  apiserverDownMs: 5_000,
  etcdDownMs: 4_000,
  quietMs: 6_000,
  stallMs: 4_000,
  stallWatches: false,
  hostileMs: 5_000,
  stormMs: 6_000,
  pauseMs: 20_000,
  webhookKills: 2,
  convergeTimeoutMs: 120_000,
};

export interface SuiteOptions {
  repo: string;
  sizes: Sizes;
  /** Names of the scenarios to run (all when empty). */
  scenarios: readonly string[];
  planeDir: string;
  /**
   * A running plane to use instead of starting one in `planeDir` (a shared test plane: then only
   * scenarios that leave its components alone may run).
   */
  plane?: PlaneState;
  /** Appended to every scenario's namespace. Default: none. */
  namespaceSuffix?: string;
  logDir: string;
  log: (line: string) => void;
}

export interface SuiteReport {
  startedAt: string;
  finishedAt: string;
  small: boolean;
  machine: Machine;
  versions: Record<string, string>;
  sizes: Sizes;
  results: ScenarioResult[];
}

/** The scenarios named in `names` (all when empty); unknown names throw with the known ones. */
export function selectScenarios(names: readonly string[]): Scenario[] {
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return SCENARIOS.filter((s) => names.length === 0 || names.includes(s.name));
}

/** Runs the selected scenarios on a plane of the suite's own (started if needed; stopping it is the caller's). */
export async function runSuite(options: SuiteOptions): Promise<SuiteReport> {
  const startedAt = new Date().toISOString();
  const scenarios = selectScenarios(options.scenarios);
  mkdirSync(options.logDir, { recursive: true });
  process.env.OPERON_REAL_NODE ??= '0'; // kwok's simulated Node runs the Printers' Pods
  const plane = options.plane ?? (await up({ dir: options.planeDir, log: options.log }));
  const api = new AdminApi(plane);
  const prices = await CoinGeckoServer.start();
  try {
    await applyCrd(api, options.repo, 'operators/crypto/crd.yaml');
    await applyCrd(api, options.repo, PRINTER_CRD_FILE, `${PRINTER_GROUP_PATH}/printers?limit=1`);
    const version = await api.json<{ gitVersion: string }>('GET', '/version');
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      const ctx = { repo: options.repo, plane, planeDir: options.planeDir, api, prices, sizes: options.sizes, logDir: options.logDir, namespaceSuffix: options.namespaceSuffix ?? '', log: options.log };
      results.push(await scenario.run(ctx));
    }
    return {
      startedAt,
      finishedAt: new Date().toISOString(),
      small: options.sizes === SMALL,
      machine: machine(),
      versions: { operon: packageVersion(options.repo), 'kube-apiserver': version.gitVersion, etcd: etcdVersion(plane.binDir), node: process.version },
      sizes: options.sizes,
      results,
    };
  } finally {
    await prices.close();
    api.close();
  }
}

function packageVersion(repo: string): string {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return commit ? `${pkg.version} (${commit})` : pkg.version;
}

function etcdVersion(binDir: string): string {
  try {
    return /etcd Version: (\S+)/.exec(execFileSync(join(binDir, 'etcd'), ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
