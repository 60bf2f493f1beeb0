/**
 * Loads the user's operator files. A file that does not exist, or fails while loading, becomes a
 * `CliError` naming the file and the fix, never a raw stack trace. Node 24 runs `.ts` files
 * directly (type stripping), so operators need no build step.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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
  for (const file of files) {
    const path = resolve(file);
    if (!existsSync(path)) throw new CliError(`no such file: ${file} (give the path of an operator module, e.g. operators/printer/operator.ts)`, 2);
    try {
      loaded.push({ file, exports: (await import(pathToFileURL(path).href)) as Record<string, unknown> });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new CliError(`loading ${file} failed: ${why}`);
    }
  }
  return loaded;
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
