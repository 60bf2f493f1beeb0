/**
 * A keep-alive pool of HTTP/1.1 connections to one API server, for exchanges whose whole answer is
 * wanted at once (every request but watches). Node's `http.request` builds a ClientRequest, an
 * IncomingMessage and two streams per request and goes through the Agent's pool bookkeeping; for a
 * small JSON request and answer that machinery cost more CPU than the exchange itself
 * (docs/performance.md, "A lean HTTP/1.1 client"). Here a request is one string written to the
 * socket and an answer is parsed from the socket's buffers: status line, headers, then a body by
 * `Content-Length`, `chunked` transfer coding, or up to the close.
 *
 * Guarantees:
 * - **At most one request per connection at a time** (no pipelining), and at most `maxSockets`
 *   connections; further requests wait in order for a free one.
 * - **A connection goes back into the pool only after a complete answer** that did not ask to
 *   close it. Any error, an early close, bytes the server sent unasked, or {@link Http1Exchange.abort}
 *   destroys it, so nothing half-read is ever reused.
 * - **Idle connections are closed after `idleSocketMs`**, by the socket's timeout while the event
 *   loop runs and at the moment one would be reused (a loop blocked for longer than the server's
 *   idle timeout finds the server's FIN unread; that connection is dropped, not reused). Idle
 *   connections do not keep the process alive.
 * - **Refused before anything is sent**: a method, path or header with characters that could
 *   split the request (CR, LF, NUL, spaces in the path), as Node's own client refuses them, and
 *   non-ASCII in the path or a header (Node would send it as Latin-1; Operon's are ASCII).
 * - **A connection serves only requests with its own TLS context** (CA and client certificate):
 *   after a credential brings another certificate, older connections are closed, never lent.
 * - **A new TLS connection resumes the session of an earlier one with the same context** (a TLS
 *   1.3 ticket, as Node's https.Agent keeps them): a full handshake with an RSA client key costs
 *   the client about 0.6 ms of CPU more than a resumed one, and the API server its signature too,
 *   for each of the up to `maxSockets` connections a burst opens. A session is never offered under
 *   another context, so a resumed connection always carries the certificate its context holds.
 * - **`close()` ends what is open, not the pool**: connections are destroyed and requests running
 *   or waiting fail; a later request opens a new connection, as Node's Agent does after
 *   `destroy()`, so a client closed at the end of a test file still serves an operator's last
 *   requests as it stops.
 * - `requestSent` on an error says whether the server can have seen the request: false only when
 *   the connection failed before it was established.
 */
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Clock } from '../base/clock.ts';

/** Where the pool connects. */
export interface Http1Target {
  readonly isHttps: boolean;
  readonly host: string;
  readonly port: number;
  /** TLS server name (SNI and certificate check); undefined for an IP address, which is checked against IP SANs. */
  readonly servername: string | undefined;
  readonly rejectUnauthorized: boolean;
}

/** One request, ready to send. `headers` must not name Host, Content-Length or Connection. */
export interface Http1Request {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** TLS only: the context (CA, client certificate); connections are pooled per context. */
  secureContext?: tls.SecureContext | undefined;
}

/** A complete answer. */
export interface Http1Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Why an exchange failed, and whether the server can have seen the request. */
export class Http1Error extends Error {
  override readonly name = 'Http1Error';
  readonly code: string | undefined;
  readonly requestSent: boolean;
  constructor(message: string, options: { code?: string | undefined; requestSent: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.requestSent = options.requestSent;
  }
}

/** A request in flight. */
export interface Http1Exchange {
  readonly response: Promise<Http1Response>;
  /** True once the request is on an established connection: the server can have seen it. */
  readonly requestSent: boolean;
  /** Ends the exchange with `reason` (its connection is destroyed); nothing once it has settled. */
  abort(reason: unknown): void;
}

/** Options of {@link Http1Pool}. */
export interface Http1PoolOptions {
  maxSockets: number;
  idleSocketMs: number;
  clock: Clock;
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
// What Node's client refuses too (a path with controls or spaces, a header with CR, LF or NUL),
// and anything outside ASCII, which Node would send as Latin-1: paths and headers are ASCII here.
const VALID_PATH = /^[\x21-\x7e]*$/;
const VALID_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const INVALID_VALUE = /[^\t\x20-\x7e]/;
/** The key of TLS sessions for connections without a context of their own. */
const NO_CONTEXT = {};
/** Set by the pool itself. */
const OWN_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding']);

/**
 * HTTP/1.1 connections to one server.
 *
 * @example
 * ```ts
 * const pool = new Http1Pool({ isHttps: false, host: '127.0.0.1', port: 8080, servername: undefined, rejectUnauthorized: true }, { maxSockets: 8, idleSocketMs: 30_000, clock: systemClock });
 * const { status, body } = await pool.send({ method: 'GET', path: '/version', headers: {}, body: undefined }).response;
 * pool.close();
 * ```
 */
export class Http1Pool {
  readonly #target: Http1Target;
  readonly #options: Http1PoolOptions;
  readonly #idle: Connection[] = [];
  /** Every open connection, idle or busy: the count against `maxSockets`, and what `close()` destroys. */
  readonly #live = new Set<Connection>();
  readonly #waiting: Waiting[] = [];
  /** The `Host` header line, the same for every request. */
  readonly #host: string;
  /** The newest TLS session per context ({@link NO_CONTEXT} for none), offered by the next connection. */
  readonly #sessions = new WeakMap<object, Buffer>();

  constructor(target: Http1Target, options: Http1PoolOptions) {
    this.#target = target;
    this.#options = options;
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    this.#host = `Host: ${host}${target.port === (target.isHttps ? 443 : 80) ? '' : `:${target.port}`}\r\n`;
  }

  /** Connections open now, idle or busy. */
  get size(): number {
    return this.#live.size;
  }

  /** Sends `request` on a pooled connection (or a new one), waiting for a free one at `maxSockets`. */
  send(request: Http1Request): Http1Exchange {
    const head = requestHead(request, this.#host);
    let settled = false;
    /** The connection the request went out on, once it has one (busy with it until the request settles). */
    let used: Connection | undefined;
    let queued: Waiting | undefined;
    let reject!: (err: unknown) => void;
    let resolve!: (res: Http1Response) => void;
    const response = new Promise<Http1Response>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const finish = (err: unknown, res?: Http1Response): void => {
      if (settled) return;
      settled = true;
      if (res !== undefined) resolve(res);
      else reject(err);
    };
    const start = (c: Connection | undefined): void => {
      queued = undefined;
      if (settled) {
        if (c) this.#release(c, false);
        return;
      }
      if (c === undefined) {
        finish(new Http1Error('the connection pool was closed while the request waited for a connection', { requestSent: false }));
        return;
      }
      used = c;
      c.exchange(head + (request.body ?? ''), (err, res) => {
        this.#release(c, err !== undefined || !c.reusable);
        finish(err, res);
      });
    };
    if (head instanceof Error) {
      finish(head);
    } else {
      const c = this.#take(request.secureContext);
      if (c !== undefined) start(c);
      else this.#waiting.push((queued = { start, context: request.secureContext }));
    }
    return {
      response,
      get requestSent() {
        return used?.connected ?? false;
      },
      abort: (reason) => {
        if (settled) return;
        finish(reason);
        if (queued) this.#waiting.splice(this.#waiting.indexOf(queued), 1);
        used?.destroy();
      },
    };
  }

  /** Destroys every connection; running and waiting requests fail. A later request opens a new connection. */
  close(): void {
    this.#idle.length = 0;
    for (const w of this.#waiting.splice(0)) w.start(undefined);
    for (const c of [...this.#live]) c.destroy();
  }

  /** A reusable idle connection for `context`, or a new one while under `maxSockets`. */
  #take(context: tls.SecureContext | undefined): Connection | undefined {
    const now = this.#options.clock.now();
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      const c = this.#idle[i] as Connection;
      if (now - c.idleSince >= this.#options.idleSocketMs || !c.usable) {
        this.#idle.splice(i, 1);
        c.destroy();
      } else if (c.context === context) {
        this.#idle.splice(i, 1);
        c.unpark();
        return c;
      }
    }
    if (this.#live.size >= this.#options.maxSockets) {
      // Another context's idle connection makes room; otherwise wait for one to come back.
      const spare = this.#idle.shift();
      if (spare === undefined) return undefined;
      spare.destroy();
    }
    return this.#connect(context);
  }

  #connect(context: tls.SecureContext | undefined): Connection {
    const t = this.#target;
    let socket: net.Socket;
    if (t.isHttps) {
      const key = context ?? NO_CONTEXT;
      const session = this.#sessions.get(key);
      socket = tls.connect({ host: t.host, port: t.port, ...(t.servername ? { servername: t.servername } : {}), rejectUnauthorized: t.rejectUnauthorized, ...(context ? { secureContext: context } : {}), ...(session ? { session } : {}), ALPNProtocols: ['http/1.1'] });
      socket.on('session', (ticket: Buffer) => this.#sessions.set(key, ticket));
    } else {
      socket = net.connect({ host: t.host, port: t.port });
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1_000);
    const c = new Connection(socket, context, t.isHttps, () => {
      this.#live.delete(c);
      const at = this.#idle.indexOf(c);
      if (at >= 0) this.#idle.splice(at, 1);
      this.#next();
    });
    this.#live.add(c);
    return c;
  }

  /** Puts a connection back (or destroys it), then serves the next waiting request. */
  #release(c: Connection, destroy: boolean): void {
    if (destroy) {
      c.destroy();
      return;
    }
    const next = this.#waiting[0];
    if (next !== undefined) {
      // Only to a request with the same TLS context (client certificate); for another, this
      // connection makes room, and its close opens one for that request.
      if (next.context !== c.context) {
        c.destroy();
        return;
      }
      this.#waiting.shift();
      next.start(c);
      return;
    }
    c.idleSince = this.#options.clock.now();
    c.park(this.#options.idleSocketMs);
    this.#idle.push(c);
  }

  /** A connection closed: the first waiting request may open one in its place. */
  #next(): void {
    const next = this.#waiting[0];
    if (next === undefined || this.#live.size >= this.#options.maxSockets) return;
    this.#waiting.shift();
    next.start(this.#connect(next.context));
  }
}

/** A request waiting for a connection. */
interface Waiting {
  readonly start: (connection: Connection | undefined) => void;
  readonly context: tls.SecureContext | undefined;
}

type Done = (err: unknown, res?: Http1Response) => void;

/** One socket and the parse of the answer in progress on it. */
class Connection {
  readonly context: tls.SecureContext | undefined;
  idleSince = 0;
  /** False once the server asked to close or the answer could not be delimited. */
  reusable = true;
  readonly #socket: net.Socket;
  /** Established (TLS handshake done): from here the server can have seen what was written. */
  connected = false;
  #done: Done | undefined;
  #buffer: Buffer | undefined;
  // The answer being parsed.
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  #mode: 'head' | 'length' | 'chunked' | 'close' = 'head';
  #remaining = 0;
  #chunks: Buffer[] = [];

  constructor(socket: net.Socket, context: tls.SecureContext | undefined, isHttps: boolean, onClose: () => void) {
    this.#socket = socket;
    this.context = context;
    socket.once(isHttps ? 'secureConnect' : 'connect', () => {
      this.connected = true;
    });
    socket.on('data', (data: Buffer) => this.#read(data));
    socket.on('end', () => this.#ended());
    // Only an idle connection has a timeout (park); it has outlived the pool's idle time.
    socket.on('timeout', () => socket.destroy());
    socket.on('error', (err: NodeJS.ErrnoException) => this.#fail(err));
    socket.on('close', () => {
      this.#fail(new Error('the server closed the connection'));
      onClose();
    });
  }

  /** Still open and not half-closed by the server. */
  get usable(): boolean {
    return !this.#socket.destroyed && this.#socket.readable;
  }

  /**
   * Idle in the pool: closed after `idleMs` without use, and not keeping the process alive (as
   * Node's Agent does with its free sockets: a program that made its last request can exit).
   * The socket's own timeout is used because, unlike a timer, it holds no reference either.
   */
  park(idleMs: number): void {
    this.#socket.setTimeout(idleMs);
    this.#socket.unref();
  }

  /** Taken from the pool for a request. */
  unpark(): void {
    this.#socket.setTimeout(0);
    this.#socket.ref();
  }

  exchange(text: string, done: Done): void {
    this.#done = done;
    this.#mode = 'head';
    this.#status = 0;
    this.#headers = {};
    this.#chunks = [];
    this.#socket.write(text);
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #fail(err: unknown): void {
    const done = this.#done;
    if (done === undefined) return;
    this.#done = undefined;
    this.reusable = false;
    const e = err as NodeJS.ErrnoException;
    done(new Http1Error(e.message ?? String(err), { code: e.code, requestSent: this.connected, cause: err }));
  }

  #ended(): void {
    if (this.#done !== undefined && this.#mode === 'close') {
      this.reusable = false;
      this.#complete();
      return;
    }
    this.#fail(new Error('socket hang up'));
  }

  #read(data: Buffer): void {
    if (this.#done === undefined) {
      // Nothing was asked: the connection is out of step with the server.
      this.reusable = false;
      this.#socket.destroy();
      return;
    }
    let buf = this.#buffer === undefined ? data : Buffer.concat([this.#buffer, data]);
    this.#buffer = undefined;
    while (this.#done !== undefined) {
      if (this.#mode === 'head') {
        const end = buf.indexOf(CRLF_CRLF);
        if (end < 0) break;
        if (!this.#head(buf.toString('latin1', 0, end))) return;
        buf = buf.subarray(end + 4);
        continue;
      }
      if (this.#mode === 'length') {
        const take = Math.min(this.#remaining, buf.length);
        if (take > 0) this.#chunks.push(buf.subarray(0, take));
        this.#remaining -= take;
        buf = buf.subarray(take);
        if (this.#remaining === 0) {
          if (buf.length > 0) this.reusable = false;
          this.#complete();
        }
        break;
      }
      if (this.#mode === 'close') {
        this.#chunks.push(buf);
        buf = buf.subarray(buf.length);
        break;
      }
      // chunked: `#remaining` > 0 inside a chunk's data (plus its CRLF), 0 at a size line, -1 in trailers.
      if (this.#remaining > 0) {
        const dataLeft = this.#remaining - 2;
        const take = Math.min(Math.max(dataLeft, 0), buf.length);
        if (take > 0) this.#chunks.push(buf.subarray(0, take));
        const used = Math.min(this.#remaining, buf.length);
        this.#remaining -= used;
        buf = buf.subarray(used);
        if (this.#remaining > 0) break;
        continue;
      }
      const eol = buf.indexOf('\r\n');
      if (eol < 0) break;
      if (this.#remaining < 0) {
        // Trailer lines, up to the empty one.
        buf = buf.subarray(eol + 2);
        if (eol === 0) {
          if (buf.length > 0) this.reusable = false;
          this.#complete();
          break;
        }
        continue;
      }
      const size = parseInt(buf.toString('latin1', 0, eol).split(';')[0] ?? '', 16);
      if (!Number.isFinite(size) || size < 0) {
        this.#protocolError('a malformed chunk size');
        return;
      }
      buf = buf.subarray(eol + 2);
      this.#remaining = size === 0 ? -1 : size + 2;
    }
    if (buf.length > 0 && this.#done !== undefined) this.#buffer = buf;
  }

  /** Parses the status line and headers; false when the answer cannot be read. */
  #head(text: string): boolean {
    const lines = text.split('\r\n');
    const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
    if (status === null) {
      this.#protocolError(`a malformed status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
      return false;
    }
    const code = Number(status[2]);
    const headers: IncomingHttpHeaders = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const known = headers[name];
      if (name === 'set-cookie') headers[name] = [...((known as string[] | undefined) ?? []), value];
      else headers[name] = known === undefined ? value : `${String(known)}, ${value}`;
    }
    // An interim answer (100 Continue): the real one follows.
    if (code >= 100 && code < 200) return true;
    this.#status = code;
    this.#headers = headers;
    const connection = String(headers['connection'] ?? '').toLowerCase();
    if (status[1] === '0' ? !connection.includes('keep-alive') : connection.includes('close')) this.reusable = false;
    const coding = String(headers['transfer-encoding'] ?? '').toLowerCase();
    const length = headers['content-length'];
    if (code === 204 || code === 304) {
      // No body; the read loop completes it, and sees any bytes that should not follow.
      this.#mode = 'length';
      this.#remaining = 0;
    } else if (coding.endsWith('chunked')) {
      this.#mode = 'chunked';
      this.#remaining = 0;
    } else if (length !== undefined) {
      const n = Number(length);
      if (!Number.isInteger(n) || n < 0) {
        this.#protocolError(`a malformed Content-Length ${JSON.stringify(length)}`);
        return false;
      }
      this.#mode = 'length';
      this.#remaining = n;
    } else {
      this.#mode = 'close';
      this.reusable = false;
    }
    return true;
  }

  #complete(): void {
    const done = this.#done;
    if (done === undefined) return;
    this.#done = undefined;
    const chunks = this.#chunks;
    this.#chunks = [];
    const body = chunks.length === 0 ? '' : (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8');
    done(undefined, { status: this.#status, headers: this.#headers, body });
  }

  #protocolError(what: string): void {
    this.#fail(new Error(`the server sent ${what}`));
    this.#socket.destroy();
  }
}

/** The request line and headers, or the error that refuses them. */
function requestHead(request: Http1Request, hostLine: string): string | Error {
  if (!VALID_TOKEN.test(request.method)) return new Http1Error(`invalid HTTP method ${JSON.stringify(request.method)}`, { code: 'ERR_INVALID_HTTP_TOKEN', requestSent: false });
  if (!VALID_PATH.test(request.path)) return new Http1Error(`the request path contains unescaped characters: ${JSON.stringify(request.path)}`, { code: 'ERR_UNESCAPED_CHARACTERS', requestSent: false });
  let head = `${request.method} ${request.path} HTTP/1.1\r\n${hostLine}`;
  for (const name in request.headers) {
    const value = request.headers[name] as string;
    if (OWN_HEADERS.has(name.toLowerCase())) continue;
    if (!VALID_TOKEN.test(name)) return new Http1Error(`invalid header name ${JSON.stringify(name)}`, { code: 'ERR_INVALID_HTTP_TOKEN', requestSent: false });
    if (INVALID_VALUE.test(value)) return new Http1Error(`invalid character in the value of header ${name}`, { code: 'ERR_INVALID_CHAR', requestSent: false });
    head += `${name}: ${value}\r\n`;
  }
  if (request.body !== undefined) head += `Content-Length: ${Buffer.byteLength(request.body)}\r\n`;
  return `${head}\r\n`;
}
