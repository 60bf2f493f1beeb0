/**
 * A reference operator as the fault suite runs it: `operon run` from the .ts sources (the CLI
 * under `--conditions=operon-source`, no type-check), JSON logs to a file, one namespace, and a
 * supervisor that plays the kubelet: a process that exits by itself is started again a second
 * later, a process the suite kills is started again at once, and both count as restarts.
 *
 * Guarantees:
 * - Every incarnation appends to the same log file, so {@link logSummary} counts the warning and
 *   error lines of the whole scenario.
 * - {@link SupervisedOperator.stop} leaves no process behind (SIGTERM, then SIGKILL).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, usage, type Running } from '../../bench/harness/proc.ts';

/** Node's flag that makes `operon-k8s` resolve to src/ (docs/development.md). */
const FROM_SOURCE = '--conditions=operon-source';

export interface OperatorOptions {
  repo: string;
  /** The operator's file, relative to the repository. */
  file: string;
  namespace: string;
  /** The kubeconfig it reaches the API server with (usually through the suite's proxy). */
  kubeconfig: string;
  env?: Record<string, string>;
  /** More `operon run` flags (leader election). */
  args?: string[];
  logFile: string;
  log: (line: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * A copy of the plane's admin kubeconfig that reaches the API server at `server` (a proxy that
 * presents the plane's own server certificate), written to `file`.
 */
export function kubeconfigVia(planeKubeconfig: string, server: string, file: string): string {
  const text = readFileSync(planeKubeconfig, 'utf8').replace(/server: \S+/, `server: ${server}`);
  writeFileSync(file, text);
  return file;
}

/** One operator process, started again whenever it ends until {@link stop}. */
export class SupervisedOperator {
  readonly options: OperatorOptions;
  /** Starts after the first, whoever ended the one before. */
  restarts = 0;
  /** How each incarnation that ended by itself ended (exit code or signal). */
  readonly exits: string[] = [];
  #proc: Running;
  #stopping = false;
  #killing = false;

  constructor(options: OperatorOptions) {
    this.options = options;
    this.#proc = this.#start();
  }

  get pid(): number {
    return this.#proc.pid;
  }

  #start(): Running {
    const o = this.options;
    const command = [
      process.execPath,
      FROM_SOURCE,
      join(o.repo, 'src/cli/main.ts'),
      'run',
      join(o.repo, o.file),
      '--no-check',
      '-n',
      o.namespace,
      '--kubeconfig',
      o.kubeconfig,
      '--log-format',
      'json',
      '--health-address',
      '127.0.0.1:0',
      '--metrics-address',
      '127.0.0.1:0',
      ...(o.args ?? []),
    ];
    const proc = start(command, o.env ?? {}, o.logFile, o.repo);
    void proc.exited.then(async (how) => {
      if (this.#stopping || this.#killing || proc !== this.#proc) return;
      this.exits.push(how);
      o.log(`operator ${o.file} exited (${how}); starting it again in 1 s`);
      await sleep(1_000);
      if (this.#stopping || proc !== this.#proc) return;
      this.restarts++;
      this.#proc = this.#start();
    });
    return proc;
  }

  /** SIGKILL, then a new process at once (a crash and a kubelet restart). */
  async kill(): Promise<void> {
    this.#killing = true;
    try {
      process.kill(this.#proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await this.#proc.exited;
    this.restarts++;
    this.#proc = this.#start();
    this.#killing = false;
  }

  /** Sends `signal` (SIGSTOP, SIGCONT) to the current process. */
  signal(signal: NodeJS.Signals): void {
    process.kill(this.#proc.pid, signal);
  }

  /** Resolves with how the current process ended, once it did. */
  get exited(): Promise<string> {
    return this.#proc.exited;
  }

  /** Resident memory of the current process, MiB. */
  rssMiB(): number {
    return Math.round((usage(this.#proc.pid).rssKiB / 1024) * 10) / 10;
  }

  /**
   * Resolves once the current process answers 200 on /readyz (its caches are synced), reading
   * the health URL from its log; false after `timeoutMs`.
   */
  async ready(timeoutMs = 60_000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    const pid = this.#proc.pid;
    while (performance.now() < deadline) {
      const url = healthUrl(this.options.logFile, pid);
      if (url) {
        const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) return true;
      }
      await sleep(200);
    }
    return false;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    try {
      process.kill(this.#proc.pid, 'SIGCONT');
    } catch {
      // gone
    }
    await this.#proc.stop(5_000);
  }
}

/** The /healthz server's URL that process `pid` logged, if it did. */
function healthUrl(logFile: string, pid: number): string | undefined {
  let url: string | undefined;
  for (const record of records(logFile)) {
    if (record['pid'] === pid && typeof record['url'] === 'string' && String(record['msg']).startsWith('serving /healthz')) url = record['url'];
  }
  return url;
}

function records(logFile: string): Array<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by SIGKILL
    }
  }
  return out;
}

/** Warning and error lines of an operator's log (pino levels 40 and 50+), with the commonest messages. */
export interface LogSummary {
  warnings: number;
  errors: number;
  /** Up to five messages per level, most frequent first, with their counts. */
  top: Array<{ level: 'warn' | 'error'; msg: string; count: number }>;
}

/** Counts the warning and error lines in `logFile`; lines that are not JSON (a crash's stack trace) count as errors. */
export function logSummary(logFile: string): LogSummary {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return { warnings: 0, errors: 0, top: [] };
  }
  const counts = { warn: new Map<string, number>(), error: new Map<string, number>() };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let level: 'warn' | 'error' | undefined;
    let msg = line.slice(0, 160);
    try {
      const record = JSON.parse(line) as { level?: number; msg?: string };
      level = (record.level ?? 30) >= 50 ? 'error' : (record.level ?? 30) >= 40 ? 'warn' : undefined;
      msg = String(record.msg ?? '').slice(0, 160);
    } catch {
      level = 'error';
    }
    if (level) counts[level].set(msg, (counts[level].get(msg) ?? 0) + 1);
  }
  const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
  const top = (['error', 'warn'] as const).flatMap((level) =>
    [...counts[level]]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([msg, count]) => ({ level, msg, count })),
  );
  return { warnings: sum(counts.warn), errors: sum(counts.error), top };
}
