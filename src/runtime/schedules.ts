/**
 * Operator-level schedules (`schedule(fn, { interval })`), run while this replica leads: each
 * waits `initialDelay`, runs, then waits `interval` from the end of its run. Runs of one schedule
 * never overlap. A run that throws is a warn line and the schedule goes on. `stop` aborts the
 * running runs' signal and cancels the waits; it resolves once the runs have returned (a halted
 * leader passes no grace: it does not wait for them).
 */
import { sleep, type Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { OperatorContext } from '../handlers/types.ts';
import type { ScheduleSpec } from '../handlers/types.ts';

/**
 * The schedules of one operator.
 *
 * @example
 * ```ts
 * const schedules = new Schedules(registry.schedules, { clock, logger, context: (signal) => operatorContext({ ...deps, signal }) });
 * schedules.start(); // on leading
 * await schedules.stop();
 * ```
 */
export class Schedules {
  readonly #specs: readonly ScheduleSpec[];
  readonly #deps: { clock: Clock; logger: Logger; context: (signal: AbortSignal, logger: Logger) => OperatorContext };
  readonly #stop = new AbortController();
  readonly #loops: Array<Promise<void>> = [];

  constructor(specs: readonly ScheduleSpec[], deps: { clock: Clock; logger: Logger; context: (signal: AbortSignal, logger: Logger) => OperatorContext }) {
    this.#specs = specs;
    this.#deps = deps;
  }

  /** Starts every schedule (once; a stopped instance stays stopped). */
  start(): void {
    if (this.#loops.length > 0 || this.#stop.signal.aborted) return;
    for (const spec of this.#specs) this.#loops.push(this.#loop(spec));
  }

  /** Stops every schedule; with `wait` false, does not wait for runs in progress. */
  async stop(options: { wait?: boolean } = {}): Promise<void> {
    this.#stop.abort(new Error('the schedule is stopping'));
    if (options.wait ?? true) await Promise.all(this.#loops);
  }

  async #loop(spec: ScheduleSpec): Promise<void> {
    const { clock } = this.#deps;
    const signal = this.#stop.signal;
    const logger = this.#deps.logger.child({ schedule: spec.id });
    let delay = spec.initialDelayMs;
    for (;;) {
      try {
        await sleep(clock, delay, signal);
      } catch {
        return;
      }
      try {
        await spec.fn(this.#deps.context(signal, logger));
        logger.debug(`schedule ${spec.id} ran`);
      } catch (error) {
        if (signal.aborted) return;
        logger.warn({ err: error, nextInMs: spec.intervalMs }, `schedule ${spec.id} failed; it runs again at its next interval`);
      }
      delay = spec.intervalMs;
    }
  }
}
