/**
 * Node's compile cache for operators written in TypeScript, and `operon prepare`, which fills it
 * when an image is built.
 *
 * Node runs a `.ts` file by stripping its types with a WebAssembly build of SWC, and loading that
 * stripper costs an operator about 28 MiB of resident memory for the life of the process (the CVC
 * operator from its `.ts` sources: 100.8 MiB idle, 72.7 with the cache; docs/performance.md,
 * "Idle: the TypeScript stripper"). Node's compile cache keeps the stripped text of each file
 * (and V8's compiled code) on disk, keyed by path and checked against the file's content: from
 * the second start on, an unchanged file is never stripped again and the stripper never loads.
 *
 * So the commands that load the user's files turn the cache on before the first of them loads,
 * when any of them is TypeScript ({@link cacheCompiledTypeScript}). Where it lives is Node's own
 * choice: `NODE_COMPILE_CACHE`, else `<tmpdir>/node-compile-cache`; `NODE_DISABLE_COMPILE_CACHE=1`
 * turns it off. An operator made only of `.js` files is left alone: V8's code cache would hold it
 * about 1 MiB more, for a faster start it does not need.
 *
 * A container starts from a read-only image, so its cache must be filled when the image is built:
 * `operon prepare src/operator.ts` loads the files (as `operon crd` does: nothing connects to a
 * cluster) and writes the cache at once. Node names the cache's folder after the user that wrote
 * it (`v24.21.0-x64-<flags>-<uid>`), so an image built by one user and run by another (65532)
 * needs `--uid`. A cache that misses (another Node version, other V8 flags, a changed file) only
 * costs the stripper again: Node never runs stale code from it, and a cache it cannot write is
 * ignored without a message.
 */
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { PrepareCommand } from './options.ts';
import { CliError, importFiles } from './load.ts';

const TYPESCRIPT = /\.[mc]?ts$/;

/** What turning the cache on gave: Node's `module.enableCompileCache()` result, its status by name. */
export interface CompileCacheState {
  status: 'enabled' | 'already-enabled' | 'failed' | 'disabled';
  /** The cache's folder (Node adds one subfolder per Node version, V8 flags and user). */
  directory: string | undefined;
  /** Why it failed, from Node. */
  message: string | undefined;
}

/**
 * Turns Node's compile cache on when any of `files` is TypeScript, before they load. Must run
 * before `--jit lazy` changes V8's flags: Node names the cache's folder after the flags in force
 * when it is turned on, and `operon prepare` runs with the command line's own. (The code V8 keeps
 * in each entry is checked against the flags in force as the file compiles, which is why `prepare`
 * defers the compilers as `run` does.)
 *
 * @example
 * ```ts
 * cacheCompiledTypeScript(['src/operator.ts']); // { status: 'enabled', directory: '/tmp/node-compile-cache', … }
 * ```
 */
export function cacheCompiledTypeScript(files: readonly string[]): CompileCacheState | undefined {
  if (!files.some((file) => TYPESCRIPT.test(file))) return undefined;
  return enableCompileCache();
}

function enableCompileCache(): CompileCacheState {
  const { enableCompileCache: enable, constants } = process.getBuiltinModule('node:module');
  const result = enable();
  const names = { [constants.compileCacheStatus.ENABLED]: 'enabled', [constants.compileCacheStatus.ALREADY_ENABLED]: 'already-enabled', [constants.compileCacheStatus.FAILED]: 'failed', [constants.compileCacheStatus.DISABLED]: 'disabled' } as const;
  return { status: names[result.status] ?? 'failed', directory: result.directory, message: result.message };
}

/**
 * `operon prepare`: loads the files with the compile cache on and writes it, so that an operator
 * started later from the same files (same paths, or the same paths relative to the cache with
 * `NODE_COMPILE_CACHE_PORTABLE=1`) loads no TypeScript stripper. Prints where the cache is.
 *
 * @example
 * ```ts
 * await prepareCommand({ command: 'prepare', files: ['src/operator.ts'], uid: 65532 });
 * ```
 */
export async function prepareCommand(options: PrepareCommand, out: NodeJS.WritableStream = process.stderr): Promise<number> {
  const state = enableCompileCache();
  if (state.status === 'disabled') throw new CliError('NODE_DISABLE_COMPILE_CACHE is set, so Node keeps no compile cache: unset it for operon prepare', 2);
  if (state.status === 'failed' || state.directory === undefined) {
    const where = state.directory ?? process.env['NODE_COMPILE_CACHE'];
    throw new CliError(`Node could not open its compile cache${where ? ` in ${where}` : ''}: ${state.message ?? 'no reason given'}; set NODE_COMPILE_CACHE to a folder this user can write`, 1);
  }
  await importFiles(options.files);
  process.getBuiltinModule('node:module').flushCompileCache();
  const own = process.getuid?.();
  // Turned on by us, Node answers with the folder it was given; turned on at start (the
  // NODE_COMPILE_CACHE variable), with the subfolder it resolved for this process.
  const base = basename(state.directory).startsWith(tagPrefix()) ? dirname(state.directory) : state.directory;
  const folder = base === state.directory ? cacheFolder(base, own) : state.directory;
  if (folder === undefined || !existsSync(folder)) throw new CliError(`Node wrote no compile cache for this user in ${base}`, 1);
  let target = folder;
  if (options.uid !== undefined && own !== undefined && options.uid !== own) {
    target = join(base, basename(folder).replace(/-\d+$/, `-${options.uid}`));
    rmSync(target, { recursive: true, force: true });
    renameSync(folder, target);
  }
  const entries = readdirSync(target).length;
  out.write(`operon prepare: ${entries} compiled modules cached in ${target}; start the operator with NODE_COMPILE_CACHE=${base}${process.env['NODE_COMPILE_CACHE_PORTABLE'] === '1' ? ' and NODE_COMPILE_CACHE_PORTABLE=1' : ''}, as user ${options.uid ?? own ?? 'this user'}, with the same Node and V8 flags\n`);
  return 0;
}

/** How Node's cache subfolders for this Node version and architecture begin. */
function tagPrefix(): string {
  return `v${process.versions.node}-${process.arch}-`;
}

/**
 * The subfolder this process wrote: Node's for this Node version, architecture and user
 * (`v24.21.0-x64-<flags>-<uid>`), the newest of them where other V8 flags left others.
 */
function cacheFolder(directory: string, uid: number | undefined): string | undefined {
  const prefix = tagPrefix();
  const mine = readdirSync(directory)
    .filter((name) => name.startsWith(prefix) && (uid === undefined || name.endsWith(`-${uid}`)))
    .map((name) => ({ path: join(directory, name), at: statSync(join(directory, name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  return mine[0]?.path;
}
