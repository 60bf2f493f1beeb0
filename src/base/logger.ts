/**
 * The logging interface every layer writes to: pino's shape (`logger.info({ obj }, 'message')`,
 * `child(bindings)`), so a pino logger is passed as is, and tests pass {@link silentLogger} or a
 * recording one. Components bind `namespace` and `name` into child loggers, so every line about an
 * object names it.
 */

export interface LogFn {
  (obj: Record<string, unknown>, msg?: string): void;
  (msg: string): void;
}

/**
 * Where Operon and handlers write their log lines; a pino logger fits as it is.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const operator = new Operator({ registry, logger: pino() });
 * ```
 */
export interface Logger {
  /** Lines shown with `--verbose`: every handler run, watch reconnect and write. */
  debug: LogFn;
  /** What an operator normally says: handlers done, leadership gained. */
  info: LogFn;
  /** Something went wrong and will be retried. */
  warn: LogFn;
  /** Something failed for good, or needs a human. */
  error: LogFn;
  /** A logger that adds `bindings` (e.g. `{ namespace, name }`) to every line it writes. */
  child(bindings: Record<string, unknown>): Logger;
  /** Whether lines of `level` are written (pino's). Absent means every level is. */
  isLevelEnabled?(level: LogRecord['level']): boolean;
}

const noop = (): void => {};

/** Discards everything. The default where no logger is given. */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};

/**
 * A child logger made on its first line, not before. Every handling cycle binds the object's
 * namespace and name, and most cycles write no line at the level that is on; a pino child costs
 * about 1 KB of garbage each (10.7 MiB per 10,000 cycles, docs/performance.md). A line below the
 * parent's level makes no child either. `child` of a lazy child is lazy too, and makes its child
 * of the parent's when a line is written; the parent's child is made once and shared. Like pino's,
 * the methods need the logger as `this`: they live on the prototype, so a cycle's logger is one
 * small object, not a closure per level.
 *
 * @example
 * ```ts
 * const log = lazyChild(logger, { namespace: 'shop', name: 'btc' });
 * log.debug('reconciled'); // no child made while debug is off
 * log.info('valued');      // the child is made now, and kept
 * ```
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  return new LazyLogger(parent, bindings);
}

class LazyLogger implements Logger {
  readonly #parent: Logger;
  readonly #bindings: Record<string, unknown>;
  #made: Logger | undefined;

  constructor(parent: Logger, bindings: Record<string, unknown>) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  /** The real child, made now if not yet. */
  #child(): Logger {
    if (this.#made !== undefined) return this.#made;
    const parent = this.#parent;
    this.#made = (parent instanceof LazyLogger ? parent.#child() : parent).child(this.#bindings);
    return this.#made;
  }

  #write(level: LogRecord['level'], args: [Record<string, unknown> | string, string?]): void {
    if (this.#parent.isLevelEnabled?.(level) === false) return;
    const child = this.#child();
    (child[level] as (...a: typeof args) => void).apply(child, args);
  }

  debug(...args: [Record<string, unknown> | string, string?]): void {
    this.#write('debug', args);
  }
  info(...args: [Record<string, unknown> | string, string?]): void {
    this.#write('info', args);
  }
  warn(...args: [Record<string, unknown> | string, string?]): void {
    this.#write('warn', args);
  }
  error(...args: [Record<string, unknown> | string, string?]): void {
    this.#write('error', args);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new LazyLogger(this, bindings);
  }
  isLevelEnabled(level: LogRecord['level']): boolean {
    return this.#parent.isLevelEnabled?.(level) ?? true;
  }
}

/** One recorded line of a {@link recordingLogger}. */
export interface LogRecord {
  /** The method that wrote it. */
  level: 'debug' | 'info' | 'warn' | 'error';
  /** The message. */
  msg: string;
  [key: string]: unknown;
}

/**
 * Keeps every line in memory, with the bindings of its child loggers, so tests can assert what an
 * operator said.
 *
 * @example
 * ```ts
 * const { logger, records } = recordingLogger();
 * logger.child({ name: 'x' }).warn({ reason: 'bad' }, 'skipped');
 * records[0]; // { level: 'warn', msg: 'skipped', name: 'x', reason: 'bad' }
 * ```
 */
export function recordingLogger(): {
  /** Give this to the code under test. */
  logger: Logger;
  /** Every line written so far, in order. */
  records: LogRecord[];
} {
  const records: LogRecord[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const logger: Logger = {} as Logger;
    // Like pino's, these methods need their logger as `this`: a detached call
    // (`const log = logger.info; log(...)`) throws here as it does in production.
    const at = (level: LogRecord['level']): LogFn =>
      function (this: unknown, a: Record<string, unknown> | string, b?: string): void {
        if (this !== logger) throw new TypeError(`logger.${level} was called detached from its logger`);
        if (typeof a === 'string') records.push({ ...bindings, level, msg: a });
        else records.push({ ...bindings, ...a, level, msg: b ?? '' });
      } as LogFn;
    return Object.assign(logger, { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more: Record<string, unknown>) => make({ ...bindings, ...more }) });
  };
  return { logger: make({}), records };
}
