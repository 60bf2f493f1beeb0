/**
 * Real-cluster test support. `useCluster()` starts the local control plane once per test run (or
 * reuses the running one: concurrent test files wait on a lock instead of starting two), and
 * `namespace()` gives each test file its own namespace, deleted when the file's tests end.
 *
 * Tests wait on conditions (`eventually`, or a watch), never on fixed sleeps, so they pass on a
 * busy 2-core machine.
 */
import './source.ts'; // fails fast without the operon-source condition
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after } from 'node:test';
import { call, poll, readJsonLines } from '../../src/cluster/http.ts';
import { defaultStateDir, readState, status, up, type PlaneState } from '../../src/cluster/plane.ts';

export interface Cluster {
  state: PlaneState;
  kubeconfig: string;
  /** Runs the control plane's own kubectl; resolves with stdout, rejects with stderr in the message. */
  kubectl(args: string[], options?: { input?: string; kubeconfig?: string }): Promise<string>;
  /** Like kubectl, but resolves with the exit code and both streams instead of rejecting. */
  kubectlResult(args: string[], options?: { input?: string; kubeconfig?: string }): Promise<{ code: number; stdout: string; stderr: string }>;
  /**
   * A fresh namespace for this test file, removed after its tests. Call it at the top level of the
   * file (top-level await), so the clean-up belongs to the file and not to a hook or a test.
   */
  namespace(prefix: string): Promise<string>;
  /** An HTTPS request as the admin (system:masters), for raw API checks. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }>;
}

let shared: Promise<Cluster> | undefined;

/** The local control plane for this test run. */
export function useCluster(): Promise<Cluster> {
  shared ??= ensurePlane().then(makeCluster);
  return shared;
}

async function ensurePlane(): Promise<PlaneState> {
  const now = await status();
  if (now.healthy && now.state) return now.state;
  // One process starts the plane; the others wait for its lock to go away.
  const lock = `${defaultStateDir}.lock`;
  try {
    mkdirSync(lock);
  } catch {
    await eventually(async () => {
      try {
        statSync(lock);
        return false;
      } catch {
        return true;
      }
    }, { timeoutMs: 60 * 60_000, what: 'another test process to start the control plane' });
    const state = readState();
    if (!state) throw new Error('the control plane failed to start in another test process');
    return state;
  }
  try {
    return await up({ log: (line) => process.stderr.write(`${line}\n`) });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function makeCluster(state: PlaneState): Cluster {
  const kubectlPath = join(state.binDir, 'kubectl');
  const pkiDir = join(state.dir, 'pki');
  const kubectlResult: Cluster['kubectlResult'] = (args, options = {}) =>
    new Promise((resolve) => {
      const child = execFile(
        kubectlPath,
        args,
        { env: { ...process.env, KUBECONFIG: options.kubeconfig ?? state.kubeconfig }, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (options.input !== undefined) child.stdin?.end(options.input);
    });
  const cluster: Cluster = {
    state,
    kubeconfig: state.kubeconfig,
    kubectlResult,
    async kubectl(args, options) {
      const r = await kubectlResult(args, options);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
      return r.stdout;
    },
    async namespace(prefix) {
      const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
      await cluster.kubectl(['create', 'namespace', name]);
      after(async () => {
        await kubectlResult(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
      });
      // Pods are admitted only once the ServiceAccount controller made the namespace's "default" account.
      await eventually(async () => (await kubectlResult(['get', 'serviceaccount', 'default', '-n', name])).code === 0, {
        what: `ServiceAccount default in ${name}`,
      });
      return name;
    },
    api(method, path, body) {
      // The control-plane tooling's own HTTPS call, as the admin (system:masters).
      return call(new URL(path, state.server).href, { ca: join(pkiDir, 'ca.crt'), cert: join(pkiDir, 'admin.crt'), key: join(pkiDir, 'admin.key') }, method, body);
    },
  };
  return cluster;
}

/**
 * Resolves once `check` returns true; polls every `intervalMs` and fails after `timeoutMs` with
 * `what` and the last error. For conditions with no event to wait on.
 */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const outcome = await poll(check, options.timeoutMs ?? 60_000, options.intervalMs ?? 200);
  if (outcome.done) return;
  throw new Error(`timed out waiting for ${options.what ?? 'a condition'}${outcome.last instanceof Error ? `: ${outcome.last.message}` : ''}`);
}

/** Streams `kubectl get --watch` style events from a raw watch request until `signal` aborts. */
export function rawWatch(
  cluster: Cluster,
  path: string,
  onEvent: (event: { type: string; object: { metadata?: { name?: string; resourceVersion?: string } } }) => void,
  signal: AbortSignal,
): Promise<void> {
  const pkiDir = join(cluster.state.dir, 'pki');
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, cluster.state.server),
      {
        ca: readFileSync(join(pkiDir, 'ca.crt')),
        cert: readFileSync(join(pkiDir, 'admin.crt')),
        key: readFileSync(join(pkiDir, 'admin.key')),
        signal,
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
          res.resume();
          return;
        }
        readJsonLines(res, (event) => onEvent(event as Parameters<typeof onEvent>[0]));
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      },
    );
    req.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
    req.end();
  });
}

