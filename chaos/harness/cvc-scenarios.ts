/**
 * The fault scenarios on the CVC operator (operators/crypto/operator.ts): a control-plane
 * component killed, the operator killed, a hostile network, a 429 storm, and a leader paused past
 * its lease. Each judges by the harness's own watch (every value `amount × price`, to the cent,
 * at the end) and by the writes its proxy saw (applied vs. needed: one status write per value
 * that had to change: every digit of it, in `status.exactValue`).
 */
import { readFileSync } from 'node:fs';
import { bump, pricesOf } from '../../bench/harness/cluster.ts';
import { cvcName, cvcSpec, CvcTracker, GROUP_PATH } from '../../bench/harness/cvcs.ts';
import { readState, restart } from '../../src/cluster/plane.ts';
import { SAMPLE_PRICES } from '../../operators/crypto/price/server.ts';
import type { ApiProxy } from '../../test/support/api-proxy.ts';
import type { SupervisedOperator } from './operator.ts';
import { seconds, sleep, type Check, type Ctx, type Scenario } from './scenario.ts';
import { check, inSession, writesAnswered, writesTo, type Measured, type Session } from './session.ts';

const OPERATOR = 'operators/crypto/operator.ts';
const KIND = 'cryptovaluecalculators';

/** A CVC scenario's running parts. */
interface CvcRun {
  s: Session;
  operator: SupervisedOperator;
  proxy: ApiProxy;
  tracker: CvcTracker;
  prices: Map<string, string>;
  /** Creates CVCs `from` … `to − 1` (names and specs as the benchmark's). */
  create(from: number, to: number): Promise<void>;
}

/** Starts the operator and the tracker in a fresh namespace, prices back at the samples. */
async function cvcRun(s: Session, args: string[] = [], label?: string, refreshSeconds = s.ctx.sizes.refreshSeconds): Promise<CvcRun> {
  const { ctx } = s;
  const prices = pricesOf(ctx.prices, new Map(), { ...SAMPLE_PRICES });
  const tracker = new CvcTracker(ctx.api, s.namespace, prices);
  await tracker.start();
  s.defer(() => tracker.stop());
  const { operator, proxy } = await s.operator(OPERATOR, { env: operatorEnv(ctx, refreshSeconds), args, ...(label ? { label } : {}) });
  if (!(await operator.ready())) throw new Error(`the operator did not become ready; see ${operator.options.logFile}`);
  const create = async (from: number, to: number): Promise<void> => {
    const created = await ctx.api.createMany(`${GROUP_PATH}/namespaces/${s.namespace}/${KIND}`, to - from, 16, (i) => ({
      apiVersion: 'crypto.tools/v1',
      kind: 'CryptoValueCalculator',
      metadata: { name: cvcName(from + i) },
      spec: cvcSpec(from + i),
    }));
    if (created.failures) throw new Error(`${created.failures} creates failed`);
  };
  return { s, operator, proxy, tracker, prices, create };
}

function operatorEnv(ctx: Ctx, refreshSeconds = ctx.sizes.refreshSeconds): Record<string, string> {
  return { COINGECKO_BASE_URL: ctx.prices.baseUrl, CVC_REFRESH_SECONDS: String(refreshSeconds) };
}

/**
 * Status writes a price move of `coins` needs: one per CVC of a moved coin with an amount above
 * zero. Its `status.exactValue` (every digit) changes even where the rounded `status.value` does
 * not (0.001 Shiba Inu is $0.0000 before and after).
 */
function writesNeeded(run: CvcRun, coins: readonly string[]): number {
  let n = 0;
  for (const seen of run.tracker.objects.values()) if (coins.includes(seen.spec.coin) && seen.spec.amount !== 0) n++;
  return n;
}

/** New prices for every coin (each moves), so every CVC must be written; returns how many writes that needs. */
function movePrices(run: CvcRun, ctx: Ctx): number {
  const p = run.prices;
  pricesOf(ctx.prices, p, {
    bitcoin: bump(p.get('bitcoin') as string, '10'),
    ethereum: bump(p.get('ethereum') as string, '1.11'),
    dogecoin: bump(p.get('dogecoin') as string, '0.0036'),
    'shiba-inu': bump(p.get('shiba-inu') as string, '0.00000073'),
  });
  run.tracker.setPrices(p);
  return writesNeeded(run, ['bitcoin', 'ethereum', 'dogecoin', 'shiba-inu']);
}

/** Waits for every value to be right; the seconds it took from `from` (performance.now), or null. */
async function converge(run: CvcRun, n: number, from: number, ctx: Ctx): Promise<number | null> {
  const ok = await run.tracker.allCorrect(n, ctx.sizes.convergeTimeoutMs);
  const took = ok ? seconds(performance.now() - from) : null;
  for (const proxy of run.s.proxies) await writesAnswered(proxy);
  return took;
}

/** The common checks and columns of a CVC scenario from `since` (ms epoch). */
function judge(run: CvcRun, n: number, needed: number, since: number, convergeSeconds: number | null, proxy: ApiProxy = run.proxy): Pick<Measured, 'lost' | 'writes' | 'checks'> & { checks: Check[] } {
  const w = writesTo(proxy.requests, KIND, since);
  const extra = w.applied - needed;
  const lost = n - run.tracker.correct;
  return {
    lost,
    writes: { applied: w.applied, needed, extra, failedAttempts: w.failed },
    checks: [
      check('converged: every value right after the fault', convergeSeconds !== null, run.tracker.wrong()),
      check('0 lost or wrong values', lost === 0, run.tracker.wrong()),
      check('no applied write beyond the needed ones and the retries of failed attempts', extra <= w.failed, { applied: w.applied, needed, failedAttempts: w.failed }),
    ],
  };
}

/** Kills the current process of `component` (SIGKILL), waits `downMs`, starts it again with the plane's `restart`. */
async function killComponent(ctx: Ctx, component: 'kube-apiserver' | 'etcd', downMs: number, whileDown?: () => void): Promise<void> {
  const state = readState(ctx.planeDir);
  if (!state) throw new Error(`no plane in ${ctx.planeDir}`);
  process.kill(state.pids[component], 'SIGKILL');
  whileDown?.();
  await sleep(downMs);
  await restart(component, { dir: ctx.planeDir, log: () => {} });
}

const apiserverKill: Scenario = {
  name: 'apiserver-kill',
  title: 'kube-apiserver SIGKILLed in the middle of a CVC burst, started again after the outage',
  run: (ctx) =>
    inSession(ctx, 'apiserver-kill', apiserverKill.title, async (s) => {
      const n = ctx.sizes.cvcs;
      const run = await cvcRun(s);
      const rssBeforeMiB = run.operator.rssMiB();
      const since = Date.now();
      await run.create(0, Math.floor(n / 2));
      s.log(`${Math.floor(n / 2)} CVCs created; killing kube-apiserver for ${ctx.sizes.apiserverDownMs / 1000} s`);
      await killComponent(ctx, 'kube-apiserver', ctx.sizes.apiserverDownMs);
      const ended = performance.now();
      await run.create(Math.floor(n / 2), n);
      const convergeSeconds = await converge(run, n, ended, ctx);
      return {
        faults: [`kube-apiserver SIGKILLed after ${Math.floor(n / 2)} of ${n} creates, down ${seconds(ctx.sizes.apiserverDownMs)} s, restarted (plane restart)`],
        objects: n,
        convergeSeconds,
        rssBeforeMiB,
        ...judge(run, n, n, since, convergeSeconds),
      };
    }),
};

const etcdKill: Scenario = {
  name: 'etcd-kill',
  title: 'etcd SIGKILLed while prices move, started again after the outage',
  run: (ctx) =>
    inSession(ctx, 'etcd-kill', etcdKill.title, async (s) => {
      const n = ctx.sizes.cvcs;
      const run = await cvcRun(s);
      await run.create(0, n);
      if (!(await run.tracker.allCorrect(n, ctx.sizes.convergeTimeoutMs))) throw new Error('the CVCs were not valued before the fault');
      const rssBeforeMiB = run.operator.rssMiB();
      const since = Date.now();
      let needed = 0;
      await killComponent(ctx, 'etcd', ctx.sizes.etcdDownMs, () => (needed = movePrices(run, ctx)));
      const ended = performance.now();
      const convergeSeconds = await converge(run, n, ended, ctx);
      return {
        faults: [`etcd SIGKILLed, every coin's price changed at once, etcd down ${seconds(ctx.sizes.etcdDownMs)} s, restarted (plane restart)`],
        objects: n,
        convergeSeconds,
        rssBeforeMiB,
        ...judge(run, n, needed, since, convergeSeconds),
      };
    }),
};

const operatorKills: Scenario = {
  name: 'operator-kills',
  title: 'the operator SIGKILLed again and again during a CVC burst',
  run: (ctx) =>
    inSession(ctx, 'operator-kills', operatorKills.title, async (s) => {
      const n = ctx.sizes.burstCvcs;
      const kills = ctx.sizes.operatorKills;
      const run = await cvcRun(s);
      const rssBeforeMiB = run.operator.rssMiB();
      const since = Date.now();
      const creating = run.create(0, n);
      // Kills spread over the burst: the first while creates are still arriving.
      for (let k = 0; k < kills; k++) {
        await sleep(1_500 + ((k * 997) % 1_000));
        await run.operator.kill();
      }
      await creating;
      const ended = performance.now();
      const convergeSeconds = await converge(run, n, ended, ctx);
      const judged = judge(run, n, n, since, convergeSeconds);
      // Nothing changes now: a correct operator writes nothing, however often it was restarted.
      const quietFrom = Date.now();
      await sleep(ctx.sizes.quietMs);
      const quietWrites = writesTo(run.proxy.requests, KIND, quietFrom).all.length;
      judged.checks.push(check(`0 writes in a ${seconds(ctx.sizes.quietMs)} s quiet window after convergence`, quietWrites === 0, quietWrites));
      return {
        faults: [`${kills} operator SIGKILLs, 1.5–2.5 s apart, during the creation of ${n} CVCs (each restarted at once)`],
        objects: n,
        convergeSeconds,
        rssBeforeMiB,
        quietWrites,
        ...judged,
      };
    }),
};

const hostileNetwork: Scenario = {
  name: 'hostile-network',
  title: 'a hostile proxy between operator and API server: reset connections and added latency, then a stall',
  run: (ctx) =>
    inSession(ctx, 'hostile-network', hostileNetwork.title, async (s) => {
      const n = ctx.sizes.cvcs;
      const half = Math.floor(n / 2);
      const run = await cvcRun(s);
      const rssBeforeMiB = run.operator.rssMiB();
      const since = Date.now();
      // First the lossy, slow network while the operator values the first half.
      const faults = { resetShare: 0.1, latencyMs: 500 };
      run.proxy.setFaults(faults);
      const t0 = performance.now();
      await run.create(0, half);
      await sleep(ctx.sizes.hostileMs - (performance.now() - t0));
      run.proxy.setFaults({});
      const faulted = run.proxy.requests.filter((r) => r.at >= since && r.fault);
      const slowRequests = run.proxy.requests.filter((r) => r.at >= since).length;
      // Then the stall: no request gets an answer, open streams (with stallWatches) deliver nothing, ever.
      run.proxy.hold();
      const stalled = ctx.sizes.stallWatches ? run.proxy.stallOpenStreams() : 0;
      const t1 = performance.now();
      await run.create(half, n);
      await sleep(ctx.sizes.stallMs - (performance.now() - t1));
      run.proxy.release();
      const ended = performance.now();
      const convergeSeconds = await converge(run, n, ended, ctx);
      const judged = judge(run, n, n, since, convergeSeconds);
      return {
        faults: [
          `${seconds(ctx.sizes.hostileMs)} s of: ${faults.latencyMs} ms added to every request, ${faults.resetShare * 100} % reset (of ${slowRequests} requests, ${faulted.filter((r) => r.fault === 'reset-before').length} reset before reaching the API server, ${faulted.filter((r) => r.fault === 'reset-after').length} after it answered) while ${half} CVCs arrive`,
          `then a ${seconds(ctx.sizes.stallMs)} s stall: every new request held unanswered${ctx.sizes.stallWatches ? `, ${stalled} open watch streams frozen for good (connection open, no bytes)` : ''}, while ${n - half} more CVCs arrive`,
        ],
        objects: n,
        convergeSeconds,
        rssBeforeMiB,
        ...judged,
        extra: { requestsUnderFaults: slowRequests, resets: faulted.length },
      };
    }),
};

const throttleStorm: Scenario = {
  name: '429-storm',
  title: 'a 429 storm: a share of writes answered 429 with Retry-After',
  run: (ctx) =>
    inSession(ctx, '429-storm', throttleStorm.title, async (s) => {
      const n = ctx.sizes.cvcs;
      const run = await cvcRun(s);
      const rssBeforeMiB = run.operator.rssMiB();
      const since = Date.now();
      const storm = { share: 0.3, retryAfterSeconds: 1, writesOnly: true };
      run.proxy.setFaults({ throttle: storm });
      const t0 = performance.now();
      await run.create(0, n);
      await sleep(ctx.sizes.stormMs - (performance.now() - t0));
      run.proxy.setFaults({});
      const ended = performance.now();
      const convergeSeconds = await converge(run, n, ended, ctx);
      const judged = judge(run, n, n, since, convergeSeconds);
      const throttled = run.proxy.requests.filter((r) => r.at >= since && r.fault === 'throttled').length;
      const log = logLevels(run.operator.options.logFile);
      judged.checks.push(check('throttling is logged at warn, never at error', log.errors === 0, log));
      return {
        faults: [`${seconds(ctx.sizes.stormMs)} s in which ${storm.share * 100} % of writes got 429 with Retry-After: ${storm.retryAfterSeconds} (${throttled} throttled)`],
        objects: n,
        convergeSeconds,
        rssBeforeMiB,
        ...judged,
      };
    }),
};

/** Error and warning lines in a JSON log (pino levels). */
function logLevels(file: string): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level === undefined) continue;
    if (Number(level) >= 50) errors++;
    else if (Number(level) >= 40) warnings++;
  }
  return { errors, warnings };
}

/** The lease identity process `pid` campaigned with, from its log. */
function identityOf(logFile: string, pid: number): string | undefined {
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('campaigning for the lease') || !line.includes(`"pid":${pid},`)) continue;
    return /"identity":"([^"]+)"/.exec(line)?.[1];
  }
  return undefined;
}

const leaderPause: Scenario = {
  name: 'leader-pause',
  title: 'the leader SIGSTOPped past its lease with a second replica running, then SIGCONT',
  run: (ctx) =>
    inSession(ctx, 'leader-pause', leaderPause.title, async (s) => {
      const n = ctx.sizes.cvcs;
      const lease = ['--leader-elect', '--lease-name', 'cvc-chaos', '--lease-namespace', s.namespace];
      const a = await cvcRun(s, lease, 'a');
      const second = await s.operator(OPERATOR, { env: operatorEnv(ctx), args: lease, label: 'b' });
      if (!(await second.operator.ready())) throw new Error('replica b did not become ready');
      await a.create(0, n);
      if (!(await a.tracker.allCorrect(n, ctx.sizes.convergeTimeoutMs))) throw new Error('the CVCs were not valued before the fault');
      const holder = async (): Promise<string | undefined> =>
        (await ctx.api.json<{ spec?: { holderIdentity?: string } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${s.namespace}/leases/cvc-chaos`)).spec?.holderIdentity;
      const replicas = [
        { operator: a.operator, proxy: a.proxy },
        { operator: second.operator, proxy: second.proxy },
      ];
      const idOf = (r: (typeof replicas)[number]): string | undefined => identityOf(r.operator.options.logFile, r.operator.pid);
      const now = await holder();
      const leader = replicas.find((r) => idOf(r) === now);
      const standby = replicas.find((r) => r !== leader);
      if (!leader || !standby) throw new Error(`no replica holds the lease (holder ${now})`);
      const rssBeforeMiB = leader.operator.rssMiB();
      const standbyId = idOf(standby);
      const stoppedAt = Date.now();
      const t0 = performance.now();
      leader.operator.signal('SIGSTOP');
      const needed = movePrices(a, ctx);
      let takeoverSeconds: number | null = null;
      while (performance.now() - t0 < ctx.sizes.convergeTimeoutMs) {
        if ((await holder()) === standbyId) {
          takeoverSeconds = seconds(performance.now() - t0);
          break;
        }
        await sleep(250);
      }
      const valuedByStandby = await a.tracker.allCorrect(n, ctx.sizes.convergeTimeoutMs);
      await sleep(ctx.sizes.pauseMs - (performance.now() - t0));
      const pausedSeconds = seconds(performance.now() - t0);
      leader.operator.signal('SIGCONT');
      const ended = performance.now();
      const exit = await Promise.race([leader.operator.exited, sleep(30_000).then(() => 'still running')]);
      // Time for anything the woken process would still send.
      await sleep(3_000);
      const convergeSeconds = valuedByStandby ? await converge(a, n, ended, ctx) : null;
      const oldLeaderWrites = leader.proxy.requests.filter((r) => r.at >= stoppedAt && r.method !== 'GET' && !r.path.includes('/leases/'));
      const judged = judge(a, n, needed, stoppedAt, convergeSeconds, standby.proxy);
      judged.checks.push(
        check('the standby took the lease while the leader was stopped', takeoverSeconds !== null),
        check('the standby valued every CVC alone', valuedByStandby, a.tracker.wrong()),
        check('the old leader made no write after it was stopped (through its proxy, leases aside)', oldLeaderWrites.length === 0, oldLeaderWrites.slice(0, 5)),
        check('the woken leader stopped acting: it exited', exit !== 'still running', exit),
      );
      return {
        faults: [`leader SIGSTOPped ${pausedSeconds} s (lease 15 s) while every price changed, then SIGCONT; a second replica running`],
        objects: n,
        convergeSeconds,
        rssBeforeMiB,
        ...judged,
        extra: { takeoverSeconds, oldLeaderExit: exit, oldLeaderWritesAfterStop: oldLeaderWrites.length },
      };
    }),
};

const scale: Scenario = {
  name: 'scale',
  title: 'thousands of CVCs, then one coin of four moves: exactly the writes needed, and none when quiet',
  run: (ctx) =>
    inSession(ctx, 'scale', scale.title, async (s) => {
      const n = ctx.sizes.scaleCvcs;
      const run = await cvcRun(s, [], undefined, ctx.sizes.scaleRefreshSeconds);
      const rssBeforeMiB = run.operator.rssMiB();
      const since = Date.now();
      const t0 = performance.now();
      await run.create(0, n);
      const createdSeconds = seconds(performance.now() - t0);
      const valued = await run.tracker.allCorrect(n, ctx.sizes.convergeTimeoutMs);
      const valuedSeconds = valued ? seconds(performance.now() - t0) : null;
      await writesAnswered(run.proxy);
      const createWrites = writesTo(run.proxy.requests, KIND, since).applied;
      const quietFrom = Date.now();
      await sleep(ctx.sizes.quietMs);
      const quietWrites = writesTo(run.proxy.requests, KIND, quietFrom).all.length;
      // One coin of the four moves: a quarter of the values change, the rest must not be written.
      pricesOf(ctx.prices, run.prices, { bitcoin: bump(run.prices.get('bitcoin') as string, '10') });
      run.tracker.setPrices(run.prices);
      const needed = writesNeeded(run, ['bitcoin']);
      const movedAt = performance.now();
      const moveFrom = Date.now();
      const convergeSeconds = await converge(run, n, movedAt, ctx);
      // Time for a write beyond the needed ones to show: one more refresh.
      await sleep(ctx.sizes.scaleRefreshSeconds * 1_000);
      const judged = judge(run, n, needed, moveFrom, convergeSeconds);
      const moveWrites = writesTo(run.proxy.requests, KIND, moveFrom);
      judged.checks.push(
        check(`every new CVC valued: ${n} creates, exactly ${n} status writes`, valued && createWrites === n, { valued, createWrites }),
        check(`0 writes in a ${seconds(ctx.sizes.quietMs)} s quiet window after the burst`, quietWrites === 0, quietWrites),
        check(`the price move: exactly one write per CVC whose value changed (${needed} of ${n})`, moveWrites.applied === needed && moveWrites.all.length === needed, { applied: moveWrites.applied, attempts: moveWrites.all.length, needed }),
      );
      return {
        faults: [`none (load): ${n} CVCs created (${createdSeconds} s), all valued ${valuedSeconds ?? 'never'} s after the first create; then bitcoin moves, ${needed} values change`],
        objects: n,
        convergeSeconds,
        rssBeforeMiB,
        quietWrites,
        ...judged,
        extra: { createdSeconds, valuedSeconds, createWrites, moveWrites: moveWrites.applied, neededOnMove: needed },
      };
    }),
};

/** Scenarios that kill a component of the plane: never on a shared one. */
export const CONTROL_PLANE_FAULTS: readonly string[] = ['apiserver-kill', 'etcd-kill'];

export const CVC_SCENARIOS: readonly Scenario[] = [operatorKills, hostileNetwork, throttleStorm, scale, leaderPause, apiserverKill, etcdKill];
