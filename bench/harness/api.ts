/**
 * The harness's own line to the API server: admin client certificate, one keep-alive agent, raw
 * JSON. Kept apart from every contender's client so the harness measures them without sharing a
 * connection pool, a cache or a rate limiter with any of them.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { readJsonLines } from '../../src/cluster/http.ts';
import type { PlaneState } from '../../src/cluster/plane.ts';

export interface ApiResponse {
  status: number;
  text: string;
  /** The request was sent again after its connection broke (see {@link AdminApi.request}). */
  retried?: boolean;
}

/** What a batch of creates did. */
export interface CreateResult {
  /** Name → time (ms, performance.now) the API server confirmed the create. */
  createdAt: Map<string, number>;
  seconds: number;
  failures: number;
}

/** Request counts from `apiserver_request_total`, keyed `VERB resource`. */
export type RequestCounts = Map<string, number>;

export class AdminApi {
  readonly server: URL;
  readonly #agent: https.Agent;

  constructor(state: PlaneState, maxSockets = 64) {
    const pki = join(state.dir, 'pki');
    this.server = new URL(state.server);
    this.#agent = new https.Agent({
      keepAlive: true,
      maxSockets,
      ca: readFileSync(join(pki, 'ca.crt')),
      cert: readFileSync(join(pki, 'admin.crt')),
      key: readFileSync(join(pki, 'admin.key')),
    });
  }

  /**
   * One API request. A request whose connection breaks before any answer (`socket hang up`,
   * ECONNRESET, EPIPE) is sent again, up to twice. For a POST that happens only when the socket
   * was a reused keep-alive one: the API server closes idle connections only between requests
   * (Go's net/http), so that failure means it closed the socket before reading ours. A create is
   * idempotent by name anyway: {@link createMany} counts a retried create's `AlreadyExists` as done.
   */
  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.#send(method, path, body, contentType);
        return attempt > 0 ? { ...res, retried: true } : res;
      } catch (err) {
        const { code, reusedSocket } = err as { code?: string; reusedSocket?: boolean };
        const broken = code === 'ECONNRESET' || code === 'EPIPE' || (err as Error).message === 'socket hang up';
        if (attempt >= 2 || !broken || (method === 'POST' && !reusedSocket)) throw err;
      }
    }
  }

  #send(method: string, path: string, body: unknown, contentType: string): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (payload !== undefined) headers['content-type'] = contentType;
      const req = https.request({ host: this.server.hostname, port: this.server.port, path, method, agent: this.#agent, headers, timeout: 60_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
      req.end(payload);
    });
  }

  /**
   * Creates `count` objects, `objectAt(i)` for i = 0…count−1, POSTed to `collection` with
   * `concurrency` requests in flight. A 429 is retried after a growing pause; any other refusal
   * counts as a failure.
   */
  async createMany(collection: string, count: number, concurrency: number, objectAt: (i: number) => { metadata: { name: string } }): Promise<CreateResult> {
    const createdAt = new Map<string, number>();
    let next = 0;
    let failures = 0;
    const t0 = performance.now();
    const lane = async (): Promise<void> => {
      while (next < count) {
        const body = objectAt(next++);
        for (let attempt = 0; ; attempt++) {
          const res = await this.request('POST', collection, body);
          // A retried create may meet the object its first try made.
          if (res.status === 201 || (res.status === 409 && res.retried)) {
            createdAt.set(body.metadata.name, performance.now());
            break;
          }
          // 429 from flow control is the server asking us to wait; anything else is a harness bug.
          if (res.status !== 429 || attempt > 20) {
            failures++;
            break;
          }
          await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    return { createdAt, seconds: (performance.now() - t0) / 1000, failures };
  }

  /** Like {@link request}, but fails unless the status is one of `ok`; returns the parsed body. */
  async json<T>(method: string, path: string, body?: unknown, ok: readonly number[] = [200, 201, 202], contentType?: string): Promise<T> {
    const res = await this.request(method, path, body, contentType);
    if (!ok.includes(res.status)) throw new Error(`${method} ${path}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
    return (res.text ? JSON.parse(res.text) : undefined) as T;
  }

  /** The API server's request counters, summed over codes, scopes and versions. */
  async requestCounts(): Promise<RequestCounts> {
    const res = await this.request('GET', '/metrics');
    if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status}`);
    const counts: RequestCounts = new Map();
    for (const line of res.text.split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      const verb = /verb="([^"]*)"/.exec(line)?.[1] ?? '';
      const resource = /resource="([^"]*)"/.exec(line)?.[1] ?? '';
      const sub = /subresource="([^"]*)"/.exec(line)?.[1] ?? '';
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      const key = `${verb} ${resource}${sub ? `/${sub}` : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + value);
    }
    return counts;
  }

  /**
   * Streams watch events of `path` from `resourceVersion` until `signal` aborts or the server ends
   * the stream; resolves with the last resourceVersion seen (or rejects on a 410 so the caller relists).
   */
  watch(path: string, resourceVersion: string, onEvent: (type: string, object: Record<string, unknown>) => void, signal: AbortSignal): Promise<string> {
    let last = resourceVersion;
    const sep = path.includes('?') ? '&' : '?';
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: this.server.hostname, port: this.server.port, path: `${path}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}`, agent: this.#agent, signal },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
            return;
          }
          readJsonLines(res, (value) => {
            const event = value as { type: string; object: Record<string, unknown> };
            if (event.type === 'ERROR') {
              req.destroy();
              reject(new Error(`watch ${path}: ${JSON.stringify(event.object)}`));
              return false;
            }
            const rv = (event.object['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion;
            if (rv) last = rv;
            if (event.type !== 'BOOKMARK') onEvent(event.type, event.object);
            return true;
          });
          res.on('end', () => resolve(last));
          res.on('error', () => resolve(last));
        },
      );
      req.on('error', (err) => (signal.aborted ? resolve(last) : reject(err)));
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** `after − before` per key, dropping zeros. */
export function countsDelta(before: RequestCounts, after: RequestCounts): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [key, value] of after) {
    const d = value - (before.get(key) ?? 0);
    if (d > 0) delta[key] = d;
  }
  return delta;
}
