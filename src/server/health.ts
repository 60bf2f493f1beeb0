/**
 * The operator's HTTP endpoint for probes and scrapes: `/healthz` (liveness), `/readyz`
 * (readiness) and `/metrics` (Prometheus), on `node:http`. controller-runtime's endpoints and
 * text format (`[+]name ok` / `[-]name failed: …`), with kopf's lesson (kopf#1077) taken: liveness
 * fails when a watch is dead, not only when the process is.
 *
 * Guarantees:
 * - `/healthz` answers 200 `ok` when every health check passes, else 503 with one line per check
 *   naming each failing one with its message (for a watch: its phase and last error). `/readyz`
 *   does the same with the ready checks. No checks means 200 (controller-runtime's `healthz.Ping`).
 *   `?verbose` lists every check on success too; `?exclude=<name>` (repeatable) skips checks;
 *   `/healthz/<name>` runs one check.
 * - **Checks cannot hang a probe.** They run concurrently, and one that has not answered in
 *   {@link defaults}.server.checkTimeoutMs (below the kubelet's 1 s probe timeout) fails with a
 *   message saying so. A check that throws fails with the error's message.
 * - A check's transition between passing and failing is logged once, not on every probe.
 * - `/metrics` is served only when a metrics source is given; anything else is 404, methods other
 *   than GET and HEAD are 405. The server never throws into the operator: a failing scrape is a 500.
 * - {@link HealthServer.stop} closes idle keep-alive connections, so it does not wait for a
 *   Prometheus or kubelet connection to time out.
 *
 * The default address listens on every interface ({@link defaults}.server.bindAddress): the
 * kubelet probes the pod IP. Pass `127.0.0.1:<port>` to keep it local when running outside a pod.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../base/clock.ts';
import { silentLogger, type Logger } from '../base/logger.ts';
import { defaults } from '../defaults.ts';
import type { ReflectorStatus } from '../watch/reflector.ts';
import type { Exposition } from './metrics.ts';

// node:http through getBuiltinModule, not an ES import, which would load http2 and undici too
// (see src/client/transport.ts).
const { createServer } = process.getBuiltinModule('node:http');

/** What a check reports. `message` explains a failure (and may describe a success). */
export interface CheckResult {
  /** True when the check passes. */
  ok: boolean;
  /** Why it fails (or a note when it passes). */
  message?: string;
}

/** A health or readiness check: sync or async, returning a result or a plain boolean. */
export type HealthCheck = () => CheckResult | boolean | Promise<CheckResult | boolean>;

/** The outcome of one check in one probe. */
export interface CheckReport {
  name: string;
  ok: boolean;
  message: string;
}

/** Anything that can answer a scrape; {@link Metrics} does. */
export interface MetricsSource {
  exposition(): Promise<Exposition>;
}

/** Options of a {@link HealthServer}. */
export interface HealthServerOptions {
  /** `host:port`; an empty host means every interface, port 0 a free port. Default {@link defaults}.server.bindAddress. */
  bindAddress?: string;
  /** Default {@link defaults}.server.checkTimeoutMs. */
  checkTimeoutMs?: number;
  /** Serves `/metrics` when given. */
  metrics?: MetricsSource;
  /**
   * Serves `/healthz` and `/readyz`; default true. False makes a metrics-only server, for
   * controller-runtime's layout of probes (`:8081`) and metrics (`:8080`) on separate ports.
   */
  probes?: boolean;
  /**
   * Another path that answers as `/healthz` does, for kopf's `--liveness=http://0.0.0.0:8080/alive`
   * (its probe path is whatever the URL says). Default: none.
   */
  livenessPath?: string;
  logger?: Logger;
  clock?: Clock;
}

/**
 * Splits a `host:port` bind address. An empty host (`:8081`) means every interface; IPv6 hosts
 * are written in brackets (`[::1]:8081`).
 *
 * @example
 * ```ts
 * parseBindAddress(':8081');          // { host: undefined, port: 8081 }
 * parseBindAddress('127.0.0.1:0');    // { host: '127.0.0.1', port: 0 }
 * parseBindAddress('[::1]:9090');     // { host: '::1', port: 9090 }
 * ```
 */
export function parseBindAddress(address: string): { host: string | undefined; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(address.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw new TypeError(`bind address ${JSON.stringify(address)} is not host:port; write it as ":8081", "127.0.0.1:8081" or "[::1]:8081"`);
  }
  const host = match[1] ?? match[2];
  return { host: host ? host : undefined, port };
}

type Kind = 'healthz' | 'readyz';

/**
 * Serves `/healthz`, `/readyz` and `/metrics`. Register checks, then `start`.
 *
 * @example
 * ```ts
 * const server = new HealthServer({ bindAddress: ':8081', metrics, logger });
 * server.addHealthCheck('watch-printers', reflectorCheck(reflector));
 * server.addReadyCheck('cache-printers', readyWhen(reflector.store.ready, 'the first list of printers'));
 * const { url } = await server.start();
 * // … on shutdown:
 * await server.stop();
 * ```
 */
export class HealthServer {
  readonly #checks: Record<Kind, Map<string, HealthCheck>> = { healthz: new Map(), readyz: new Map() };
  readonly #lastOk = new Map<string, boolean>();
  readonly #bindAddress: string;
  readonly #timeoutMs: number;
  readonly #metrics: MetricsSource | undefined;
  readonly #probes: boolean;
  readonly #livenessPath: string | undefined;
  readonly #logger: Logger;
  readonly #clock: Clock;
  #server: Server | undefined;

  constructor(options: HealthServerOptions = {}) {
    this.#bindAddress = options.bindAddress ?? defaults.server.bindAddress;
    parseBindAddress(this.#bindAddress);
    this.#timeoutMs = options.checkTimeoutMs ?? defaults.server.checkTimeoutMs;
    this.#metrics = options.metrics;
    this.#probes = options.probes ?? true;
    this.#livenessPath = options.livenessPath === '/healthz' ? undefined : options.livenessPath;
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Adds a liveness check: when it fails, `/healthz` answers 503 and the kubelet restarts the pod.
   * Only for failures a restart cures (a dead watch, a lost lease), never for a dependency that is
   * down for everyone.
   *
   * @example
   * ```ts
   * server.addHealthCheck('watch-printers', reflectorCheck(reflector));
   * ```
   */
  addHealthCheck(name: string, check: HealthCheck): this {
    return this.#add('healthz', name, check);
  }

  /**
   * Adds a readiness check: `/readyz` answers 503 until it passes.
   *
   * @example
   * ```ts
   * server.addReadyCheck('caches', readyWhen(reflector.store.ready, 'the initial list'));
   * ```
   */
  addReadyCheck(name: string, check: HealthCheck): this {
    return this.#add('readyz', name, check);
  }

  /**
   * Runs the checks of one endpoint, as a probe would, concurrently and with the timeout.
   *
   * @example
   * ```ts
   * const failing = (await server.runChecks('healthz')).filter((r) => !r.ok);
   * ```
   */
  async runChecks(kind: Kind, options: { only?: string; exclude?: readonly string[] } = {}): Promise<CheckReport[]> {
    const selected = [...this.#checks[kind]].filter(([name]) => (options.only === undefined || name === options.only) && !options.exclude?.includes(name));
    const reports = await Promise.all(selected.map(([name, check]) => this.#run(name, check)));
    for (const report of reports) {
      const key = `${kind}/${report.name}`;
      const before = this.#lastOk.get(key);
      this.#lastOk.set(key, report.ok);
      if (before === report.ok || (before === undefined && report.ok)) continue;
      if (report.ok) this.#logger.info({ check: report.name, probe: kind }, `${kind} check ${report.name} passes again`);
      else this.#logger.warn({ check: report.name, probe: kind, reason: report.message }, `${kind} check ${report.name} fails: ${report.message}`);
    }
    return reports;
  }

  /**
   * Starts listening; resolves with the bound address (useful with port 0).
   *
   * @example
   * ```ts
   * const { port } = await new HealthServer({ bindAddress: '127.0.0.1:0' }).start();
   * ```
   */
  async start(): Promise<{
    /** The address it listens on. */
    host: string;
    /** The port it listens on (the one the OS chose for port 0). */
    port: number;
    /** `http://host:port`. */
    url: string;
  }> {
    if (this.#server) throw new Error('the health server is already started');
    const { host, port } = parseBindAddress(this.#bindAddress);
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        this.#logger.error({ err }, 'health server request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('internal error\n');
      });
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      this.#server = undefined;
      throw err;
    });
    server.on('error', (err) => this.#logger.error({ err }, 'health server error'));
    const address = server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${shown}:${address.port}`;
    this.#logger.info({ url }, `serving ${this.#paths().join(', ')}`);
    return { host: address.address, port: address.port, url };
  }

  /**
   * Stops listening and closes connections; resolves when the server is closed.
   *
   * @example
   * ```ts
   * await server.stop();
   * ```
   */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  #add(kind: Kind, name: string, check: HealthCheck): this {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new TypeError(`check name ${JSON.stringify(name)} must be letters, digits, '.', '_' or '-' (it is a URL path segment)`);
    }
    if (this.#checks[kind].has(name)) throw new TypeError(`a ${kind} check named ${name} is already registered`);
    this.#checks[kind].set(name, check);
    return this;
  }

  async #run(name: string, check: HealthCheck): Promise<CheckReport> {
    let cancel: (() => void) | undefined;
    const timeout = new Promise<CheckReport>((resolve) => {
      cancel = this.#clock.setTimer(this.#timeoutMs, () => resolve({ name, ok: false, message: `no answer within ${this.#timeoutMs} ms` }));
    });
    const run = (async (): Promise<CheckReport> => {
      try {
        const result = await check();
        if (typeof result === 'boolean') return { name, ok: result, message: result ? 'ok' : 'failed' };
        return { name, ok: result.ok === true, message: result.message ?? (result.ok ? 'ok' : 'failed') };
      } catch (err) {
        return { name, ok: false, message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
      }
    })();
    try {
      return await Promise.race([run, timeout]);
    } finally {
      cancel?.();
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://probe');
    const path = this.#livenessPath !== undefined && url.pathname === this.#livenessPath ? '/healthz' : url.pathname;
    const [, first, second, ...rest] = path.split('/');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    if (first === 'metrics' && second === undefined && this.#metrics) {
      const { contentType, body } = await this.#metrics.exposition();
      send(res, 200, contentType, body);
      return;
    }
    if (this.#probes && (first === 'healthz' || first === 'readyz') && rest.length === 0 && (second === undefined || second.length > 0)) {
      if (second !== undefined && !this.#checks[first].has(second)) {
        send(res, 404, 'text/plain; charset=utf-8', `no ${first} check named ${second}\n`);
        return;
      }
      const reports = await this.runChecks(first, { ...(second !== undefined ? { only: second } : {}), exclude: url.searchParams.getAll('exclude') });
      const ok = reports.every((r) => r.ok);
      const verbose = url.searchParams.has('verbose');
      let body: string;
      if (ok && !verbose) body = 'ok\n';
      else {
        const lines = reports.map((r) => (r.ok ? `[+]${r.name} ok` : `[-]${r.name} failed: ${oneLine(r.message)}`));
        body = `${lines.join('\n')}${lines.length ? '\n' : ''}${first} check ${ok ? 'passed' : 'failed'}\n`;
      }
      send(res, ok ? 200 : 503, 'text/plain; charset=utf-8', body);
      return;
    }
    send(res, 404, 'text/plain; charset=utf-8', `not found; try ${this.#paths().join(' or ')}\n`);
  }

  #paths(): string[] {
    return [...(this.#probes ? ['/healthz', '/readyz', ...(this.#livenessPath ? [this.#livenessPath] : [])] : []), ...(this.#metrics ? ['/metrics'] : [])];
  }
}

/**
 * A health check that fails when any watch of a reflector is unhealthy, naming the watch, its
 * phase and its last error. A `Reflector` fits.
 *
 * @example
 * ```ts
 * server.addHealthCheck('watch-printers', reflectorCheck(reflector));
 * // 503: [-]watch-printers failed: printers in ns-a: backing-off, last error Forbidden: printers is forbidden …
 * ```
 */
export function reflectorCheck(reflector: { status(): ReflectorStatus }, label = 'watch'): HealthCheck {
  return () => {
    const status = reflector.status();
    if (status.healthy) return { ok: true, message: `${status.watches.length} ${label}(es) healthy` };
    const failing = status.watches
      .filter((w) => !w.healthy)
      .map((w) => {
        const where = w.namespace ? `${label} in ${w.namespace}` : label;
        const error = w.lastError ? `, last error ${w.lastError.kind}: ${w.lastError.message}` : '';
        return `${where}: ${w.phase}${error}`;
      });
    return { ok: false, message: failing.join('; ') };
  };
}

/**
 * A check that passes once `promise` resolves (a cache's first list, a lease acquired) and fails
 * with the rejection's message if it rejects.
 *
 * @example
 * ```ts
 * server.addReadyCheck('cache-printers', readyWhen(reflector.store.ready, 'the first list of printers'));
 * ```
 */
export function readyWhen(promise: Promise<unknown>, waitingFor: string): HealthCheck {
  let state: CheckResult = { ok: false, message: `waiting for ${waitingFor}` };
  promise.then(
    () => (state = { ok: true, message: `${waitingFor} done` }),
    (err: unknown) => (state = { ok: false, message: `${waitingFor} failed: ${err instanceof Error ? err.message : String(err)}` }),
  );
  return () => state;
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
