#!/usr/bin/env node
/**
 * The `operon` command. Parses the command line, dispatches, and turns every failure into a
 * message and an exit code: 2 for usage errors, 1 for everything else.
 */
import { readFileSync } from 'node:fs';
import { parseCommand } from './args.ts';
import { CliError } from './load.ts';

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'webhooks') return (await import('./webhooks.ts')).webhooksMain(argv.slice(1));
  const cmd = parseCommand(argv, process.stderr.isTTY === true);
  switch (cmd.command) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'usage':
      process.stderr.write(`operon: ${cmd.message}\n`);
      return cmd.exitCode;
    case 'version': {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      process.stdout.write(`operon ${pkg.version} (node ${process.version})\n`);
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
