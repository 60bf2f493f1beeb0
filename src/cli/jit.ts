/**
 * V8's optimizing compilers on demand: `operon run --jit lazy`, the default (`defaults.memory.jit`).
 *
 * V8 optimizes a function once it has run often enough, and loading an operator (some 140 modules,
 * thousands of calls into Node's path and URL helpers) is often enough: Maglev and TurboFan run
 * during start-up, and the pages of the `node` binary they execute, their zones and their output
 * stay resident. An operator that then sits idle never needed them: 70.8 MiB of resident memory
 * with them, 64.5 without, for the CVC operator with no objects (docs/performance.md, "Idle:
 * optimizing compilers on demand").
 *
 * So `operon run` (and `operon prepare`, which compiles the files the way `run` will) turns both
 * off as soon as its command line is parsed, before its own modules and the operator's files load
 * (the interpreter and the Sparkplug baseline compiler stay), and turns them on for good the first
 * time the process uses `defaults.memory.busyCpuMs` of CPU within one
 * `defaults.memory.busyWindowMs` after the operator has started: the first burst of objects, a
 * catch-up over many objects at start, a resync. From then on V8 tiers up as it always does.
 *
 * Guarantees:
 * - Only V8's tiering changes, never what the code does; a process started with its own tiering
 *   flags (`--no-opt`, `--maglev`, `--jitless`, `--invocation-count-for-…`, on the command line or
 *   in NODE_OPTIONS) is left as its owner chose (see {@link tieringChosen}).
 * - The switches change at run time (`v8.setFlagsFromString`), not on the command line: V8 sets up
 *   its concurrent Maglev compiler only when Maglev is on as the isolate starts, so a process
 *   started with `--no-maglev` would compile on its main thread once Maglev came back. V8's flag
 *   definitions make `--no-turbofan` imply no on-stack replacement from Maglev code to TurboFan,
 *   and nothing restores it when TurboFan comes back, so {@link LazyJit.enable} sets it.
 * - A function that got hot while the compilers were off is optimized as soon after they come on
 *   as it would have been with them on all along. V8 counts each function's calls (in bytecode
 *   executed) down from a budget, and when the budget runs out decides whether to optimize and
 *   sets the next budget. With Maglev off that next budget is TurboFan's (3,000 calls), not
 *   Maglev's (400), and it stays set when Maglev comes back: the hot functions of a burst waited
 *   up to 3,000 more calls, and a 1,000-Printer burst optimized a quarter of the functions it does
 *   with the compilers on from the start, for 9–20% more CPU. So while deferred, TurboFan's count
 *   is set to Maglev's, and {@link LazyJit.enable} puts it back (`test/unit/cli/jit.test.ts`
 *   checks both counts against `node --v8-options`).
 * - Raising V8's tier-up thresholds instead of the switches (`--invocation-count-for-maglev` and
 *   the like, plain numbers) was measured and saves nothing this late, probably because the
 *   functions that get hot while modules load are Node's own, whose budgets were set when Node
 *   started.
 * - Once on, never off again.
 */
import { systemClock } from '../base/clock.ts';
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import { defaults } from '../defaults.ts';

/** `operon run --jit`: `lazy` (the default) turns the optimizing compilers on at the first sign of work, `eager` leaves V8's tiering alone. */
export type JitMode = 'lazy' | 'eager';

/** What {@link LazyJit} needs from the process; injected so tests run it without touching V8. */
export interface JitHost {
  /** `v8.setFlagsFromString`. */
  setFlags(flags: string): void;
  /** CPU time this process has used, user and system, in microseconds. */
  cpuMicros(): number;
}

/** The process's own V8 and CPU clock. */
export const processJitHost: JitHost = {
  setFlags: (flags) => process.getBuiltinModule('node:v8').setFlagsFromString(flags),
  cpuMicros: () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  },
};

/**
 * V8's defaults (Node 24, V8 13.6; `node --v8-options`): the calls, counted in bytecode executed,
 * after which a function is sent to Maglev, and after which one that has no Maglev to go to is sent
 * to TurboFan.
 */
export const V8_INVOCATIONS_FOR_MAGLEV = 400;
export const V8_INVOCATIONS_FOR_TURBOFAN = 3000;

/** A V8 flag that chooses tiers; V8 reads `_` and `-` alike. */
const TIERING_FLAG = /^--(no-)?(opt|turbofan|maglev|sparkplug|jitless|lite-mode|always-turbofan|always-sparkplug)(=|$)|^--invocation-count-for-/;

/**
 * Whether the process was started with flags of its own that choose V8's tiers; then
 * {@link LazyJit} leaves V8 alone.
 *
 * @example
 * ```ts
 * tieringChosen(['--max-semi-space-size=1'], undefined); // false
 * tieringChosen([], '--no-opt --max-old-space-size=256'); // true
 * ```
 */
export function tieringChosen(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const words = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return words.some((word) => TIERING_FLAG.test(word.replace(/_/g, '-')));
}

/** Options of {@link LazyJit}. */
export interface LazyJitOptions {
  host?: JitHost;
  /** The windows' timer. Default: {@link systemClock}. */
  clock?: Clock;
  /** Default `defaults.memory.busyCpuMs`. */
  busyCpuMs?: number;
  /** Default `defaults.memory.busyWindowMs`. */
  windowMs?: number;
}

/**
 * Holds V8's optimizing compilers off until the process is busy.
 *
 * @example
 * ```ts
 * const jit = new LazyJit();
 * jit.defer();                 // before loading the operator
 * await import('./operator.ts');
 * jit.watch(logger);           // once it runs: the first busy second turns the compilers on
 * ```
 */
export class LazyJit {
  readonly #host: JitHost;
  readonly #clock: Clock;
  readonly #busyMicros: number;
  readonly #windowMs: number;
  #state: 'default' | 'deferred' | 'on' = 'default';
  #cancel: (() => void) | undefined;

  constructor(options: LazyJitOptions = {}) {
    this.#host = options.host ?? processJitHost;
    this.#clock = options.clock ?? systemClock;
    this.#busyMicros = (options.busyCpuMs ?? defaults.memory.busyCpuMs) * 1_000;
    this.#windowMs = options.windowMs ?? defaults.memory.busyWindowMs;
  }

  /** Whether the optimizing compilers are on: before {@link defer}, and after the first busy window. */
  get enabled(): boolean {
    return this.#state !== 'deferred';
  }

  /** Turns the optimizing compilers off; call it before the bulk of the modules load. */
  defer(): void {
    if (this.#state !== 'default') return;
    this.#state = 'deferred';
    this.#host.setFlags('--no-turbofan');
    this.#host.setFlags('--no-maglev');
    // The budget V8 gives a function while Maglev is off is TurboFan's, and it outlives the
    // deferral: Maglev's keeps the functions hot now ready for Maglev once it is back.
    this.#host.setFlags(`--invocation-count-for-turbofan=${V8_INVOCATIONS_FOR_MAGLEV}`);
  }

  /**
   * Measures the CPU this process uses in each window from now on, and turns the compilers on
   * after the first window that reaches the threshold. The work before this call (loading the
   * modules) does not count.
   */
  watch(logger?: Logger): void {
    if (this.#state !== 'deferred' || this.#cancel) return;
    let last = this.#host.cpuMicros();
    const window = (): void => {
      const now = this.#host.cpuMicros();
      const used = now - last;
      last = now;
      if (used < this.#busyMicros) {
        this.#cancel = this.#clock.setTimer(this.#windowMs, window);
        return;
      }
      this.enable();
      logger?.debug({ cpuMs: Math.round(used / 1_000), windowMs: this.#windowMs }, "busy: V8's optimizing compilers on");
    };
    this.#cancel = this.#clock.setTimer(this.#windowMs, window);
  }

  /** Turns the compilers on for good (idempotent). */
  enable(): void {
    this.stop();
    if (this.#state !== 'deferred') return;
    this.#state = 'on';
    this.#host.setFlags('--turbofan');
    this.#host.setFlags('--maglev');
    // `--no-turbofan` implied no on-stack replacement from Maglev code to TurboFan (V8's flag
    // definitions), and nothing restores it with TurboFan.
    this.#host.setFlags('--osr-from-maglev');
    this.#host.setFlags(`--invocation-count-for-turbofan=${V8_INVOCATIONS_FOR_TURBOFAN}`);
  }

  /** Stops measuring; the compilers stay as they are. */
  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }
}

/** The process's own: V8's flags are the process's, so there is one. */
export const processJit = new LazyJit();

/**
 * For `operon run --jit <mode>` and `operon prepare`: defers the process's optimizing compilers ({@link processJit}),
 * unless the mode is `eager` or the process was started with tiering flags of its own. Call it as
 * early as the mode is known: resolving and loading modules is what wakes the compilers.
 *
 * @example
 * ```ts
 * deferJit('lazy');
 * const { runCommand } = await import('./run.ts');
 * ```
 */
export function deferJit(mode: JitMode): void {
  if (mode === 'lazy' && !tieringChosen(process.execArgv, process.env['NODE_OPTIONS'])) processJit.defer();
}
