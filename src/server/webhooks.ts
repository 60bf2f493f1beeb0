/**
 * The operator's HTTPS endpoint for admission (and, later, conversion) webhooks, on `node:https`:
 * one POST route per handler, JSON in and JSON out. The decision lives in `src/admission/`; this
 * module moves bytes.
 *
 * Guarantees:
 * - A body over `maxBodyBytes`, a body that is not JSON, or a route that throws
 *   {@link MalformedReviewError} gets a 400 with a one-line reason, and a log line with the path.
 *   An unknown path is 404, a method other than POST 405; a route that throws anything else 500.
 *   None of these throws into the operator.
 * - {@link WebhookServer.setCertificate} swaps the serving certificate for new TLS handshakes
 *   (`setSecureContext`): connections and requests in flight are not dropped (controller-runtime's
 *   certwatcher swaps through `GetCertificate` for the same reason).
 * - Keep-alive sockets live {@link defaults}.webhooks.keepAliveTimeoutMs, longer than Node's 5 s,
 *   so the API server does not reuse a socket the server is closing (Pepr #3056).
 * - {@link WebhookServer.stop} stops accepting, lets requests in flight finish, and closes idle sockets.
 *
 * @example
 * ```ts
 * const server = new WebhookServer({ certificate, port: 9443 });
 * server.route('/convert', (body) => convertReview(body));
 * await server.listen();
 * ```
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../base/logger.ts';
import { MalformedReviewError } from '../admission/types.ts';
import { defaults } from '../defaults.ts';
import type { CertificatePair } from './x509.ts';

/** A route: the parsed JSON body in, the JSON reply out. */
export type WebhookRoute = (body: unknown, request: { path: string; query: URLSearchParams }) => Promise<unknown>;

/** Options of a {@link WebhookServer}. */
export interface WebhookServerOptions {
  /** The serving certificate and key (PEM); replace it later with `setCertificate` without dropping a request. */
  certificate: CertificatePair;
  /** Default: {@link defaults}.webhooks.port; 0 picks a free port. */
  port?: number;
  /** Default: every interface (in a pod the API server dials the pod IP). */
  host?: string;
  /** Default: {@link defaults}.admission.maxBodyBytes. */
  maxBodyBytes?: number;
  /** Where refused requests and failures are logged. Default: silent. */
  logger?: Logger;
}

/**
 * One HTTPS server serving every webhook route of the process.
 *
 * @example
 * ```ts
 * const server = new WebhookServer({ certificate: { cert, key }, port: 9443 });
 * server.route('/validate/crypto.tools/v1/cryptovaluecalculators/supply', (body) => admit(spec, body, logger));
 * await server.listen();
 * ```
 */
export class WebhookServer {
  readonly #routes = new Map<string, WebhookRoute>();
  readonly #server: Server;
  readonly #options: WebhookServerOptions;
  readonly #logger: Logger;
  #requests = 0;

  constructor(options: WebhookServerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#server = createServer(
      {
        cert: options.certificate.cert,
        key: options.certificate.key,
        keepAliveTimeout: defaults.webhooks.keepAliveTimeoutMs,
        headersTimeout: defaults.webhooks.headersTimeoutMs,
      },
      (req, res) => void this.#serve(req, res),
    );
  }

  /** Requests answered so far (any status): tests and metrics read it. */
  get requests(): number {
    return this.#requests;
  }

  /**
   * Serves `handler` at `path` (POST). A later call for the same path replaces it.
   *
   * @example
   * ```ts
   * server.route('/convert', async (body) => convertReview(body));
   * ```
   */
  route(path: string, handler: WebhookRoute): void {
    this.#routes.set(path, handler);
  }

  /**
   * Starts listening; resolves with the port.
   *
   * @example
   * ```ts
   * const port = await server.listen();
   * ```
   */
  listen(): Promise<number> {
    const port = this.#options.port ?? defaults.webhooks.port;
    return new Promise((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException): void => {
        const where = `${this.#options.host ?? '*'}:${port}`;
        const why = error.code === 'EADDRINUSE' ? 'the address is in use (another operator or process?)' : error.message;
        reject(new Error(`the webhook server cannot listen on ${where}: ${why}; choose another port with webhooks.port or OPERON_WEBHOOK_PORT`, { cause: error }));
      };
      this.#server.once('error', failed);
      this.#server.listen(port, this.#options.host, () => {
        this.#server.off('error', failed);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Serves `certificate` on every new TLS handshake from now on.
   *
   * @example
   * ```ts
   * server.setCertificate(rotated);
   * ```
   */
  setCertificate(certificate: CertificatePair): void {
    this.#server.setSecureContext({ cert: certificate.cert, key: certificate.key });
  }

  /**
   * Stops accepting connections; resolves once requests in flight are answered.
   *
   * @example
   * ```ts
   * await server.stop();
   * ```
   */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://webhook');
    const fail = (status: number, message: string): void => {
      if (status === 400 || status >= 500) this.#logger.warn({ path: url.pathname, status }, `webhook request refused: ${message}`);
      this.#send(res, status, { message });
    };
    const handler = this.#routes.get(url.pathname);
    if (!handler) return fail(404, `no webhook is served at ${url.pathname}`);
    if (req.method !== 'POST') return fail(405, `${req.method} is not allowed; webhooks take POST`);
    const limit = this.#options.maxBodyBytes ?? defaults.admission.maxBodyBytes;
    const raw = await readBody(req, limit);
    if (raw === 'aborted') return;
    if (raw === 'too-large') {
      // Answered at once; the rest of the body is drained, not buffered, and the socket closed after.
      res.setHeader('connection', 'close');
      return fail(400, `the request body is over ${limit} bytes`);
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (error) {
      return fail(400, `the request body is not JSON: ${(error as Error).message}`);
    }
    try {
      this.#send(res, 200, await handler(body, { path: url.pathname, query: url.searchParams }));
    } catch (error) {
      if (error instanceof MalformedReviewError) return fail(400, error.message);
      this.#logger.error({ err: error, path: url.pathname }, 'webhook route failed');
      fail(500, `the webhook failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #send(res: ServerResponse, status: number, body: unknown): void {
    this.#requests++;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

/** The body, or why there is none: over `limit` bytes (the rest is drained), or the client went away. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over) return;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', () => resolve('aborted'));
    req.on('aborted', () => resolve('aborted'));
  });
}
