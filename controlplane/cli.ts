#!/usr/bin/env node
/**
 * The repository's short way to the local control plane: the same as `operon cluster <action>`
 * (src/cli/cluster.ts), kept for scripts and habits.
 *
 *   node controlplane/cli.ts up [--quiet] | status | env | restart <component> | down | reset
 *
 * OPERON_CONTROLPLANE_DIR chooses the state folder (default in this checkout: .cache/controlplane).
 * OPERON_REAL_NODE=0 leaves the real node out, =1 makes `up` fail without it (docs/real-node.md).
 */
import { parseCommand } from '../src/cli/args.ts';

const cmd = parseCommand(['cluster', ...process.argv.slice(2)]);
try {
  switch (cmd.command) {
    case 'invoke':
      process.exitCode = await cmd.run();
      break;
    case 'help':
      process.stdout.write(cmd.text);
      break;
    case 'usage':
      process.stderr.write(`${cmd.message}\n`);
      process.exitCode = cmd.exitCode;
      break;
    case 'version':
      break;
  }
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = typeof (err as { exitCode?: unknown }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1;
}
