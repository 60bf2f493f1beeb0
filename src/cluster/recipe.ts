/**
 * Where the local control plane's recipe and state live. The recipe (the Go wrapper module,
 * build.sh, kwok stages, the node image script) ships in the package's `controlplane/` folder, so
 * it resolves the same from the repository (src/cluster/) and from an installed package
 * (node_modules/operon-k8s/dist/src/cluster/). State never goes into node_modules.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The first folder at or above `from` that holds `marker`, or undefined. */
export function findUp(from: string, marker: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, marker))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The package's controlplane/ folder (build.sh, go.mod, kwok/, node/). */
export const controlplaneDir = join(findUp(dirname(fileURLToPath(import.meta.url)), 'controlplane/build.sh') ?? '/nonexistent', 'controlplane');

/**
 * The default state folder of the local plane:
 * 1. `OPERON_CONTROLPLANE_DIR`, when set;
 * 2. in Operon's own checkout, `.cache/controlplane` (ignored by git), as its scripts expect;
 * 3. in a project (the nearest package.json above the current directory), `.operon/cluster`, which
 *    `operon init`'s .gitignore leaves out;
 * 4. elsewhere, `$XDG_CACHE_HOME/operon/cluster` (default `~/.cache/operon/cluster`).
 */
export function stateDirFor(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  const given = env['OPERON_CONTROLPLANE_DIR'];
  if (given !== undefined && given !== '') return resolve(given);
  const project = findUp(cwd, 'package.json');
  if (project !== undefined && !project.split('/').includes('node_modules')) {
    const name = (JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { name?: string }).name;
    return name === 'operon-k8s' ? join(project, '.cache', 'controlplane') : join(project, '.operon', 'cluster');
  }
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'operon', 'cluster');
}
