/**
 * How a test starts a Node process that runs Operon from its `.ts` sources. `operon-k8s` resolves
 * through package.json `exports`; the `operon-source` condition picks `src/` there, without it
 * Node picks the compiled `dist/` (what users get). Child processes do not inherit the test
 * runner's `--conditions`, so every spawn of `src/cli/main.ts` or of an operator passes these.
 */
export const FROM_SOURCE: readonly string[] = ['--conditions=operon-source'];
