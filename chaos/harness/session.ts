/**
 * One scenario's surroundings: a namespace of its own, a recording proxy per operator process
 * (the operator reaches the API server only through it, so every write it makes is counted by
 * process and by answer, even across an API server restart that resets the server's own
 * counters), the harness's own watch of the objects, and the clean-up afterwards whatever happened.
 *
 * The result's common columns (log lines, Warning Events, restarts, memory, pass or fail from the
 * checks) are filled here, so a scenario only measures its own fault.
 */
import { join } from 'node:path';
import { cleanUpAfter, createNamespace, serviceAccountReady } from '../../bench/harness/cluster.ts';
import { GROUP_PATH } from '../../bench/harness/cvcs.ts';
import { PRINTER_GROUP_PATH } from '../../bench/harness/printers.ts';
import { startApiProxy, type ApiProxy, type ProxiedRequest } from '../../test/support/api-proxy.ts';
import { kubeconfigVia, logSummary, SupervisedOperator, type OperatorOptions } from './operator.ts';
import { warningEvents, type Ctx, type ScenarioResult } from './scenario.ts';

/** What a scenario measures itself; the rest of {@link ScenarioResult} is filled by {@link inSession}. */
export type Measured = Pick<ScenarioResult, 'faults' | 'objects' | 'convergeSeconds' | 'lost' | 'checks'> &
  Partial<Pick<ScenarioResult, 'writes' | 'duplicatePods' | 'quietWrites' | 'extra' | 'rssBeforeMiB'>>;

export class Session {
  readonly ctx: Ctx;
  readonly namespace: string;
  readonly operators: SupervisedOperator[] = [];
  readonly proxies: ApiProxy[] = [];
  /** Run after the body, before the operators stop (cluster-wide objects a scenario made). */
  readonly #deferred: Array<() => Promise<void>> = [];

  constructor(ctx: Ctx, namespace: string) {
    this.ctx = ctx;
    this.namespace = namespace;
  }

  /** Starts `file` as an operator of this namespace behind a proxy of its own. */
  async operator(file: string, options: Pick<OperatorOptions, 'env' | 'args'> & { label?: string } = {}): Promise<{ operator: SupervisedOperator; proxy: ApiProxy }> {
    const { ctx } = this;
    const label = options.label ?? String(this.operators.length);
    const proxy = await startApiProxy(ctx.plane);
    this.proxies.push(proxy);
    const kubeconfig = kubeconfigVia(ctx.plane.kubeconfig, proxy.url, join(ctx.logDir, `${this.namespace}-${label}.kubeconfig`));
    const operator = new SupervisedOperator({
      repo: ctx.repo,
      file,
      namespace: this.namespace,
      kubeconfig,
      ...(options.env ? { env: options.env } : {}),
      ...(options.args ? { args: options.args } : {}),
      logFile: join(ctx.logDir, `${this.namespace}-${label}.log`),
      log: (line) => ctx.log(`  ${this.namespace}: ${line}`),
    });
    this.operators.push(operator);
    return { operator, proxy };
  }

  /** Runs `fn` once the scenario's body is done, whatever happened, before the operators stop. */
  defer(fn: () => Promise<void>): void {
    this.#deferred.push(fn);
  }

  /** Runs the deferred clean-ups, newest first; a failing one is logged, the rest still run. */
  async runDeferred(): Promise<void> {
    for (const fn of this.#deferred.splice(0).reverse()) {
      await fn().catch((err: unknown) => this.log(`clean-up failed: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  log(line: string): void {
    this.ctx.log(`  ${this.namespace}: ${line}`);
  }
}

/**
 * Runs `body` in a fresh namespace named after the scenario, and reports. A harness error (not a
 * fault the operator failed to survive) makes a failed row with the reason.
 */
export async function inSession(ctx: Ctx, name: string, title: string, body: (s: Session) => Promise<Measured>): Promise<ScenarioResult> {
  const namespace = `chaos-${name}${ctx.namespaceSuffix}`;
  const session = new Session(ctx, namespace);
  const t0 = performance.now();
  ctx.log(`${name}: ${title}`);
  await createNamespace(ctx.api, namespace);
  let measured: Measured | undefined;
  let reason: string | undefined;
  let rssAfter: number | null = null;
  try {
    await serviceAccountReady(ctx.api, namespace);
    measured = await body(session);
    rssAfter = session.operators[0]?.rssMiB() ?? null;
  } catch (err) {
    reason = err instanceof Error ? (err.stack ?? err.message) : String(err);
    ctx.log(`${name}: failed: ${reason}`);
  }
  await session.runDeferred();
  const events = await warningEvents(ctx.api, namespace).catch(() => ({}));
  for (const op of session.operators) await op.stop();
  for (const proxy of session.proxies) await proxy.close();
  await cleanUpAfter(ctx.api, namespace, ctx.log, [
    `${GROUP_PATH}/namespaces/${namespace}/cryptovaluecalculators`,
    `${PRINTER_GROUP_PATH}/namespaces/${namespace}/printers`,
    `/api/v1/namespaces/${namespace}/pods`,
  ]);
  const logs = session.operators.map((op) => logSummary(op.options.logFile));
  const result: ScenarioResult = {
    name,
    title,
    status: reason === undefined && measured !== undefined && measured.checks.every((c) => c.ok) ? 'ok' : 'failed',
    ...(reason !== undefined ? { reason: reason.split('\n').slice(0, 4).join(' | ') } : {}),
    faults: measured?.faults ?? [],
    objects: measured?.objects ?? 0,
    convergeSeconds: measured?.convergeSeconds ?? null,
    lost: measured?.lost ?? 0,
    ...(measured?.writes ? { writes: measured.writes } : {}),
    ...(measured?.duplicatePods !== undefined ? { duplicatePods: measured.duplicatePods } : {}),
    ...(measured?.quietWrites !== undefined ? { quietWrites: measured.quietWrites } : {}),
    log: {
      warnings: logs.reduce((a, l) => a + l.warnings, 0),
      errors: logs.reduce((a, l) => a + l.errors, 0),
      top: logs.flatMap((l) => l.top),
    },
    warningEvents: events,
    restarts: session.operators.reduce((a, op) => a + op.restarts, 0),
    exits: session.operators.flatMap((op) => op.exits),
    rssBeforeMiB: measured?.rssBeforeMiB ?? null,
    rssAfterMiB: rssAfter,
    checks: measured?.checks ?? [],
    seconds: Math.round((performance.now() - t0) / 1000),
    ...(measured?.extra ? { extra: measured.extra } : {}),
    ...(session.operators[0] ? { logFile: session.operators[0].options.logFile } : {}),
  };
  ctx.log(`${name}: ${result.status}${result.checks.filter((c) => !c.ok).map((c) => `; NOT ${c.what} (${c.detail ?? ''})`).join('')}`);
  return result;
}

/** Writes to `kind` (a plural, e.g. `cryptovaluecalculators`) among `requests`, from `since` (ms epoch). */
export function writesTo(requests: readonly ProxiedRequest[], kind: string, since = 0): { applied: number; failed: number; resetAfter: number; all: ProxiedRequest[] } {
  const all = requests.filter((r) => r.at >= since && r.method !== 'GET' && new RegExp(`/${kind}(/|\\?|$)`).test(r.path));
  const applied = all.filter((r) => r.status >= 200 && r.status < 300).length;
  return { applied, failed: all.length - applied + all.filter((r) => r.fault === 'reset-after' && r.status < 300 && r.status >= 200).length, resetAfter: all.filter((r) => r.fault === 'reset-after').length, all };
}

/**
 * Waits (at most `timeoutMs`) until every write the proxy forwarded has its answer recorded: the
 * harness's watch can show a write's result before the proxy has read the API server's response,
 * and a write judged then would count as failed instead of applied.
 */
export async function writesAnswered(proxy: ApiProxy, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && proxy.requests.some((r) => r.method !== 'GET' && r.status === 0 && r.fault !== 'reset-before' && r.at > Date.now() - 30_000)) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A check: `ok`, with what was seen. */
export function check(what: string, ok: boolean, detail?: unknown): { what: string; ok: boolean; detail?: string } {
  return { what, ok, ...(detail !== undefined ? { detail: typeof detail === 'string' ? detail : JSON.stringify(detail) } : {}) };
}
