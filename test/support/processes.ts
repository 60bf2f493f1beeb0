/**
 * What cluster tests need to run Operon as a user does, in a process of its own: a free local
 * port to give it, and `operon run` started from the sources with its stderr kept for the failure
 * message and the process killed when the test file ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FROM_SOURCE } from './source.ts';

/** A port nothing listens on right now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A running `operon run`. */
export interface OperonProcess {
  readonly child: ChildProcess;
  /** Its stderr so far. */
  stderr(): string;
  /** Resolves with its exit code. */
  readonly exited: Promise<number | null>;
}

/**
 * Starts `operon run <args>` from the sources in the repository's root, as `operon` would run it;
 * it is killed when the test file ends.
 */
export function operonRun(args: readonly string[], env: NodeJS.ProcessEnv = process.env): OperonProcess {
  const child = spawn(process.execPath, [...FROM_SOURCE, 'src/cli/main.ts', 'run', ...args], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  after(() => {
    child.kill('SIGKILL');
  });
  return { child, stderr: () => stderr, exited };
}
