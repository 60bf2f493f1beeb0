/**
 * Running an operator as a process: SIGTERM and SIGINT stop it gracefully (watches stop, running
 * handlers get `shutdownGraceMs`, cleanup handlers run), and the process exits 0. A second signal
 * while stopping exits at once with code 130, for the impatient Ctrl-C. This is what `operon run`
 * calls; embedders who own the process use `operator.run({ signal })` directly.
 */
import type { Operator } from './operator.ts';

/**
 * Runs `operator` until SIGTERM or SIGINT; sets `process.exitCode` (0 after a clean stop, 1 when
 * startup failed) and removes its signal listeners when done.
 *
 * @example
 * ```ts
 * await runUntilSignalled(new Operator({ namespaces: ['shop'] }));
 * ```
 */
export async function runUntilSignalled(operator: Operator, signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  for (const signal of signals) process.on(signal, onSignal);
  try {
    await operator.run({ signal: stop.signal });
    process.exitCode = 0;
  } catch {
    process.exitCode = 1;
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
}
