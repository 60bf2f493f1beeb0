/**
 * Checks that an operator file's project (the nearest package.json above it), when it depends on
 * `operon-k8s`, asks for a version range this CLI satisfies in its major version (in its minor
 * version below 1.0, as npm's caret ranges do). Without the check, the project's handlers could
 * register in a second copy of Operon that this command never reads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './load.ts';

/** The release line of a version or range: `1` for 1.x, `0.3` for 0.3.x; undefined when not semver-like. */
export function releaseLine(versionOrRange: string): string | undefined {
  const match = /^\s*(?:[\^~]|>=|=)?\s*v?(\d+)\.(\d+|x|\*)/.exec(versionOrRange) ?? /^\s*(?:[\^~]|>=|=)?\s*v?(\d+)\s*$/.exec(versionOrRange);
  if (!match) return undefined;
  const [, major, minor] = match;
  return major === '0' && minor !== undefined && /^\d+$/.test(minor) ? `0.${minor}` : major;
}

/** The folder of the nearest package.json at or above `file`'s folder, or undefined. */
export function projectOf(file: string): string | undefined {
  for (let dir = dirname(resolve(file)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The one line for an operator file that no project holds. */
export function noProject(file: string): string {
  return `${file} is in no project (no package.json at or above it), so operon-k8s cannot be found: create one with npx operon init <dir>, or npm init -y && npm install operon-k8s`;
}

function importsOperon(file: string): boolean {
  try {
    return /['"]operon-k8s(\/[a-z]+)?['"]/.test(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Throws a one-line CliError (exit 2) when a file importing operon-k8s is in no project, or when
 * its project asks for another release line of operon-k8s than `cliVersion`.
 */
export function checkProjects(files: readonly string[], cliVersion: string): void {
  const seen = new Set<string>();
  for (const file of files) {
    const project = projectOf(file);
    // A lone file may still run when it does not import operon-k8s; one that does (read here, or
    // found when loading it: load.ts) is told how to make a project, before the type-check would
    // complain about a missing tsconfig.json.
    if (project === undefined) {
      if (importsOperon(file)) throw new CliError(noProject(file), 2);
      continue;
    }
    if (seen.has(project)) continue;
    seen.add(project);
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { name?: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    if (pkg.name === 'operon-k8s') continue;
    const range = pkg.dependencies?.['operon-k8s'] ?? pkg.devDependencies?.['operon-k8s'];
    if (range === undefined) continue;
    const wanted = releaseLine(range);
    const have = releaseLine(cliVersion);
    if (wanted !== undefined && have !== undefined && wanted !== have) {
      throw new CliError(`${join(project, 'package.json')} asks for operon-k8s ${range}, but this operon is ${cliVersion}: run the project's own (npm install, then npx operon), or update the dependency`, 2);
    }
  }
}
