#!/usr/bin/env node
/**
 * The `operon` command. Parses the command line, dispatches, and turns every failure into a
 * message and an exit code: 2 for usage errors, 1 for everything else.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCommand } from './args.ts';
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

async function main(argv: readonly string[]): Promise<number> {
  const cmd = parseCommand(argv, process.stderr.isTTY === true);
  if (cmd.command === 'crd' || cmd.command === 'rbac' || cmd.command === 'run') checkSameCopy();
  switch (cmd.command) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'usage':
      process.stderr.write(`operon: ${cmd.message}\n`);
      return cmd.exitCode;
    case 'version': {
      // Through the package's own name (self-reference): the same file whether this runs as
      // src/cli/main.ts in the repository or as dist/src/cli/main.js in node_modules.
      const pkg = JSON.parse(readFileSync(new URL(import.meta.resolve('operon-k8s/package.json')), 'utf8')) as { name: string; version: string };
      process.stdout.write(`operon (${pkg.name}) ${pkg.version} (node ${process.version})\n`);
      return 0;
    }
    case 'crd':
      // Each command is loaded on use: `run` never pays for the YAML writer `crd` and `rbac` need.
      process.stdout.write(await (await import('./crd.ts')).crdCommand(cmd.files));
      return 0;
    case 'rbac':
      process.stdout.write(await (await import('./rbac.ts')).rbacCommand(cmd));
      return 0;
    case 'run':
      return (await import('./run.ts')).runCommand(cmd);
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
