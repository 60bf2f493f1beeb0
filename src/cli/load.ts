/**
 * Loads the user's operator files. A file that does not exist, or fails while loading, becomes a
 * `CliError` naming the file and the fix, never Operon's own stack. Node 24 runs `.ts` files
 * directly (type stripping), so operators need no build step.
 *
 * A failure names where it happened, as plain `node` does: a syntax error gives `file:line:col`
 * and a code frame with a caret, in whichever module (the operator or a helper it imports) holds
 * it; an error thrown while a module runs gives the throwing file's `file:line:col` and the
 * user's frames of the stack (Node's and Operon's are dropped).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CustomResource } from '../schema/index.ts';

/** An error the CLI prints as one clear message, with its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Imports each file in order; returns their module namespaces. */
export async function importFiles(files: readonly string[]): Promise<Array<{ file: string; exports: Record<string, unknown> }>> {
  const loaded = [];
  // V8 gives a syntax error in a JavaScript module no location in the error object (Node prints
  // it from internals only). The module loaded last is the one that failed to compile; the hook
  // records it while the files load, and is removed after.
  let lastLoaded: string | undefined;
  // Read here, not imported: an import of a name Node 20 lacks fails before main.ts can say which Node it needs.
  const { registerHooks } = process.getBuiltinModule('node:module');
  const hooks = registerHooks({
    load(url, context, nextLoad) {
      lastLoaded = url;
      return nextLoad(url, context);
    },
  });
  try {
    for (const file of files) {
      const path = resolve(file);
      if (!existsSync(path)) throw new CliError(`no such file: ${file} (give the path of an operator module, e.g. operators/printer/operator.ts)`, 2);
      try {
        loaded.push({ file, exports: (await import(pathToFileURL(path).href)) as Record<string, unknown> });
      } catch (err) {
        throw loadError(file, err, process.cwd(), lastLoaded);
      }
    }
  } finally {
    hooks.deregister();
  }
  return loaded;
}

/**
 * The `CliError` for a module that failed to load, with where it failed. Exit code 2 for a syntax
 * error (the file cannot be run as written), 1 for an error the user's code threw.
 *
 * @example
 * ```ts
 * loadError('op.ts', err).message;
 * // 'loading op.ts failed: SyntaxError at op/syntax.ts:8:24: Expected ')', got '{'\n   7 | …\n > 8 | …\n     |   ^'
 * ```
 */
export function loadError(file: string, err: unknown, cwd = process.cwd(), lastLoaded?: string): CliError {
  if (!(err instanceof Error)) return new CliError(`loading ${file} failed: ${String(err)}`);
  // The first run of a lone file: Node cannot find operon-k8s because no project holds the file.
  if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && err.message.includes("'operon-k8s'") && !inProject(file, cwd)) {
    return new CliError(`${file} is in no project (no package.json at or above it), so operon-k8s cannot be found: create one with npx operon init <dir>, or npm init -y && npm install operon-k8s`, 2); // as project.ts noProject()
  }
  const stack = err.stack ?? '';
  const located = syntaxLocation(err) ?? (err instanceof SyntaxError && lastLoaded?.startsWith('file:') ? checkedLocation(fileURLToPath(lastLoaded)) : undefined);
  if (located) {
    const where = `${shortPath(located.path, cwd)}:${located.line}:${located.column}`;
    const frame = codeFrame(located.path, located.line, located.column);
    return new CliError(`loading ${file} failed: SyntaxError at ${where}: ${err.message}${frame ? `\n${frame}` : ''}`, 2);
  }
  const frames = userFrames(stack, cwd);
  const top = frames[0] !== undefined ? /\(?([^\s()]+:\d+:\d+)\)?$/.exec(frames[0])?.[1] : undefined;
  const what = `${err.name}: ${err.message}`;
  if (top === undefined) return new CliError(`loading ${file} failed: ${what}`);
  return new CliError(`loading ${file} failed at ${top}: ${what}\n${frames.map((f) => `    ${f}`).join('\n')}`);
}

/** Where a syntax error is: V8 and Node's type stripper put `file:line` and a caret line before the stack. */
/** True when a package.json is at or above `file`'s folder. */
function inProject(file: string, cwd: string): boolean {
  for (let dir = dirname(resolve(cwd, file)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return true;
    if (dirname(dir) === dir) return false;
  }
}

function syntaxLocation(err: Error): { path: string; line: number; column: number } | undefined {
  if (!(err instanceof SyntaxError)) return undefined;
  const lines = (err.stack ?? '').split('\n');
  const head = /^((?:file:\/\/)?\/.*?):(\d+)$/.exec(lines[0] ?? '');
  if (!head?.[1] || !head[2]) return undefined;
  const path = head[1].startsWith('file://') ? fileURLToPath(head[1]) : head[1];
  const line = Number(head[2]);
  // The caret line sits under the offending source line; its indent is the column.
  const caretLine = lines.slice(1).find((l) => /^\s*\^+\s*$/.test(l));
  const column = caretLine !== undefined ? caretLine.indexOf('^') + 1 : 1;
  return { path, line, column };
}

/** Where `node --check` finds a syntax error in a JavaScript file (it prints `file:line` and a caret). */
function checkedLocation(path: string): { path: string; line: number; column: number } | undefined {
  try {
    // child_process (with net and dgram) only on this error path: `operon run` keeps it unloaded.
    process.getBuiltinModule('node:child_process').execFileSync(process.execPath, ['--check', path], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
    return undefined;
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '');
    const stack = new SyntaxError('');
    stack.stack = stderr;
    return syntaxLocation(stack);
  }
}

/** Two lines of context before the offending one, and a caret under the column. */
function codeFrame(path: string, line: number, column: number): string | undefined {
  let source: string[];
  try {
    source = readFileSync(path, 'utf8').split(/\r?\n/);
  } catch {
    return undefined;
  }
  const first = Math.max(1, line - 2);
  const width = String(Math.min(source.length, line + 1)).length;
  const out: string[] = [];
  for (let n = first; n <= Math.min(source.length, line + 1); n++) {
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} | ${source[n - 1] ?? ''}`);
    if (n === line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, column - 1))}^`);
  }
  return out.join('\n');
}

/**
 * Operon's own code: the folder holding `cli/` (`src/` in the repository, `dist/src/` in the
 * package, with the package's `src/` that source maps point at). Frames there are the framework
 * reporting the user's mistake, not where it is.
 */
function frameworkDirs(): string[] {
  const dir = new URL('..', import.meta.url).href;
  return dir.endsWith('/dist/src/') ? [dir, new URL('../../src/', import.meta.url).href] : [dir];
}

/** The stack's frames in the user's files, with paths relative to `cwd`; Node's and Operon's dropped. */
function userFrames(stack: string, cwd: string): string[] {
  const framework = frameworkDirs();
  return stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .map((l) => l.trim())
    .filter((l) => l.includes('file://') && !framework.some((dir) => l.includes(dir)))
    .map((l) => l.replace(/file:\/\/[^\s():]+/g, (url) => shortPath(fileURLToPath(url), cwd)));
}

function shortPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith('..') ? path : rel;
}

/** True for a value made by `defineResource`/`resource` (a custom resource declaration). */
export function isCustomResource(value: unknown): value is CustomResource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { crdName?: unknown }).crdName === 'string' &&
    typeof (value as { schemas?: unknown }).schemas === 'object' &&
    typeof (value as { declaration?: unknown }).declaration === 'object'
  );
}

/** The custom resources the modules export, each once, in file and export order. */
export function exportedResources(modules: ReadonlyArray<{ exports: Record<string, unknown> }>): CustomResource[] {
  const seen = new Set<CustomResource>();
  for (const m of modules) for (const value of Object.values(m.exports)) if (isCustomResource(value)) seen.add(value);
  return [...seen];
}
