/**
 * Resident memory of one process once it has gone quiet, read from /proc: the reading the memory
 * scripts of this folder share (`operator-rss.ts`, `load-trial.ts`).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** VmRSS of `pid`, MiB. */
export function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

/** user + system CPU of `pid` alone, in clock ticks (10 ms). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * VmRSS of `child`, MiB, once its CPU time has stopped moving (three 2 s samples in a row under
 * 20 ms each) and at least `minMs` after the call. Throws when the process exits meanwhile.
 */
export async function quietRssMiB(child: ChildProcess, minMs = 0): Promise<number> {
  const pid = child.pid ?? 0;
  const started = Date.now();
  let last = cpuTicks(pid);
  for (let quiet = 0; quiet < 3 || Date.now() - started < minMs; ) {
    await sleep(2000);
    if (child.exitCode !== null) throw new Error(`the operator exited with ${child.exitCode}`);
    const now = cpuTicks(pid);
    quiet = now - last <= 2 ? quiet + 1 : 0;
    last = now;
  }
  return rssMiB(pid);
}
