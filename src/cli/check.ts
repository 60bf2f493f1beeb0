/**
 * `operon check`: type-checks the user's project with the user's own tsconfig and the user's own
 * TypeScript (`tsc --noEmit -p <tsconfig>`, resolved from the project's node_modules). Node runs
 * `.ts` files by stripping the types without reading them, so without this step a typo such as
 * `patch.spec.replcias` runs and the API server drops the field silently.
 *
 * The compiler runs in a child process: loading `typescript` costs well over 100 MB, which must
 * never stay resident in the operator that `operon run` starts after a passing check.
 *
 * The files named on the command line are checked even when the tsconfig's `include` leaves them
 * out (a `scratch/try.ts` beside a project whose `include` is `src`): tsc then reads a config of
 * Operon's, `.operon/tsconfig.check.json` in the project, that extends the user's and adds them
 * to the files the user's program has.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { CheckCommand } from './options.ts';
import { CliError } from './load.ts';

/** The nearest `tsconfig.json` at or above `from` (a file or a directory). */
export function findTsconfig(from: string): string | undefined {
  let dir = resolve(from);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) dir = dirname(dir);
  for (;;) {
    const candidate = resolve(dir, 'tsconfig.json');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Where the check runs from and with what: for the message when it fails. */
export interface CheckOptions {
  files: readonly string[];
  tsconfig: string | undefined;
  /** Where tsc's diagnostics go: stdout for `operon check`, stderr before `operon run` (its stdout is logs). */
  output: Writable;
  /** Appended to the failure message, e.g. how to skip the check. */
  hint?: string;
}

/**
 * Runs the check; resolves when the project type-checks, throws a {@link CliError} (exit 2) with
 * one line saying what to do when it does not, after tsc's own diagnostics.
 *
 * @example
 * ```ts
 * await typeCheck({ files: ['operator.ts'], tsconfig: undefined, output: process.stdout });
 * ```
 */
export async function typeCheck(options: CheckOptions): Promise<void> {
  const start = options.files[0] ?? '.';
  const tsconfig = options.tsconfig !== undefined ? resolve(options.tsconfig) : findTsconfig(start);
  const hint = options.hint ? `, ${options.hint}` : '';
  if (tsconfig === undefined || !existsSync(tsconfig)) {
    const which = options.tsconfig ?? `tsconfig.json at or above ${start}`;
    throw new CliError(`check: no ${which}: create one (npx tsc --init) or name it with --tsconfig${hint}`, 2);
  }
  const project = dirname(tsconfig);
  let tsc: string;
  try {
    tsc = createRequire(resolve(project, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    throw new CliError(`check: TypeScript is not installed in ${shown(project)}: install it with npm install --save-dev typescript${hint}`, 2);
  }
  const config = await withEntryFiles(tsc, tsconfig, options.files);
  const child = spawn(process.execPath, [tsc, '--noEmit', '--pretty', String(options.output === process.stdout ? process.stdout.isTTY === true : process.stderr.isTTY === true), '-p', config], {
    cwd: project,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(options.output, { end: false });
  child.stderr.pipe(options.output, { end: false });
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', done);
  });
  if (code !== 0) throw new CliError(`check: type errors in the project of ${shown(tsconfig)} (listed above): fix them${hint}`, 2);
}

/**
 * The config tsc reads: the user's, or, when a named file is not in its program, one that extends
 * it and lists the program's files (as `tsc --showConfig` resolves them: a `files` list replaces
 * the default `include` of everything) and the named ones. It lives in the project's `.operon/`
 * (which the project template ignores), so type roots and node_modules resolve as from the user's
 * own. When anything here fails, the project is checked as its tsconfig says.
 */
async function withEntryFiles(tsc: string, tsconfig: string, files: readonly string[]): Promise<string> {
  const entries = files.filter((f) => /\.[cm]?tsx?$/.test(f)).map((f) => resolve(f));
  if (entries.length === 0) return tsconfig;
  const project = dirname(tsconfig);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [tsc, '--showConfig', '-p', tsconfig], { cwd: project, maxBuffer: 64 * 1024 * 1024 });
    const shownConfig = JSON.parse(stdout) as { files?: string[]; compilerOptions?: Record<string, unknown> };
    const listed = (shownConfig.files ?? []).map((f) => resolve(project, f));
    const missing = entries.filter((e) => !listed.includes(e));
    if (missing.length === 0) return tsconfig;
    const derived = join(project, '.operon', 'tsconfig.check.json');
    mkdirSync(dirname(derived), { recursive: true });
    writeFileSync(derived, `${JSON.stringify({ extends: tsconfig, ...rootDirOf(shownConfig.compilerOptions ?? {}, project), files: [...listed, ...missing] }, null, 2)}\n`);
    return derived;
  } catch {
    return tsconfig;
  }
}

/**
 * The user's rootDir, for the derived config: TypeScript 6 holds every file to a rootDir when the
 * options lay out output (outDir, declaration…), and defaults it to the folder of the config tsc
 * reads, which for the derived one would be `.operon/`. Nothing when the user's options have none.
 */
function rootDirOf(options: Record<string, unknown>, project: string): { compilerOptions?: { rootDir: string } } {
  if (typeof options['rootDir'] === 'string') return { compilerOptions: { rootDir: resolve(project, options['rootDir']) } };
  const laysOut = ['outDir', 'declaration', 'declarationDir', 'composite'].some((o) => options[o] !== undefined && options[o] !== false);
  return laysOut ? { compilerOptions: { rootDir: project } } : {};
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

/** `operon check [<file>...] [--tsconfig PATH]`: exit 0 when the project type-checks. */
export async function checkCommand(cmd: CheckCommand): Promise<number> {
  await typeCheck({ files: cmd.files, tsconfig: cmd.tsconfig, output: process.stdout });
  process.stderr.write(`operon check: no type errors\n`);
  return 0;
}
