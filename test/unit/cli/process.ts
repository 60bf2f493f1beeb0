/** Runs the `operon` command as a child process, as a user runs it. */
import { execFile } from 'node:child_process';
import { FROM_SOURCE } from '../../support/source.ts';

const MAIN = new URL('../../../src/cli/main.ts', import.meta.url).pathname;

/** Runs `operon <args>` in `cwd`; resolves with its exit code and output, never rejects. */
export function operon(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...FROM_SOURCE, MAIN, ...args], { cwd, env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

