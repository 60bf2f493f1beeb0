/**
 * Helpers for the client's unit tests: temp directories, a self-signed certificate, servers on
 * 127.0.0.1 and a clock that records the delays it is asked for. Raw HTTP only; nothing here
 * imitates the Kubernetes API.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../../src/base/clock.ts';
import { defaults } from '../../../src/defaults.ts';

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'operon-client-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A self-signed certificate for 127.0.0.1 and localhost; it is its own CA. */
export function selfSignedCert(dir: string): { cert: Buffer; key: Buffer } {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return { cert: readFileSync(certPath), key: readFileSync(keyPath) };
}

/** Listens on an ephemeral port of 127.0.0.1; closes the server (and its sockets) after the test. */
export async function listen<S extends Server>(t: { after(fn: () => Promise<void> | void): void }, server: S): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * A clock for retry tests: sleeps end on the next turn of the event loop and their lengths are
 * recorded in `delays`. Timers as long as the request or watch-idle timeouts are the transport's
 * deadlines, not sleeps: they are neither recorded nor fired, so a test never times out by itself.
 */
export function recordingClock(onTimer?: (ms: number) => void | Promise<void>): Clock & { delays: number[] } {
  const delays: number[] = [];
  const deadlines = new Set<number>([defaults.client.requestTimeoutMs, defaults.watch.idleTimeoutMs]);
  return {
    delays,
    now: () => Date.now(),
    setTimer(ms, fn) {
      if (deadlines.has(ms)) return () => {};
      delays.push(ms);
      let cancelled = false;
      setImmediate(() => {
        void Promise.resolve(onTimer?.(ms)).then(() => {
          if (!cancelled) fn();
        });
      });
      return () => {
        cancelled = true;
      };
    },
  };
}

/** Writes an executable shell script. */
export function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
