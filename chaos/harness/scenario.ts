/**
 * What every fault scenario gets (the plane, the harness's API line, the price stand-in, the
 * sizes) and what it reports. A scenario judges itself with {@link Check}s: statements about
 * what the API server stored (values right, one Pod per Printer, no write after losing the lease)
 * that must all hold. Times and counts beside them are measurements, never judged.
 */
import type { AdminApi } from '../../bench/harness/api.ts';
import type { PlaneState } from '../../src/cluster/plane.ts';
import type { CoinGeckoServer } from '../../operators/crypto/price/server.ts';
import type { LogSummary } from './operator.ts';

/** How big and how long: the full suite, or the small one CI runs. */
export interface Sizes {
  /** CVCs in the control-plane, network, 429 and leader scenarios. */
  cvcs: number;
  /** CVCs in the operator-kill burst. */
  burstCvcs: number;
  /** Operator SIGKILLs during the CVC burst. */
  operatorKills: number;
  /** Printers in the printer scenario. */
  printers: number;
  /** Printers deleted at random in the printer scenario. */
  printersDeleted: number;
  /** Operator SIGKILLs in the printer scenario. */
  printerKills: number;
  /** CVCs in the scale scenario (a quarter of them change value on the price move). */
  scaleCvcs: number;
  /** The operators' CVC_REFRESH_SECONDS. */
  refreshSeconds: number;
  /** CVC_REFRESH_SECONDS in the scale scenario (every CVC's timer fires once per refresh). */
  scaleRefreshSeconds: number;
  /** How long the API server stays down. */
  apiserverDownMs: number;
  /** How long etcd stays down. */
  etcdDownMs: number;
  /** Watched for writes after convergence, with nothing changing. */
  quietMs: number;
  /** How long the hostile proxy holds every new request (and, with `stallWatches`, freezes the open streams). */
  stallMs: number;
  /** Whether the stall also freezes the open watch streams (recovery takes the watch idle timeout, 90 s). */
  stallWatches: boolean;
  /** After the stall: how long the proxy resets a share of connections and delays every request. */
  hostileMs: number;
  /** How long the 429 storm lasts. */
  stormMs: number;
  /** How long the leader stays stopped (must exceed the lease duration, 15 s). */
  pauseMs: number;
  /** Webhook server SIGKILLs during a create burst. */
  webhookKills: number;
  /** Longest wait for convergence after a fault ends. */
  convergeTimeoutMs: number;
}

export interface Ctx {
  repo: string;
  plane: PlaneState;
  planeDir: string;
  api: AdminApi;
  prices: CoinGeckoServer;
  sizes: Sizes;
  logDir: string;
  /** Appended to every scenario's namespace (a random one on a shared plane, so runs never meet). */
  namespaceSuffix: string;
  log: (line: string) => void;
}

/** One statement a scenario proves; all must hold for it to pass. */
export interface Check {
  what: string;
  ok: boolean;
  /** What was seen, when it did not hold (or for context). */
  detail?: string;
}

export interface ScenarioResult {
  name: string;
  title: string;
  status: 'ok' | 'failed';
  /** Why the scenario could not run to its end (a harness error), when it could not. */
  reason?: string;
  /** Faults injected, in words, with their counts and durations. */
  faults: string[];
  objects: number;
  /** Fault ended → everything right again, seconds (null when it never converged). */
  convergeSeconds: number | null;
  /** Values or objects not right at the end: must be 0. */
  lost: number;
  /** Writes the API server applied, and the least a correct operator needs. */
  writes?: { applied: number; needed: number; extra: number; failedAttempts: number; note?: string };
  /** Printers with more than one Pod ever. */
  duplicatePods?: number;
  /** Writes in the quiet window after convergence. */
  quietWrites?: number;
  log: LogSummary;
  /** Warning Events in the scenario's namespace, by reason. */
  warningEvents: Record<string, number>;
  restarts: number;
  /** Exits the operator made by itself (code or signal). */
  exits: string[];
  rssBeforeMiB: number | null;
  rssAfterMiB: number | null;
  checks: Check[];
  seconds: number;
  /** Scenario-specific measurements. */
  extra?: Record<string, unknown>;
  logFile?: string;
}

/** A scenario of the suite. */
export interface Scenario {
  name: string;
  title: string;
  run(ctx: Ctx): Promise<ScenarioResult>;
}

/** Warning Events in `namespace`, counted by reason (core/v1 Events, each counted with its `count`). */
export async function warningEvents(api: AdminApi, namespace: string): Promise<Record<string, number>> {
  const list = await api.json<{ items: Array<{ reason?: string; count?: number; series?: { count?: number } }> }>('GET', `/api/v1/namespaces/${namespace}/events?fieldSelector=type%3DWarning`);
  const out: Record<string, number> = {};
  for (const e of list.items) out[e.reason ?? '?'] = (out[e.reason ?? '?'] ?? 0) + (e.series?.count ?? e.count ?? 1);
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export const seconds = (ms: number): number => Math.round(ms / 100) / 10;
