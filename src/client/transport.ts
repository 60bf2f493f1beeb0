/**
 * HTTP to one API server. Two ways in: {@link Transport.request} buffers a response,
 * {@link Transport.stream} yields it line by line for watches. Buffered requests go over Operon's
 * own HTTP/1.1 connection pool (`http1.ts`), which costs about half the CPU per request of Node's
 * `http.request` (docs/performance.md, "A lean HTTP/1.1 client"); watches, and everything through a
 * proxy, over Node's `node:https`/`node:http` with one keep-alive Agent per cluster (no fetch, no
 * undici: the lightest of those measured).
 *
 * Guarantees:
 * - Sockets are reused across requests and across watch reconnects; `close()` destroys them all. A
 *   pooled socket idle for longer than `idleSocketTimeoutMs` is never reused, even when a blocked
 *   event loop kept the pool's timer from closing it (the server may have closed it meanwhile).
 * - A request that times out or is aborted has its socket destroyed, so nothing half-read goes back
 *   into the pool, and rejects at once (aborts with the signal's reason, timeouts and socket
 *   failures with a {@link TransportError} whose `requestSent` says whether the server can have
 *   seen it).
 * - A 401 with a refreshable credential (token file, exec plugin) is answered by invalidating the
 *   credential and sending the request once more; never more than once.
 * - With `proxyUrl`, connections are tunnelled through an HTTP proxy with CONNECT; TLS runs end to
 *   end inside the tunnel, so the proxy never sees the traffic.
 * - The TLS material (CA, client certificate and key) becomes one `SecureContext`, built once and
 *   again only when a refreshed credential brings another certificate; pooled sockets are keyed by
 *   host, port, that context, verification and server name. (Node's https.Agent builds its pool
 *   key from the PEM texts, decoding them from their Buffers three times per request: that was a
 *   fifth of all the bytes a 1,000-object burst allocated; see docs/performance.md.)
 * - Status codes are not interpreted by `request()`: the caller decides. `stream()` turns a non-2xx
 *   answer into the typed {@link ApiError}, because there are no lines to give.
 */
import type { Agent, AgentOptions, ClientRequest, ClientRequestArgs, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { finished } from 'node:stream';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import tls from 'node:tls';
import { systemClock } from '../base/clock.ts';
import type { Clock } from '../base/clock.ts';
import { silentLogger } from '../base/logger.ts';
import type { Logger } from '../base/logger.ts';
import { defaults } from '../defaults.ts';
import { credentialsFor } from './credentials.ts';
import type { Credential, CredentialProvider } from './credentials.ts';
import { errorFromResponse, TransportError } from './errors.ts';
import { Http1Error, Http1Pool } from './http1.ts';
import type { RequestDescription } from './errors.ts';
import type { ClusterConfig } from './kubeconfig.ts';

// Not `import http from 'node:http'`: an ES import of node:http reads every export, and its lazy
// ones load http2, zlib, perf_hooks and undici (about 8 MiB of resident memory) that nothing
// here uses; the CommonJS-style lookup reads only what is used. (eslint forbids the import.)
const http = process.getBuiltinModule('node:http');

/** One HTTP request to the API server. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query string, starting with `/`; the server URL's own path prefix is prepended. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /**
   * `request()`: the whole exchange. `stream()`: until the response headers arrive.
   * Default `defaults.client.requestTimeoutMs`.
   */
  timeoutMs?: number;
  /** `stream()` only: fail with a TransportError when no byte arrives for this long. Default: none. */
  idleTimeoutMs?: number;
  /** Named in every error this request produces. */
  description?: RequestDescription;
}

/** A buffered response. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A streaming 2xx response. Iterate `lines` to the end, or break out of it, to release the socket. */
export interface LineStream {
  status: number;
  headers: IncomingHttpHeaders;
  lines: AsyncIterable<string>;
}

/** Options of {@link Transport}. */
export interface TransportOptions {
  /** Default: the credentials the config names (token, client certificate or exec plugin). */
  credentials?: CredentialProvider;
  clock?: Clock;
  logger?: Logger;
  /** Default `defaults.client.maxSockets`. */
  maxSockets?: number;
  /** Default `defaults.client.requestTimeoutMs`. */
  requestTimeoutMs?: number;
  /** Default `defaults.client.idleSocketTimeoutMs`. */
  idleSocketTimeoutMs?: number;
}

const USER_AGENT = `operon/0.1 (node ${process.version})`;

/** Request options as Node reads them: `secureContext` goes on to `tls.connect`, though the https types leave it out. */
type TlsRequestOptions = https.RequestOptions & Pick<tls.CommonConnectionOptions, 'secureContext'>;

/** A request in flight, past or before its headers. */
interface Exchange {
  response: Promise<IncomingMessage>;
  /** The error that ended it on our side (abort, timeout), if any. */
  readonly failure: unknown;
  /**
   * Replaces the running deadline: `undefined` removes it. With `since`, the deadline is `ms` after
   * the moment it returns, read again when the timer fires, so activity pushes the deadline back
   * without a new timer each time.
   */
  deadline(ms: number | undefined, error?: () => Error, since?: () => number): void;
  /** Releases timers and listeners; safe to call twice. */
  done(): void;
  /** Tears the exchange down, socket included. */
  fail(err: unknown): void;
  wrap(err: unknown): unknown;
}

/**
 * The HTTP transport of one cluster.
 *
 * @example
 * ```ts
 * const transport = new Transport(loadClusterConfig());
 * const res = await transport.request({ method: 'GET', path: '/version' });
 * JSON.parse(res.body).gitVersion;
 * transport.close();
 * ```
 */
export class Transport {
  readonly #config: ClusterConfig;
  readonly #url: URL;
  readonly #agent: Agent;
  /** Buffered requests without a proxy; watches (and everything through a proxy) use {@link #agent}. */
  readonly #pool: Http1Pool | undefined;
  readonly #credentials: CredentialProvider;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #idleSocketMs: number;
  /** When pooled sockets were last checked for having outlived {@link #idleSocketMs}; see {@link #dropStaleSockets}. */
  #checkedIdleAt = 0;
  /** Where every request goes, worked out once from the server URL and the config. */
  readonly #target: { isHttps: boolean; host: string; port: number; basePath: string; servername: string | undefined };
  /** The TLS context of the last request, and the client certificate it was built with. */
  #tls: { cert: Buffer | undefined; key: Buffer | undefined; context: tls.SecureContext } | undefined;

  constructor(config: ClusterConfig, options: TransportOptions = {}) {
    this.#config = config;
    this.#url = new URL(config.server);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#credentials = options.credentials ?? credentialsFor(config, { clock: this.#clock, logger: this.#logger });
    this.#timeoutMs = options.requestTimeoutMs ?? defaults.client.requestTimeoutMs;
    this.#idleSocketMs = options.idleSocketTimeoutMs ?? defaults.client.idleSocketTimeoutMs;
    this.#agent = makeAgent(this.#url, config.proxyUrl, options.maxSockets ?? defaults.client.maxSockets, this.#idleSocketMs);
    stampIdleSockets(this.#agent, this.#clock);
    const url = this.#url;
    const isHttps = url.protocol === 'https:';
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.#target = {
      isHttps,
      host,
      port: url.port === '' ? (isHttps ? 443 : 80) : Number(url.port),
      basePath: url.pathname.replace(/\/+$/, ''),
      servername: config.tlsServerName ?? (isIP(host) ? undefined : host),
    };
    if (config.proxyUrl === undefined) {
      this.#pool = new Http1Pool(
        { ...this.#target, rejectUnauthorized: !config.insecureSkipTlsVerify },
        { maxSockets: options.maxSockets ?? defaults.client.maxSockets, idleSocketMs: this.#idleSocketMs, clock: this.#clock },
      );
    }
  }

  /** The keep-alive agent; exposed for tests and metrics. */
  get agent(): Agent {
    return this.#agent;
  }

  /**
   * Sends a request and buffers the whole response, whatever its status.
   *
   * @example
   * ```ts
   * const { status, body } = await transport.request({ method: 'GET', path: '/api/v1/namespaces/default/pods?limit=10' });
   * ```
   */
  async request(req: HttpRequest): Promise<HttpResponse> {
    let credential = await this.#credentials.get(req.signal);
    let res = await this.#requestOnce(req, credential);
    if (res.status === 401 && this.#credentials.refreshable) {
      this.#logger.debug({ path: req.path }, '401: refreshing credentials and retrying once');
      this.#credentials.invalidate(credential);
      credential = await this.#credentials.get(req.signal);
      res = await this.#requestOnce(req, credential);
    }
    return res;
  }

  /**
   * Sends a request and yields its body line by line (empty lines skipped). The iteration ends when
   * the server closes the response, throws a {@link TransportError} when the connection breaks,
   * and throws the signal's reason at once when aborted. A non-2xx answer rejects with the
   * {@link ApiError} built from it.
   *
   * @example
   * ```ts
   * const { lines } = await transport.stream({ method: 'GET', path: '/api/v1/pods?watch=true', signal });
   * for await (const line of lines) console.log(JSON.parse(line).type);
   * ```
   */
  async stream(req: HttpRequest): Promise<LineStream> {
    let credential = await this.#credentials.get(req.signal);
    for (let attempt = 0; ; attempt++) {
      const ex = this.#start(req, credential, req.timeoutMs ?? this.#timeoutMs);
      let res: IncomingMessage;
      try {
        res = await ex.response;
      } catch (err) {
        ex.done();
        throw ex.wrap(err);
      }
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        const idle = req.idleTimeoutMs;
        const idleError = (): Error => new TransportError(`${what(req)}: no data for ${idle} ms; the stream is presumed dead`, { ...withRequest(req) });
        const activity = { at: this.#clock.now() };
        ex.deadline(idle, idleError, () => activity.at);
        return { status, headers: res.headers, lines: this.#lines(ex, res, idle, activity) };
      }
      const body = await readBody(ex, res);
      if (status === 401 && attempt === 0 && this.#credentials.refreshable) {
        this.#credentials.invalidate(credential);
        credential = await this.#credentials.get(req.signal);
        continue;
      }
      throw errorFromResponse(status, body, header(res.headers, 'retry-after'), req.description);
    }
  }

  /** Destroys every socket, idle or busy; what runs on them fails. A later request or watch opens new ones. */
  close(): void {
    this.#agent.destroy();
    this.#pool?.close();
  }

  async #requestOnce(req: HttpRequest, credential: Credential): Promise<HttpResponse> {
    if (this.#pool !== undefined) return this.#pooled(this.#pool, req, credential);
    const ex = this.#start(req, credential, req.timeoutMs ?? this.#timeoutMs);
    let res: IncomingMessage;
    try {
      res = await ex.response;
    } catch (err) {
      ex.done();
      throw ex.wrap(err);
    }
    const body = await readBody(ex, res);
    return { status: res.statusCode ?? 0, headers: res.headers, body };
  }

  /** {@link #requestOnce} on the HTTP/1.1 pool: the same deadline, abort and error semantics. */
  async #pooled(pool: Http1Pool, req: HttpRequest, credential: Credential): Promise<HttpResponse> {
    const signal = req.signal;
    if (signal?.aborted) throw signal.reason;
    let secureContext: tls.SecureContext | undefined;
    try {
      secureContext = this.#target.isHttps ? this.#secureContext(credential) : undefined;
    } catch (err) {
      throw this.#transportError(req, err, false);
    }
    const ex = pool.send({ method: req.method, path: this.#target.basePath + req.path, headers: requestHeaders(req, credential), body: req.body, secureContext });
    const ms = req.timeoutMs ?? this.#timeoutMs;
    const cancel = this.#clock.setTimer(ms, () => ex.abort(new TransportError(`${what(req)}: no complete answer within ${ms} ms`, { requestSent: ex.requestSent, ...withRequest(req) })));
    const onAbort = (): void => ex.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await ex.response;
    } catch (err) {
      if (err instanceof TransportError || (signal?.aborted && err === signal.reason)) throw err;
      throw this.#transportError(req, err, err instanceof Http1Error ? err.requestSent : ex.requestSent);
    } finally {
      cancel();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** A socket, TLS or protocol failure as a {@link TransportError} naming the request, and the server when it was never reached. */
  #transportError(req: HttpRequest, err: unknown, requestSent: boolean): TransportError {
    const e = err as NodeJS.ErrnoException;
    const proxy = this.#config.proxyUrl;
    return new TransportError(`${what(req)}: ${e.code ? `${e.code} ` : ''}${e.message ?? String(err)}${requestSent ? '' : ` (connecting to ${this.#url.host}${proxy ? ` through proxy ${redact(proxy)}` : ''})`}`, {
      cause: err,
      requestSent,
      ...withRequest(req),
    });
  }

  async *#lines(ex: Exchange, res: IncomingMessage, idleMs: number | undefined, activity: { at: number }): AsyncGenerator<string> {
    const clock = this.#clock;
    const chunks = async function* (): AsyncGenerator<Buffer> {
      for await (const chunk of res) {
        // Pushes the idle deadline back; its timer re-arms itself only when it fires early.
        if (idleMs !== undefined) activity.at = clock.now();
        yield chunk as Buffer;
      }
    };
    try {
      yield* splitLines(chunks());
    } catch (err) {
      throw ex.wrap(err);
    } finally {
      ex.done();
      // Breaking out early leaves unread data on the socket; it cannot go back into the pool.
      if (!res.complete) res.destroy();
    }
  }

  /**
   * The context for the configured CA and the client certificate in use (the credential's, else
   * the config's); rebuilt only when the certificate changes.
   */
  #secureContext(credential: Credential): tls.SecureContext {
    const c = this.#config;
    const certificate = credential.clientCert ?? c.clientCert;
    const privateKey = credential.clientCert ? credential.clientKey : c.clientKey;
    const both = certificate !== undefined && privateKey !== undefined;
    const cert = both ? certificate : undefined;
    const key = both ? privateKey : undefined;
    const cached = this.#tls;
    if (cached && sameBytes(cached.cert, cert) && sameBytes(cached.key, key)) return cached.context;
    const ca = c.ca;
    const context = tls.createSecureContext({ ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) });
    this.#tls = { cert, key, context };
    return context;
  }

  /**
   * Destroys pooled sockets idle for longer than the idle timeout. The agent's own timer does this
   * whenever the event loop runs; this catches the case where it could not: a loop blocked by
   * synchronous work for longer than the server's idle timeout (kube-apiserver: 90 s) leaves the
   * server's FIN unread, and the first request after the block would take that socket from the
   * pool and fail with `socket hang up` although the server never saw it. Checking at most once a
   * second keeps this off the hot path and is still in time: the idle timeout plus a second is far
   * below the server's.
   */
  #dropStaleSockets(): void {
    const now = this.#clock.now();
    if (now - this.#checkedIdleAt < 1_000) return;
    this.#checkedIdleAt = now;
    for (const sockets of Object.values(this.#agent.freeSockets)) {
      for (const socket of sockets ?? []) {
        const since = idleSince.get(socket);
        if (since !== undefined && now - since >= this.#idleSocketMs) socket.destroy();
      }
    }
  }

  #start(req: HttpRequest, credential: Credential, timeoutMs: number): Exchange {
    this.#dropStaleSockets();
    const target = this.#target;
    const isHttps = target.isHttps;
    const headers = requestHeaders(req, credential);
    if (req.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(req.body));
    const options: TlsRequestOptions = {
      agent: this.#agent,
      method: req.method,
      host: target.host,
      port: target.port,
      path: target.basePath + req.path,
      headers,
    };
    if (isHttps) {
      options.rejectUnauthorized = !this.#config.insecureSkipTlsVerify;
      if (target.servername) options.servername = target.servername;
    }

    let creq: ClientRequest;
    let res: IncomingMessage | undefined;
    let connected = false;
    let failure: unknown;
    let cancelTimer: (() => void) | undefined;
    let rejectResponse: ((err: unknown) => void) | undefined;
    const signal = req.signal;

    const fail = (err: unknown): void => {
      if (failure !== undefined) return;
      failure = err;
      cancelTimer?.();
      rejectResponse?.(err);
      res?.destroy(err instanceof Error ? err : undefined);
      creq.destroy();
    };
    const onAbort = (): void => fail(signal?.reason);
    const wrap = (err: unknown): unknown => {
      if (failure !== undefined) return failure;
      if (err instanceof TransportError) return err;
      return this.#transportError(req, err, connected);
    };
    const deadline = (ms: number | undefined, error?: () => Error, since?: () => number): void => {
      cancelTimer?.();
      cancelTimer = undefined;
      if (ms === undefined || failure !== undefined) return;
      const make = error ?? ((): Error => new TransportError(`${what(req)}: no complete answer within ${ms} ms`, { requestSent: connected, ...withRequest(req) }));
      const fire = (): void => {
        const left = since === undefined ? 0 : since() + ms - this.#clock.now();
        if (left > 0) cancelTimer = this.#clock.setTimer(left, fire);
        else fail(make());
      };
      cancelTimer = this.#clock.setTimer(ms, fire);
    };

    const response = new Promise<IncomingMessage>((resolve, reject) => {
      rejectResponse = reject;
      if (signal?.aborted) {
        failure = signal.reason;
        reject(signal.reason);
        return;
      }
      // Inside the executor, as Node's own context creation was: a bad certificate or key fails
      // this request with a TransportError, as it always did.
      if (isHttps) options.secureContext = this.#secureContext(credential);
      creq = (isHttps ? https : http).request(options);
      creq.on('socket', (socket: Socket) => {
        // A pooled socket (or a finished tunnel) is connected already; a fresh one only once its
        // handshake is done, and a failure before that means the server never saw the request.
        if (!socket.connecting) connected = true;
        else socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => { connected = true; });
      });
      creq.on('error', (err) => {
        if (failure === undefined) {
          failure = wrap(err);
          cancelTimer?.();
          reject(failure);
        }
      });
      creq.on('response', (r) => {
        res = r;
        rejectResponse = undefined;
        resolve(r);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      deadline(timeoutMs);
      creq.end(req.body);
    });

    return {
      response,
      get failure() {
        return failure;
      },
      deadline,
      done: () => {
        cancelTimer?.();
        cancelTimer = undefined;
        signal?.removeEventListener('abort', onAbort);
      },
      fail,
      wrap,
    };
  }
}

/**
 * The whole body, decoded once at the end. Read with a 'data' listener and one `finished`, not
 * `for await`: the stream's async iterator costs a promise and a microtask turn per chunk, on every
 * request (docs/performance.md). Errors are the same either way: the stream's own, or premature
 * close.
 */
function readBody(ex: Exchange, res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    finished(res, { writable: false }, (err) => {
      ex.done();
      if (err) reject(ex.wrap(err));
      else if (ex.failure !== undefined) reject(ex.failure);
      else resolve((chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8'));
    });
  });
}

/**
 * Splits a byte stream into lines, for watch streams: a line may span chunks, a chunk may hold many
 * lines, a multi-byte character may be cut between chunks; `\r\n` is accepted; blank lines are
 * skipped; a last line without a newline is still yielded.
 *
 * @example
 * ```ts
 * for await (const line of splitLines(response)) handle(JSON.parse(line));
 * ```
 */
export async function* splitLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n', start)) {
      const line = buffer.slice(start, nl).replace(/\r$/, '');
      start = nl + 1;
      if (line.trim() !== '') yield line;
    }
    buffer = buffer.slice(start);
  }
  buffer += decoder.end();
  if (buffer.trim() !== '') yield buffer.replace(/\r$/, '');
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.equals(b));
}

const contextIds = new WeakMap<tls.SecureContext, number>();
let lastContextId = 0;

/**
 * The pool key of a TLS connection: what Node's Agent uses (host, port, local address,
 * family), then the secure context (one per CA and client certificate), verification and server
 * name: everything that tells two of this transport's TLS connections apart. Node's https.Agent
 * appends the CA, certificate and key PEMs instead, decoded from Buffers on every call (three per
 * request).
 *
 * @example
 * ```ts
 * tlsPoolKey(agent, { host: '10.0.0.1', port: 6443, secureContext, rejectUnauthorized: true }); // '10.0.0.1:6443::1:true:'
 * ```
 */
export function tlsPoolKey(agent: Agent, options: TlsRequestOptions = {}): string {
  let name = http.Agent.prototype.getName.call(agent, options);
  const context = options.secureContext;
  let id = '';
  if (context !== undefined) {
    let n = contextIds.get(context);
    if (n === undefined) contextIds.set(context, (n = ++lastContextId));
    id = String(n);
  }
  name += `:${id}:${options.rejectUnauthorized ?? ''}:${options.servername && options.servername !== options.host ? options.servername : ''}`;
  return name;
}

/** Node's https.Agent with {@link tlsPoolKey} as its pool key. */
class PooledHttpsAgent extends https.Agent {
  override getName(options?: TlsRequestOptions): string {
    return tlsPoolKey(this, options);
  }
}

/** When each pooled socket went back into its pool (the transport's clock). */
const idleSince = new WeakMap<Socket | Duplex, number>();

/** Records when the agent puts a socket back into its pool; `keepSocketAlive` is Node's documented hook for that moment. */
function stampIdleSockets(agent: Agent, clock: Clock): void {
  const keep = agent.keepSocketAlive.bind(agent);
  // Node returns whether it kept the socket, though its types say void.
  agent.keepSocketAlive = (socket): unknown => {
    const kept: unknown = keep(socket);
    if (kept) idleSince.set(socket, clock.now());
    return kept;
  };
}

function makeAgent(target: URL, proxyUrl: string | undefined, maxSockets: number, idleSocketMs: number): Agent {
  // `timeout` only closes sockets idle in the pool; a busy one merely gets a 'timeout' event nobody acts on.
  const options = { keepAlive: true, maxSockets, timeout: idleSocketMs };
  const isHttps = target.protocol === 'https:';
  if (proxyUrl === undefined) return isHttps ? new PooledHttpsAgent(options) : new http.Agent(options);
  const proxy = new URL(proxyUrl);
  if (proxy.protocol !== 'http:') {
    throw new TypeError(`proxy-url ${redact(proxyUrl)}: only http:// proxies (HTTP CONNECT) are supported, not ${proxy.protocol}//`);
  }
  return isHttps ? new TunnellingHttpsAgent(options, proxy) : new TunnellingHttpAgent(options, proxy);
}

type ConnectCallback = (err: Error | null, stream: Duplex) => void;

/** Opens a CONNECT tunnel to `host:port` through an HTTP proxy. */
function openTunnel(proxy: URL, host: string, port: number, callback: (err: Error | null, socket?: Socket) => void): void {
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { Host: authority };
  if (proxy.username !== '') {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['Proxy-Authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  const proxyHost = proxy.hostname.startsWith('[') ? proxy.hostname.slice(1, -1) : proxy.hostname;
  const connect = http.request({ host: proxyHost, port: proxy.port === '' ? 80 : Number(proxy.port), method: 'CONNECT', path: authority, headers, agent: false });
  let answered = false;
  connect.once('connect', (res, socket) => {
    answered = true;
    if (res.statusCode !== 200) {
      socket.destroy();
      callback(new Error(`proxy ${redact(proxy.href)} refused to tunnel to ${authority}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
      return;
    }
    callback(null, socket);
  });
  connect.once('error', (err) => {
    if (!answered) callback(err);
  });
  connect.end();
}

class TunnellingHttpsAgent extends https.Agent {
  readonly #proxy: URL;
  constructor(options: https.AgentOptions, proxy: URL) {
    super(options);
    this.#proxy = proxy;
  }

  override getName(options?: TlsRequestOptions): string {
    return tlsPoolKey(this, options);
  }

  override createConnection(options: https.RequestOptions, callback?: ConnectCallback): undefined {
    const done = once(callback);
    const host = String(options.host ?? 'localhost');
    openTunnel(this.#proxy, host, Number(options.port ?? 443), (err, socket) => {
      if (err || socket === undefined) {
        done(err ?? new Error('proxy tunnel failed'));
        return;
      }
      const secure = tls.connect({ ...(options as tls.ConnectionOptions), socket, ...(options.servername ? { servername: options.servername } : {}) });
      secure.once('secureConnect', () => done(null, secure));
      secure.once('error', (e) => done(e));
    });
    return undefined;
  }
}

class TunnellingHttpAgent extends http.Agent {
  readonly #proxy: URL;
  constructor(options: AgentOptions, proxy: URL) {
    super(options);
    this.#proxy = proxy;
  }

  override createConnection(options: ClientRequestArgs, callback?: ConnectCallback): undefined {
    const done = once(callback);
    openTunnel(this.#proxy, String(options.host ?? 'localhost'), Number(options.port ?? 80), (err, socket) => {
      if (err || socket === undefined) done(err ?? new Error('proxy tunnel failed'));
      else done(null, socket);
    });
    return undefined;
  }
}

function once(callback: ConnectCallback | undefined): (err: Error | null, stream?: Duplex) => void {
  let called = false;
  return (err, stream) => {
    if (called) return;
    called = true;
    callback?.(err, stream as Duplex);
  };
}

/** What every request carries: JSON wanted, who asks, and the credential's Authorization if it has one. */
function requestHeaders(req: HttpRequest, credential: Credential): Record<string, string> {
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': USER_AGENT, ...req.headers };
  if (credential.authorization !== undefined) headers['Authorization'] = credential.authorization;
  return headers;
}

function what(req: HttpRequest): string {
  const d = req.description;
  if (!d) return `${req.method} ${req.path.split('?')[0]}`;
  return `${d.verb} ${d.resource}${d.name ? ` ${d.name}` : ''}${d.namespace ? ` in namespace ${d.namespace}` : ''}`;
}

function withRequest(req: HttpRequest): { request?: RequestDescription } {
  return req.description ? { request: req.description } : {};
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.href;
  } catch {
    return url;
  }
}
