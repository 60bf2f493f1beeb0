/**
 * The watcher's driver: runs the pure state machine of `machine.ts` against a
 * {@link ListWatchSource}, a {@link Clock} and a {@link Backoff}, and hands its events to one
 * consumer.
 *
 * Guarantees:
 * - It never stops by itself and never throws out of its loop: every failure becomes an input to
 *   the machine, which retries (after the backoff) forever. Only `stop()` or the `signal` end it.
 * - A stream that delivers nothing, not even a bookmark, for `idleTimeoutMs` is aborted and resumed
 *   from the last resourceVersion; a stall never goes unnoticed: it is logged at warn, and
 *   `status().current` is false until a watch is answered again (readiness reports it).
 * - Backpressure: the next event is produced only after the consumer took the previous one (the
 *   async iterator is pulled, or the listener's promise settled), so events of one object keep
 *   their order and a slow consumer slows the reading, not the memory.
 * - `stop()` aborts the request in flight and resolves once the loop has ended; it produces no
 *   error, no event and no log line at error level.
 * - `status()` tells what it is doing and whether it is healthy: unhealthy after it has failed to
 *   list or watch for `unhealthyAfterMs` without a single success in between, with the last error
 *   (kind, message, hint) to say why.
 *
 * A watch counts as a success (health, backoff) as soon as the server accepts it, when the source
 * reports that (`onConnected`, as the real client does), and otherwise from its first event.
 */
import type { KubeObject, ListOptions, WatchEvent } from '../client/types.ts';
import { ApiError, TransportError } from '../client/errors.ts';
import type { Clock } from '../base/clock.ts';
import { sleep, systemClock } from '../base/clock.ts';
import { Backoff } from '../base/backoff.ts';
import type { Logger } from '../base/logger.ts';
import { silentLogger } from '../base/logger.ts';
import { defaults } from '../defaults.ts';
import type { StepResult, WatchConfig, WatcherEffect, WatcherEvent, WatcherInput, WatcherState } from './machine.ts';
import { initialState, step, watchConfig } from './machine.ts';
import type { ListWatchSource } from './source.ts';

export interface WatcherOptions<T extends KubeObject> extends Partial<WatchConfig> {
  source: ListWatchSource<T>;
  /** Default: the system clock. */
  clock?: Clock;
  /** Reconnect backoff. Default: {@link defaultWatchBackoff}. */
  backoff?: Backoff;
  /** Default: {@link defaults}.watch.idleTimeoutMs. */
  idleTimeoutMs?: number;
  /** Default: {@link defaults}.watch.unhealthyAfterMs. */
  unhealthyAfterMs?: number;
  /** Stops the watcher when it aborts, like `stop()`. */
  signal?: AbortSignal;
  logger?: Logger;
  /** Names the watch in logs, e.g. `pods` or `printers.example.com in shop`. */
  name?: string;
}

/** What a watcher is doing, for logs, metrics and the liveness probe. */
export interface WatcherStatus {
  phase: 'listing' | 'watching' | 'backing-off' | 'stopped';
  lastError?: { kind: string; message: string; hint?: string; at: number };
  /** When the last watch event (bookmarks included) or LIST page arrived. */
  lastEventAt?: number;
  /** When the current (or last) watch stream was accepted by the server (or delivered its first event). */
  connectedAt?: number;
  /** While backing off: when the next attempt starts. */
  retryAt?: number;
  /** The newest resourceVersion the watch resumes from. */
  resourceVersion?: string;
  /** Lists started again after the first (410, expired continue tokens). */
  relists: number;
  /** Watches opened again from a resourceVersion (stream end, stall, error). */
  reconnects: number;
  /** False once list/watch has been failing for `unhealthyAfterMs`. */
  healthy: boolean;
  /**
   * Whether what this watcher delivered can be trusted to follow the server: false from a stall
   * (nothing, not even a bookmark, for `idleTimeoutMs`) until a new watch is answered, and while
   * list/watch has been failing for `idleTimeoutMs`. Readiness reports it; liveness waits for
   * `healthy`, since reconnecting, not restarting, is what cures a stall.
   */
  current: boolean;
  /** Since when the watch has been presumed stalled (not yet answered again). */
  stalledSince?: number;
}

/** Receives watcher events; a returned promise is awaited before the next event is read. */
export type WatcherListener<T extends KubeObject> = (event: WatcherEvent<T>) => void | Promise<void>;

/**
 * The backoff client-go's reflector and kube-rs use: 800 ms doubling to 30 s, jittered, reset after
 * two healthy minutes (all from {@link defaults}.watch).
 *
 * @example
 * ```ts
 * new Watcher({ source, backoff: defaultWatchBackoff() });
 * ```
 */
export function defaultWatchBackoff(): Backoff {
  return new Backoff({
    initialMs: defaults.watch.backoffInitialMs,
    maxMs: defaults.watch.backoffMaxMs,
    factor: defaults.watch.backoffFactor,
    jitter: 'proportional',
    resetAfterMs: defaults.watch.backoffResetMs,
  });
}

interface OpenStream<T extends KubeObject> {
  readonly controller: AbortController;
  readonly iterator: AsyncIterator<WatchEvent<T>>;
  delivered: number;
  /** The source reported the server accepted the watch. */
  connected: boolean;
  /** Ends the read in progress early: on stop, or when the stream has been silent too long. */
  interrupt: ((why: typeof ABORTED | typeof IDLE) => void) | undefined;
  /** When the read in progress began; undefined between reads (the consumer's time never counts as silence). */
  readingSince: number | undefined;
  /**
   * The stream's one idle timer, re-armed only when it fires early. It used to be a timer, a race
   * and an abort listener per event: about 3.5 µs of a watch event's 25 (docs/performance.md).
   */
  cancelIdle: (() => void) | undefined;
}

const noop = (): void => {};
const ABORTED = Symbol('aborted');
const IDLE = Symbol('idle');

/**
 * Lists, then watches, one resource forever, and reports `Init`/`InitApply`/`InitDone` and
 * `Apply`/`Delete` events.
 *
 * @example
 * ```ts
 * const watcher = new Watcher({ source: sourceFor<Pod>(client, podsRef), namespace: 'shop' });
 * void watcher.run(async (event) => { if (event.type === 'Apply') await handle(event.object); });
 * // … later
 * await watcher.stop();
 * ```
 */
export class Watcher<T extends KubeObject> {
  readonly #source: ListWatchSource<T>;
  readonly #config: WatchConfig;
  readonly #clock: Clock;
  readonly #backoff: Backoff;
  readonly #idleTimeoutMs: number;
  readonly #unhealthyAfterMs: number;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  readonly #finished = Promise.withResolvers<void>();

  #generator: AsyncGenerator<WatcherEvent<T>, void, undefined> | undefined;
  #suspended = false;
  #running = false;
  #stream: OpenStream<T> | undefined;
  #watchedSinceInit = false;
  #listedOnce = false;

  #phase: WatcherStatus['phase'] = 'stopped';
  #lastError: WatcherStatus['lastError'];
  #lastEventAt: number | undefined;
  #connectedAt: number | undefined;
  #retryAt: number | undefined;
  #resourceVersion: string | undefined;
  #relists = 0;
  #reconnects = 0;
  #failingSince: number | undefined;
  #stalledSince: number | undefined;

  constructor(options: WatcherOptions<T>) {
    this.#source = options.source;
    this.#config = watchConfig(options);
    this.#clock = options.clock ?? systemClock;
    this.#backoff = options.backoff ?? defaultWatchBackoff();
    this.#idleTimeoutMs = options.idleTimeoutMs ?? defaults.watch.idleTimeoutMs;
    this.#unhealthyAfterMs = options.unhealthyAfterMs ?? defaults.watch.unhealthyAfterMs;
    this.#log = (options.logger ?? silentLogger).child({ watch: options.name ?? describeConfig(this.#config) });
    if (options.signal) {
      if (options.signal.aborted) this.#stop.abort();
      else options.signal.addEventListener('abort', () => void this.stop(), { once: true });
    }
  }

  /** The configuration in effect (defaults filled in). */
  get config(): Readonly<WatchConfig> {
    return this.#config;
  }

  /**
   * The events, pulled one at a time: the watcher reads on only when the next is asked for. A
   * watcher runs once; a second call throws.
   *
   * @example
   * ```ts
   * for await (const event of watcher.events()) store.apply(event);
   * ```
   */
  events(): AsyncGenerator<WatcherEvent<T>, void, undefined> {
    if (this.#generator) throw new Error('this Watcher is already running; create another one');
    this.#generator = this.#loop();
    return this.#generator;
  }

  /**
   * Runs until stopped, awaiting `listener` for each event. A listener that throws is logged and
   * the watcher carries on with the next event. Resolves after `stop()`.
   *
   * @example
   * ```ts
   * const done = watcher.run((event) => { store.apply(event); });
   * ```
   */
  async run(listener: WatcherListener<T>): Promise<void> {
    for await (const event of this.events()) {
      try {
        // Awaited only when it is a promise: most listeners return nothing, and an await of
        // nothing still costs a promise and a turn of the microtask queue per event.
        const done = listener(event);
        if (done !== undefined) await done;
      } catch (error) {
        this.#log.error({ err: error, event: event.type }, 'watch listener failed; continuing with the next event');
      }
    }
  }

  /**
   * Stops: aborts the request in flight, ends the event stream, resolves when the loop is done.
   * Idempotent, and safe to call from inside a listener.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => void watcher.stop());
   * ```
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#closeStream();
    if (this.#generator === undefined) {
      this.#phase = 'stopped';
      return;
    }
    if (!this.#running) {
      // Created but never pulled: the body (and its finally) will never run.
      await this.#generator.return(undefined);
      this.#phase = 'stopped';
      this.#finished.resolve();
      return;
    }
    // Parked at a yield (the consumer holds an event): finish it now rather than at its next pull.
    if (this.#suspended) await this.#generator.return(undefined);
    await this.#finished.promise;
  }

  /**
   * A snapshot of what the watcher is doing and whether it is healthy.
   *
   * @example
   * ```ts
   * const { healthy, lastError } = watcher.status();
   * if (!healthy) console.error(lastError?.message, lastError?.hint);
   * ```
   */
  status(): WatcherStatus {
    const status: WatcherStatus = {
      phase: this.#phase,
      relists: this.#relists,
      reconnects: this.#reconnects,
      healthy: this.#failingSince === undefined || this.#clock.now() - this.#failingSince < this.#unhealthyAfterMs,
      current: this.#stalledSince === undefined && (this.#failingSince === undefined || this.#clock.now() - this.#failingSince < this.#idleTimeoutMs),
    };
    if (this.#stalledSince !== undefined) status.stalledSince = this.#stalledSince;
    if (this.#lastError) status.lastError = { ...this.#lastError };
    if (this.#lastEventAt !== undefined) status.lastEventAt = this.#lastEventAt;
    if (this.#connectedAt !== undefined) status.connectedAt = this.#connectedAt;
    if (this.#retryAt !== undefined && this.#phase === 'backing-off') status.retryAt = this.#retryAt;
    if (this.#resourceVersion !== undefined) status.resourceVersion = this.#resourceVersion;
    return status;
  }

  async *#loop(): AsyncGenerator<WatcherEvent<T>, void, undefined> {
    const signal = this.#stop.signal;
    this.#running = true;
    try {
      if (signal.aborted) return;
      let result = this.#step(initialState(this.#config), { type: 'Start' });
      while (!signal.aborted) {
        this.#observe(result);
        for (const event of result.events) {
          this.#suspended = true;
          try {
            yield event;
          } finally {
            this.#suspended = false;
          }
          if (signal.aborted) return;
        }
        const input = await this.#perform(result);
        if (signal.aborted) return;
        this.#observeInput(input);
        result = this.#step(result.state, input);
      }
    } finally {
      this.#closeStream();
      this.#phase = 'stopped';
      this.#finished.resolve();
    }
  }

  /** `step`, guarded: a bug in a transition must not end the watcher. It starts over instead. */
  #step(state: WatcherState, input: WatcherInput<T>): StepResult<T> {
    try {
      return step(state, input, this.#config);
    } catch (error) {
      this.#log.error({ err: error, state: state.phase, input: input.type }, 'watch state machine failed; starting over with a fresh list');
      return this.#startOver(error);
    }
  }

  /** A fresh machine, entered after a backoff so a persistent fault cannot spin. */
  #startOver(error: unknown): StepResult<T> {
    const fresh = step<T>(initialState(this.#config), { type: 'Start' }, this.#config);
    const resume = fresh.state;
    if (resume.phase !== 'ListingPage' && resume.phase !== 'StreamingInitial') return fresh;
    return {
      state: { phase: 'BackingOff', resume, restart: true, streaming: resume.streaming, expiredInARow: 0 },
      effects: [{ type: 'Backoff' }],
      events: [],
      failure: { error, recovery: 'relist' },
    };
  }

  #observe(result: StepResult<T>): void {
    const state = result.state;
    this.#phase = state.phase === 'Watching' ? 'watching' : state.phase === 'BackingOff' ? 'backing-off' : 'listing';
    if (state.phase === 'Watching') this.#resourceVersion = state.resourceVersion;
    for (const event of result.events) {
      if (event.type === 'Init') {
        if (this.#listedOnce) this.#relists++;
        this.#listedOnce = true;
        this.#watchedSinceInit = false;
      }
    }
    for (const effect of result.effects) {
      if (effect.type === 'Watch' && effect.options.sendInitialEvents !== true) {
        if (this.#watchedSinceInit) this.#reconnects++;
        this.#watchedSinceInit = true;
      }
    }
    if (result.failure) this.#failed(result.failure.error, result.failure.recovery);
  }

  #observeInput(input: WatcherInput<T>): void {
    switch (input.type) {
      case 'PageListed':
        this.#lastEventAt = this.#clock.now();
        this.#succeeded();
        break;
      case 'Event':
        if (input.event.type === 'ERROR') break;
        this.#lastEventAt = this.#clock.now();
        this.#succeeded();
        break;
      case 'StreamEnded':
        if (input.delivered > 0) this.#succeeded();
        break;
      case 'IdleTimeout': {
        // The one failure a user cannot otherwise see: every request is accepted and nothing comes
        // back (a black-holed connection, a wedged proxy), and the cache silently falls behind.
        const now = this.#clock.now();
        this.#stalledSince ??= now;
        this.#log.warn({ silentForMs: this.#idleTimeoutMs, resourceVersion: this.#resourceVersion }, 'watch stalled: nothing, not even a bookmark, arrived; the cache may be stale until the watch is answered again');
        break;
      }
      default:
        break;
    }
  }

  #succeeded(): void {
    const now = this.#clock.now();
    if (this.#failingSince !== undefined) this.#log.info({ failingForMs: now - this.#failingSince }, 'watch recovered');
    if (this.#stalledSince !== undefined) this.#log.info({ staleForMs: now - this.#stalledSince }, 'watch answered again after a stall; the cache is current');
    this.#failingSince = undefined;
    this.#stalledSince = undefined;
    this.#backoff.succeeded(now);
  }

  #failed(error: unknown, recovery: string): void {
    const now = this.#clock.now();
    this.#failingSince ??= now;
    const described = describeError(error);
    this.#lastError = { ...described, at: now };
    // Expiry and stalls are part of normal life; everything else is worth a warning.
    const expected = recovery === 'relist' || recovery === 'restart-list' || recovery === 'rewatch' || recovery === 'fallback-to-list';
    const fields = { kind: described.kind, recovery, ...(described.hint ? { hint: described.hint } : {}) };
    if (expected) this.#log.info(fields, described.message);
    else this.#log.warn(fields, described.message);
  }

  async #perform(result: StepResult<T>): Promise<WatcherInput<T>> {
    let io: WatcherEffect | undefined;
    for (const effect of result.effects) {
      if (effect.type === 'CloseWatch') this.#closeStream();
      else io = effect;
    }
    switch (io?.type) {
      case 'List':
        return this.#list(io.options);
      case 'Backoff':
        return this.#sleep(io.retryAfterMs);
      case 'Watch':
        this.#closeStream();
        try {
          this.#open(io);
        } catch (error) {
          return { type: 'RequestFailed', error };
        }
        return this.#read();
      default:
        if (this.#stream) return this.#read();
        // Nothing to wait on is a machine bug; recover through a fresh list rather than spin.
        this.#log.error({ state: result.state.phase }, 'watch state machine asked for no IO; starting over');
        return { type: 'RequestFailed', error: new Error(`watch machine stalled in ${result.state.phase}`) };
    }
  }

  async #list(options: ListOptions): Promise<WatcherInput<T>> {
    try {
      const list = await untilAborted(this.#source.list({ ...options, signal: this.#stop.signal }), this.#stop.signal);
      if (list === ABORTED) return { type: 'BackoffElapsed' };
      return { type: 'PageListed', list };
    } catch (error) {
      return { type: 'RequestFailed', error };
    }
  }

  async #sleep(retryAfterMs: number | undefined): Promise<WatcherInput<T>> {
    const now = this.#clock.now();
    let delay = this.#backoff.next(now);
    // Honour the server's Retry-After, within the cap APF itself uses.
    if (retryAfterMs !== undefined) delay = Math.max(delay, Math.min(retryAfterMs, defaults.client.retryAfterMaxMs));
    this.#retryAt = now + delay;
    this.#log.debug({ delayMs: delay, attempt: this.#backoff.attempts }, 'watch backing off');
    await sleep(this.#clock, delay, this.#stop.signal).catch(noop);
    return { type: 'BackoffElapsed' };
  }

  #open(effect: WatcherEffect & { type: 'Watch' }): void {
    const controller = new AbortController();
    const signal = AbortSignal.any([this.#stop.signal, controller.signal]);
    // Without this, a watch that recovered (e.g. once RBAC allowed it) stayed unhealthy until its
    // first event, up to a minute on a quiet resource: long enough for a liveness probe to kill a
    // working operator.
    const opened: { stream?: OpenStream<T> } = {};
    const onConnected = (): void => {
      const stream = opened.stream;
      if (stream === undefined || this.#stream !== stream || signal.aborted) return;
      stream.connected = true;
      this.#connectedAt = this.#clock.now();
      this.#succeeded();
    };
    const iterable = this.#source.watch({ ...effect.options, signal, onConnected });
    opened.stream = { controller, iterator: iterable[Symbol.asyncIterator](), delivered: 0, connected: false, interrupt: undefined, readingSince: undefined, cancelIdle: undefined };
    this.#stream = opened.stream;
  }

  /** The next line of the open stream, or the stall/stop that came first. */
  async #read(): Promise<WatcherInput<T>> {
    const stream = this.#stream;
    if (stream === undefined) return { type: 'StreamEnded', delivered: 0 };
    if (this.#stop.signal.aborted) return { type: 'BackoffElapsed' };
    const next = stream.iterator.next();
    stream.readingSince = this.#clock.now();
    if (stream.cancelIdle === undefined) this.#armIdle(stream, this.#idleTimeoutMs);
    try {
      const item = await new Promise<IteratorResult<WatchEvent<T>> | typeof ABORTED | typeof IDLE>((resolve, reject) => {
        stream.interrupt = resolve;
        next.then(resolve, reject);
      });
      if (item === ABORTED) return { type: 'BackoffElapsed' };
      if (item === IDLE) return { type: 'IdleTimeout' };
      if (item.done) {
        this.#stream = undefined;
        stopIdle(stream);
        return { type: 'StreamEnded', delivered: stream.delivered };
      }
      if (stream.delivered++ === 0 && !stream.connected) this.#connectedAt = this.#clock.now();
      // A stream that answers again after a stall is current again, even before its first real event.
      if (this.#stalledSince !== undefined) this.#succeeded();
      return { type: 'Event', event: item.value };
    } catch (error) {
      if (this.#stream === stream) this.#stream = undefined;
      stopIdle(stream);
      return { type: 'RequestFailed', error };
    } finally {
      stream.interrupt = undefined;
      stream.readingSince = undefined;
    }
  }

  /** Arms the stream's idle timer: it ends a read that has waited `idleTimeoutMs`, and otherwise waits again for the rest. */
  #armIdle(stream: OpenStream<T>, ms: number): void {
    stream.cancelIdle = this.#clock.setTimer(ms, () => {
      stream.cancelIdle = undefined;
      const since = stream.readingSince;
      const left = since === undefined ? this.#idleTimeoutMs : since + this.#idleTimeoutMs - this.#clock.now();
      if (since !== undefined && left <= 0) stream.interrupt?.(IDLE);
      else this.#armIdle(stream, left);
    });
  }

  #closeStream(): void {
    const stream = this.#stream;
    if (stream === undefined) return;
    this.#stream = undefined;
    stopIdle(stream);
    stream.interrupt?.(ABORTED);
    stream.controller.abort();
    try {
      // Not awaited: a generator busy in `next()` only returns after it, and the abort ends that.
      stream.iterator.return?.()?.then(noop, noop);
    } catch {
      // A source whose return() throws has nothing left to release.
    }
  }
}

function stopIdle(stream: OpenStream<KubeObject>): void {
  stream.cancelIdle?.();
  stream.cancelIdle = undefined;
}

/** Resolves with `promise`, or with ABORTED as soon as `signal` aborts (without leaking a listener). */
function untilAborted<V>(promise: Promise<V>, signal: AbortSignal): Promise<V | typeof ABORTED> {
  if (signal.aborted) {
    promise.catch(noop);
    return Promise.resolve(ABORTED);
  }
  return new Promise<V | typeof ABORTED>((resolve, reject) => {
    const onAbort = (): void => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) resolve(ABORTED);
        else reject(error);
      },
    );
  });
}

function describeError(error: unknown): { kind: string; message: string; hint?: string } {
  if (error instanceof ApiError) return { kind: error.kind, message: error.message, hint: error.hint };
  if (error instanceof TransportError) return { kind: 'Transport', message: error.message, hint: 'the API server could not be reached; check the network and the server address' };
  if (error instanceof Error) return { kind: error.name === 'Error' ? 'Watch' : error.name, message: error.message };
  return { kind: 'Unknown', message: String(error) };
}

function describeConfig(config: WatchConfig): string {
  const parts = [config.namespace ? `namespace ${config.namespace}` : 'all namespaces'];
  if (config.labelSelector) parts.push(`labels ${config.labelSelector}`);
  if (config.fieldSelector) parts.push(`fields ${config.fieldSelector}`);
  return parts.join(', ');
}
