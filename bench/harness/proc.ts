/**
 * A contender as a child process, and what the kernel says it costs: resident memory and CPU time
 * of its whole process tree (a Python operator's helpers, a shell wrapper's child), read from
 * /proc. Output goes to a log file, never to the harness's terminal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux this runs on (`getconf CLK_TCK`). */
const CLK_TCK = 100;

export interface Usage {
  /** Sum of VmRSS over the tree, KiB. */
  rssKiB: number;
  /** Sum of VmHWM (peak RSS since start or the last reset) over the tree, KiB. */
  hwmKiB: number;
  /** user + system CPU of the tree, including reaped children, seconds. */
  cpuSeconds: number;
}

function children(): Map<number, number[]> {
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = byParent.get(ppid) ?? [];
      list.push(Number(entry));
      byParent.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  return byParent;
}

/** `pid` and all its descendants that are alive now. */
export function processTree(pid: number): number[] {
  const byParent = children();
  const tree: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop() as number;
    tree.push(p);
    stack.push(...(byParent.get(p) ?? []));
  }
  return tree;
}

/** Current usage of the tree rooted at `pid`. */
export function usage(pid: number): Usage {
  const total: Usage = { rssKiB: 0, hwmKiB: 0, cpuSeconds: 0 };
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      total.rssKiB += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      total.hwmKiB += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // Fields after "(comm) ": state is index 0, so utime/stime/cutime/cstime are 11..14.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total.cpuSeconds += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK;
    } catch {
      // gone
    }
  }
  return total;
}

/** Resets VmHWM of every process in the tree, so the next reading is the peak of a new phase. */
export function resetPeak(pid: number): void {
  for (const p of processTree(pid)) {
    try {
      writeFileSync(`/proc/${p}/clear_refs`, '5');
    } catch {
      // not permitted (not root) or gone: the peak then covers the process's whole life
    }
  }
}

export interface Running {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code (or signal) once the process ended. */
  exited: Promise<string>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL for the whole tree after `graceMs`. */
  stop(graceMs?: number): Promise<string>;
}

/** Starts `command` with `env` added to the harness's environment, logging to `logFile`. */
export function start(command: readonly string[], env: Record<string, string>, logFile: string, cwd: string): Running {
  const [file, ...args] = command as [string, ...string[]];
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(file, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let done = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve(signal ?? String(code));
    });
    child.once('error', (err) => {
      done = true;
      resolve(`failed to start: ${err.message}`);
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${command.join(' ')}`);
  const pid = child.pid;
  return {
    child,
    pid,
    exited,
    hasExited: () => done,
    async stop(graceMs = 10_000) {
      if (done) return exited;
      const tree = processTree(pid);
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        for (const p of tree) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }, graceMs);
      const how = await exited;
      clearTimeout(timer);
      // Children that outlived their parent (a Python thread pool's helpers) go too.
      for (const p of tree.slice(1)) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      log.end();
      return how;
    },
  };
}
