#!/usr/bin/env node
/**
 * The `operon` command. Parses the command line, dispatches, and turns every failure into a
 * message and an exit code: 2 for usage errors and other user mistakes (one line, no stack), 1
 * for everything else. Subcommands are loaded on use (see `args.ts`): every import here is paid
 * in the resident memory of every operator.
 */
import { readFileSync } from 'node:fs';
import { parseCommand } from './args.ts';
import { CliError } from './load.ts';

async function main(argv: readonly string[]): Promise<number> {
  const cmd = parseCommand(argv, { isTty: process.stderr.isTTY === true, production: process.env.NODE_ENV === 'production' });
  switch (cmd.command) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'usage':
      process.stderr.write(`${cmd.message}\n`);
      return cmd.exitCode;
    case 'version': {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      process.stdout.write(`operon ${pkg.version} (node ${process.version})\n`);
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
