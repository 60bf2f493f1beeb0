/**
 * How a test starts a Node process that runs Operon from its `.ts` sources. `operon-k8s` resolves
 * through package.json `exports`; the `operon-source` condition picks `src/` there, without it
 * Node picks the compiled `dist/` (what users get). Child processes do not inherit the test
 * runner's `--conditions`, so every spawn of `src/cli/main.ts` or of an operator passes these.
 */
export const FROM_SOURCE: readonly string[] = ['--conditions=operon-source'];

// A test run without the condition would test the compiled dist/ (or a stale one) while the test
// itself imports src/: two copies of Operon. Fail at once, naming the fix.
const resolved = import.meta.resolve('operon-k8s');
if (!resolved.endsWith('/src/index.ts')) {
  throw new Error(`operon-k8s resolves to ${resolved}, not to the sources: run tests with node --conditions=operon-source (the npm scripts do; docs/development.md)`);
}
