/**
 * The few HTTPS calls the control-plane tooling makes itself (health checks, the fake Node),
 * through node:https with the local CA and a client certificate. The framework has its own client;
 * this tooling deliberately depends on nothing of it, so it can start a cluster for any test.
 */
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';

export interface Tls {
  ca?: string;
  cert?: string;
  key?: string;
  /** Skip verification: only for components' own self-signed health endpoints on loopback. */
  insecure?: boolean;
}

export function call(url: string, tls: Tls, method = 'GET', body?: unknown): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const options = {
      method,
      timeout: 5_000,
      headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      ...(u.protocol === 'https:'
        ? {
            ca: tls.ca ? readFileSync(tls.ca) : undefined,
            cert: tls.cert ? readFileSync(tls.cert) : undefined,
            key: tls.key ? readFileSync(tls.key) : undefined,
            rejectUnauthorized: !tls.insecure,
          }
        : {}),
    };
    const req = (u.protocol === 'https:' ? request : process.getBuiltinModule('node:http').request)(u, options, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout calling ${url}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Polls `check` every `intervalMs` until it returns true or `timeoutMs` passes; a throwing check
 * counts as not yet. The outcome carries the last error, for the caller's message. Only for
 * conditions with no event to wait on (processes starting, tests' end states).
 */
export async function poll(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  intervalMs: number,
): Promise<{ done: true } | { done: false; last: unknown }> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return { done: true };
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) return { done: false, last };
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls `check` until it returns true, or fails after `timeoutMs` with `describe()`'s text. */
export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>, describe: () => string): Promise<void> {
  const outcome = await poll(check, timeoutMs, 250);
  if (outcome.done) return;
  const why = outcome.last instanceof Error ? ` (last error: ${outcome.last.message})` : '';
  throw new Error(`${what} did not become ready within ${Math.round(timeoutMs / 1000)} s${why}\n${describe()}`);
}

/**
 * Feeds `onValue` each JSON value of a newline-delimited response, such as a watch stream, as its
 * lines arrive. When `onValue` returns false, the rest of the stream is ignored.
 */
export function readJsonLines(res: IncomingMessage, onValue: (value: unknown) => boolean | void): void {
  let buffer = '';
  let stopped = false;
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0 && !stopped; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() && onValue(JSON.parse(line)) === false) stopped = true;
    }
  });
}
