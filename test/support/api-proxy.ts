/**
 * A misbehaving network between a client and a real API server, for real-cluster tests: an HTTPS
 * proxy that terminates TLS with the plane's own server certificate (so a client trusting the
 * plane's CA trusts it) and forwards every request to the API server as the admin (client
 * certificate), except when a test tells it to:
 * - `throttleNext(n, s)`: answer the next `n` requests with the plain-text 429 and `Retry-After: s`
 *   that API Priority and Fairness sends;
 * - `stallOpenStreams()`: stop forwarding bytes on every response open now, keeping its connection
 *   open (a dead peer behind a NAT or load balancer); later requests pass normally;
 * - `hold()`/`release()`: park new requests without answering, then forward them;
 * - `setFaults({...})`: until cleared, answer a share of requests (or of writes) with 429, reset
 *   the client's connection for a share of requests (half before forwarding, so the request never
 *   arrives; half after the API server answered, so it was applied but the answer is lost), and
 *   delay every request. The shares are drawn from a seeded generator, so a run repeats.
 *
 * It also closes a client's connection when the API server cannot be reached (down, restarting):
 * to the client that looks like an API server that went away mid-connection. A write whose client
 * went away after sending it whole still gets its answer read and recorded (a killed process's
 * last write is applied or not; the record says which).
 *
 * Clients reach it with {@link ApiProxy.clientConfig}: no credentials of their own, because the
 * proxy authenticates upstream.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ClusterConfig } from '../../src/client/kubeconfig.ts';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** 429 when the proxy throttled it, else the API server's status (0 before or without an answer). */
  status: number;
  at: number;
  /** What the proxy did to it instead of forwarding it faithfully. */
  fault?: 'throttled' | 'reset-before' | 'reset-after';
}

/** Faults applied to requests until {@link ApiProxy.setFaults} is called again. */
export interface ProxyFaults {
  /** Share (0..1) of requests answered 429 with `Retry-After`; with `writesOnly`, of non-GET requests only. */
  throttle?: { share: number; retryAfterSeconds: number; writesOnly?: boolean };
  /** Share (0..1) of requests whose client connection is reset (not watches: they are stalled instead). */
  resetShare?: number;
  /** Delay before each request is forwarded, ms. */
  latencyMs?: number;
}

export interface ApiProxy {
  readonly url: string;
  /** A configuration that reaches the API server through this proxy. */
  clientConfig(namespace?: string): ClusterConfig;
  /** Every request seen, in arrival order. */
  readonly requests: ProxiedRequest[];
  /** Throttles the next `count` requests (of those whose path `only` accepts, when given). */
  throttleNext(count: number, retryAfterSeconds: number, only?: (path: string) => boolean): void;
  /** Freezes every response open now; returns how many were frozen. */
  stallOpenStreams(): number;
  hold(): void;
  release(): void;
  /** Replaces the faults in force (`{}` clears them). */
  setFaults(faults: ProxyFaults): void;
  close(): Promise<void>;
}

/** A small seeded generator (mulberry32): fault shares that repeat from run to run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface OpenResponse {
  stalled: boolean;
}

/**
 * Starts a proxy in front of the plane whose state folder is `planeDir` and API server `server`.
 *
 * @example
 * ```ts
 * const proxy = await startApiProxy(cluster.state);
 * const client = KubeClient.fromConfig(proxy.clientConfig());
 * proxy.throttleNext(2, 1);
 * ```
 */
export async function startApiProxy(plane: { dir: string; server: string }): Promise<ApiProxy> {
  const pki = join(plane.dir, 'pki');
  const ca = readFileSync(join(pki, 'ca.crt'));
  const upstream = new URL(plane.server);
  const agent = new https.Agent({
    keepAlive: true,
    ca,
    cert: readFileSync(join(pki, 'admin.crt')),
    key: readFileSync(join(pki, 'admin.key')),
  });
  const requests: ProxiedRequest[] = [];
  const open = new Set<OpenResponse>();
  let throttle: { count: number; seconds: number; only?: (path: string) => boolean } = { count: 0, seconds: 1 };
  let held: Array<() => void> | undefined;
  let faults: ProxyFaults = {};
  const random = seeded(17);

  const forward = (req: IncomingMessage, res: ServerResponse, record: ProxiedRequest, resetAfter = false): void => {
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: upstream.host };
    delete headers['connection'];
    delete headers['keep-alive'];
    const up = https.request({ agent, host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers });
    const entry: OpenResponse = { stalled: false };
    up.on('response', (upRes) => {
      record.status = upRes.statusCode ?? 0;
      if (res.destroyed) {
        // The client went away (a killed process) after sending a whole write: its answer is recorded, not delivered.
        upRes.resume();
        return;
      }
      if (resetAfter) {
        record.fault = 'reset-after';
        upRes.resume();
        res.socket?.destroy();
        return;
      }
      const resHeaders = { ...upRes.headers };
      delete resHeaders.connection;
      delete resHeaders['keep-alive'];
      res.writeHead(upRes.statusCode ?? 502, resHeaders);
      res.flushHeaders();
      open.add(entry);
      upRes.on('data', (chunk: Buffer) => {
        if (!entry.stalled) res.write(chunk);
      });
      upRes.on('end', () => {
        open.delete(entry);
        if (!entry.stalled) res.end();
      });
      upRes.on('error', () => {
        open.delete(entry);
        if (!entry.stalled) res.destroy();
      });
    });
    up.on('error', () => {
      open.delete(entry);
      if (!entry.stalled) res.destroy();
    });
    // The client went away (it aborted, or its idle timeout fired): so does the upstream request,
    // unless it is a write sent whole, which the API server applies anyway: its answer is then
    // still read, so the record says whether it was applied.
    res.on('close', () => {
      open.delete(entry);
      if (req.method === 'GET' || !req.complete || res.writableFinished) up.destroy();
    });
    req.pipe(up);
  };

  const server = https.createServer({ key: readFileSync(join(pki, 'apiserver.key')), cert: readFileSync(join(pki, 'apiserver.crt')) }, (req, res) => {
    const record: ProxiedRequest = { method: req.method ?? '', path: req.url ?? '', status: 0, at: Date.now() };
    requests.push(record);
    if (throttle.count > 0 && (throttle.only?.(record.path) ?? true)) {
      throttle.count--;
      record.status = 429;
      req.resume();
      // Exactly what priority-and-fairness sends: text, not a JSON Status.
      res.writeHead(429, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': String(throttle.seconds), 'X-Content-Type-Options': 'nosniff' });
      res.end('Too many requests, please try again later.\n');
      return;
    }
    const write = record.method !== 'GET';
    const { throttle: storm, resetShare = 0, latencyMs = 0 } = faults;
    if (storm && (write || !storm.writesOnly) && random() < storm.share) {
      record.status = 429;
      record.fault = 'throttled';
      req.resume();
      res.writeHead(429, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': String(storm.retryAfterSeconds), 'X-Content-Type-Options': 'nosniff' });
      res.end('Too many requests, please try again later.\n');
      return;
    }
    const watch = /[?&]watch=(1|true)/.test(record.path);
    const reset = !watch && resetShare > 0 && random() < resetShare ? (random() < 0.5 ? 'before' : 'after') : undefined;
    if (reset === 'before') {
      record.fault = 'reset-before';
      req.socket.destroy();
      return;
    }
    const go = (): void => {
      if (held) held.push(() => forward(req, res, record, reset === 'after'));
      else forward(req, res, record, reset === 'after');
    };
    if (latencyMs > 0) setTimeout(go, latencyMs);
    else go();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const release = (): void => {
    const waiting = held ?? [];
    held = undefined;
    for (const go of waiting) go();
  };

  return {
    url,
    requests,
    clientConfig: (namespace = 'default') => ({ server: url, ca, insecureSkipTlsVerify: false, namespace, auth: { type: 'none' }, source: 'test proxy' }),
    throttleNext(count, seconds, only) {
      throttle = only ? { count, seconds, only } : { count, seconds };
    },
    stallOpenStreams() {
      for (const entry of open) entry.stalled = true;
      const n = open.size;
      open.clear();
      return n;
    },
    hold() {
      held ??= [];
    },
    release,
    setFaults(next) {
      faults = { ...next };
    },
    async close() {
      release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
