/**
 * Operon as a user gets it: `npm pack` of this checkout, installed into a new project outside the
 * checkout from the tarball, its dependencies from the registry. Everything the repository's own
 * runs hide (the `operon-source` condition, type stripping of the .ts sources, self-reference) is
 * absent there, so a package that only works in the repository fails here
 * (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING was issue #14).
 *
 * `packOperon()` packs once per process (the pack builds dist/, which takes a while); each
 * `packAndInstall(dir)` installs that tarball into a fresh project in `dir`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root folder. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What a command printed, and how it ended. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment a user's shell would give: this process's, without what the repository's own
 * runs add. NODE_OPTIONS could carry `--conditions=operon-source`, which would send Node to the
 * sources the tarball does not run; `npm run`'s npm_package_* and npm_lifecycle_* describe this
 * checkout, not the new project.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key === 'INIT_CWD' || key.startsWith('npm_package_') || key.startsWith('npm_lifecycle_')) continue;
    env[key] = value;
  }
  // The repository's Node 24 first on PATH (the machine's own may be older), as a user's would be.
  env['PATH'] = `${dirname(process.execPath)}:${env['PATH'] ?? ''}`;
  return { ...env, ...extra };
}

/** Runs `file args` in `cwd` with a user's environment; never throws, the caller asserts. */
export function command(file: string, args: readonly string[], cwd: string, options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: userEnv(options.env), timeout: options.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a command that must succeed; its output, or an error with everything it printed. */
export async function mustRun(file: string, args: readonly string[], cwd: string, options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<string> {
  const r = await command(file, args, cwd, options);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} (in ${cwd}) exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

let packed: Promise<string> | undefined;

/**
 * `npm pack` of the checkout (its `prepack` builds dist/ first) into a temporary folder; the
 * tarball's path. Once per process: later calls return the same tarball. Test files that pack at
 * the same time take turns (a lock beside the checkout's dist/), since each build empties dist/.
 */
export function packOperon(): Promise<string> {
  packed ??= withPackLock(async () => {
    const out = mkdtempSync(join(tmpdir(), 'operon-pack-'));
    await mustRun('npm', ['pack', '--silent', '--pack-destination', out], repoRoot, { timeoutMs: 600_000 });
    const tarball = readdirSync(out).find((f) => f.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack wrote no .tgz into ${out}`);
    return join(out, tarball);
  });
  return packed;
}

/** A lock left by a killed run is taken over after this long (a pack takes well under a minute). */
const STALE_LOCK_MS = 10 * 60_000;

async function withPackLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = join(repoRoot, 'node_modules', '.operon-pack.lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** A new project with Operon installed from the packed tarball. */
export interface InstalledProject {
  /** The project's folder (outside the checkout). */
  dir: string;
  /** The tarball it was installed from. */
  tarball: string;
  /** Runs a command in the project with a user's environment (e.g. `npx`, `node`). */
  run(file: string, args: readonly string[], options?: { env?: Record<string, string>; timeoutMs?: number }): Promise<CommandResult>;
}

/**
 * Makes `dir` (created if missing; default: a new temporary folder) a new ESM project, as
 * `npm init -y` and `npm pkg set type=module` do, and installs the packed Operon into it.
 * `devDependencies` are installed beside it (e.g. `['@types/node@24.19.2']`).
 *
 * @example
 * ```ts
 * const project = await packAndInstall();
 * const help = await project.run('npx', ['operon', '--help']);
 * ```
 */
export async function packAndInstall(dir?: string, options: { devDependencies?: readonly string[] } = {}): Promise<InstalledProject> {
  const tarball = await packOperon();
  const projectDir = dir ?? mkdtempSync(join(tmpdir(), 'operon-user-'));
  mkdirSync(projectDir, { recursive: true });
  const npm = (args: readonly string[]) => mustRun('npm', [...args], projectDir, { timeoutMs: 600_000 });
  await npm(['init', '-y']);
  await npm(['pkg', 'set', 'type=module']);
  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball]);
  if (options.devDependencies?.length) await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-dev', ...options.devDependencies]);
  return {
    dir: projectDir,
    tarball,
    run: (file, args, runOptions = {}) => command(file, args, projectDir, runOptions),
  };
}
