#!/usr/bin/env node
/**
 * The `operon` command. Parses the command line, dispatches, and turns every failure into a
 * message and an exit code: 2 for usage errors and other user mistakes (one line, no stack), 1
 * for everything else. Subcommands are loaded on use (see `args.ts`): every import here is paid
 * in the resident memory of every operator.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCommand } from './args.ts';
import { cacheCompiledTypeScript } from './compile-cache.ts';
import { deferJit, type JitMode } from './jit.ts';
import { CliError } from './load.ts';

/**
 * The operator files import `operon-k8s`; this command must be that same copy, or their handlers
 * land in a registry the command never reads. From the repository's .ts sources that needs Node's
 * `operon-source` condition, without which `operon-k8s` means the compiled dist/.
 */
function checkSameCopy(): void {
  const here = new URL(import.meta.url.endsWith('.ts') ? '../index.ts' : '../index.js', import.meta.url).href;
  if (import.meta.resolve('operon-k8s') !== here) {
    throw new CliError(`this operon command (${fileURLToPath(import.meta.url)}) runs from the sources, but operon-k8s resolves to ${fileURLToPath(import.meta.resolve('operon-k8s'))}: run it as node --conditions=operon-source src/cli/main.ts (or npm run operon --)`, 2);
  }
}

/**
 * This command's package.json, through the package's own name (self-reference): the same file
 * whether this runs as src/cli/main.ts in the repository or as dist/src/cli/main.js in node_modules.
 */
function ownPackage(): { name: string; version: string } {
  return JSON.parse(readFileSync(new URL(import.meta.resolve('operon-k8s/package.json')), 'utf8')) as { name: string; version: string };
}

/** The commands that load the user's operator files. */
const FILE_COMMANDS = new Set(['run', 'crd', 'rbac', 'webhooks', 'prepare']);
/** Those of them that must share this command's copy of `operon-k8s` and check the project's versions. */
const PROJECT_COMMANDS = new Set(['run', 'crd', 'rbac', 'prepare']);

/** Node's type stripping runs users' `.ts` files, and module hooks load them: both need Node 24. */
const MIN_NODE_MAJOR = 24;

async function main(argv: readonly string[]): Promise<number> {
  if (Number(process.versions.node.split('.')[0]) < MIN_NODE_MAJOR) {
    throw new CliError(`needs Node.js ${MIN_NODE_MAJOR} or later (it runs .ts files with Node's type stripping); this is Node ${process.version}. Install Node ${MIN_NODE_MAJOR} (nodejs.org, or a version manager such as nvm or fnm) and run it again`, 2);
  }
  const cmd = parseCommand(argv, { isTty: process.stderr.isTTY === true, production: process.env.NODE_ENV === 'production' });
  if (cmd.command === 'invoke' && FILE_COMMANDS.has(cmd.name)) {
    const options = cmd.options as { files: string[]; jit?: JitMode };
    // Before the files load, and before --jit lazy changes V8's flags (which name the cache's folder).
    cacheCompiledTypeScript(options.files);
    // --jit lazy: before anything else loads, since checking the projects and loading run.ts and the
    // operator's files are what would wake V8's optimizing compilers (jit.ts). `run` takes --jit, and
    // so does `prepare`, which compiles the files under the flags `run` will load them with: V8
    // refuses cached code made under other flags.
    if (options.jit !== undefined) deferJit(options.jit);
    if (PROJECT_COMMANDS.has(cmd.name)) {
      checkSameCopy();
      (await import('./project.ts')).checkProjects(options.files, ownPackage().version);
    }
  }
  switch (cmd.command) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'usage':
      process.stderr.write(`${cmd.message}\n`);
      return cmd.exitCode;
    case 'version': {
      const pkg = ownPackage();
      process.stdout.write(`operon (${pkg.name}) ${pkg.version} (node ${process.version})\n`);
      return 0;
    }
    case 'invoke':
      return cmd.run();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`operon: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`operon: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
