/**
 * A control plane of a test file's own, for tests that do what must never be done to the shared
 * one: restart the API server, compact etcd, write to etcd behind the API server's back. Call
 * `ownPlane()` at the top level of the file; it is stopped after the file's tests.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { call } from '../../src/cluster/http.ts';
import { down, up } from '../../src/cluster/plane.ts';
import type { PlaneState } from '../../src/cluster/plane.ts';
import { isRunning, startDetached } from '../../src/cluster/process.ts';
import { eventually } from './cluster.ts';

export interface OwnPlane {
  state: PlaneState;
  /**
   * Kills the API server (SIGKILL: a crash, no graceful close of watches), runs `whileDown`, then
   * starts it again with the same arguments and waits until it is ready.
   */
  restartApiServer(whileDown?: () => Promise<void>): Promise<void>;
  /** The current etcd revision (the newest resourceVersion of anything). */
  etcdRevision(): Promise<number>;
  /** Compacts etcd's history up to `revision`: older resourceVersions are gone for good. */
  compactEtcd(revision: number): Promise<void>;
  /** Deletes a key in etcd directly, as another API server of an HA control plane would. */
  etcdDelete(key: string): Promise<number>;
}

/** Starts a separate control plane for this test file. */
export async function ownPlane(): Promise<OwnPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'operon-plane-'));
  after(async () => {
    await down({ dir, log: () => {} });
    rmSync(dir, { recursive: true, force: true });
  });
  const state = await up({ dir, log: () => {} });
  const etcd = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await call(`${state.etcdUrl}${path}`, {}, 'POST', body);
    if (res.status !== 200) throw new Error(`etcd ${path}: HTTP ${res.status} ${res.body}`);
    return JSON.parse(res.body) as Record<string, unknown>;
  };
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return {
    state,
    async restartApiServer(whileDown) {
      const binary = join(state.binDir, 'kube-apiserver');
      const pid = state.pids['kube-apiserver'];
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '').slice(1);
      process.kill(pid, 'SIGKILL');
      await eventually(() => !isRunning(pid, binary), { what: 'the API server to exit' });
      await whileDown?.();
      const logFile = join(state.dir, 'kube-apiserver.log');
      const start = (): void => {
        state.pids['kube-apiserver'] = startDetached(binary, args, logFile).pid;
        // So that down() stops the new process, not the dead one.
        writeFileSync(join(state.dir, 'state.json'), JSON.stringify(state, null, 2));
      };
      start();
      // What is under test is the watcher's recovery, not the API server's start: one that exits
      // at once (once seen in a fresh-machine run, its log gone with the clone) is started again,
      // and a failure shows the end of its log.
      let starts = 1;
      try {
        await eventually(
          async () => {
            if (!isRunning(state.pids['kube-apiserver'], binary) && starts < 3) {
              starts++;
              start();
              return false;
            }
            return (await call(`${state.server}/readyz`, { ca: join(state.dir, 'pki', 'ca.crt') })).status === 200;
          },
          { timeoutMs: 90_000, what: 'the restarted API server to be ready' },
        );
      } catch (error) {
        const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
        throw new Error(`${(error as Error).message} (started ${starts} times; the end of ${logFile}:\n${tail})`, { cause: error });
      }
    },
    async etcdRevision() {
      const res = await etcd('/v3/kv/range', { key: b64('/registry/'), limit: 1 });
      return Number((res['header'] as { revision: string }).revision);
    },
    async compactEtcd(revision) {
      await etcd('/v3/kv/compaction', { revision: String(revision), physical: true });
    },
    async etcdDelete(key) {
      const res = await etcd('/v3/kv/deleterange', { key: b64(key) });
      return Number(res['deleted'] ?? 0);
    },
  };
}
