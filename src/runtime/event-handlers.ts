/**
 * Runs a resource's event handlers (`onEvent`): every watch change, in order per object, outside
 * the handling cycle (they never wait for it, nor it for them), never retried; a failure is a
 * warn line and nothing else, as in kopf. A paused object's changes reach none of them.
 */
import type { Logger } from '../base/logger.ts';
import type { Stored } from '../client/types.ts';
import { matchesObject } from '../handlers/causes.ts';
import type { HandlerSpec } from '../handlers/types.ts';
import { newPatch } from '../state/patch.ts';
import type { Clock } from '../base/clock.ts';
import { call, type HandlerContexts } from './contexts.ts';
import type { ObjectWriter } from './writer.ts';

/** A watch change's type, as event handlers see it. */
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** What event handlers need. */
export interface EventHandlerDeps {
  readonly contexts: HandlerContexts;
  readonly writer: ObjectWriter;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Aborts when the operator stops or loses its lease. */
  readonly signal: AbortSignal;
  /** True for an object carrying the pause annotation: its event handlers do not run. */
  readonly paused: (object: Stored) => boolean;
}

/**
 * The event handlers of one resource, with one promise chain per object key.
 *
 * @example
 * ```ts
 * const events = new EventHandlers(registration.of('event'), { contexts, writer, logger, clock, signal });
 * events.dispatch('ns/name', 'MODIFIED', object, old);
 * await events.drain();
 * ```
 */
export class EventHandlers {
  readonly #specs: readonly HandlerSpec[];
  readonly #deps: EventHandlerDeps;
  readonly #chains = new Map<string, Promise<void>>();

  constructor(specs: readonly HandlerSpec[], deps: EventHandlerDeps) {
    this.#specs = specs;
    this.#deps = deps;
  }

  /** Queues the handlers of one change behind the earlier changes of the same object. */
  dispatch(key: string, type: EventType, object: Stored, old: Stored | undefined): void {
    if (this.#specs.length === 0 || this.#deps.paused(object)) return;
    const next = (this.#chains.get(key) ?? Promise.resolve())
      .then(() => this.#run(type, object, old))
      .catch((error: unknown) => this.#deps.logger.error({ err: error, key }, 'event handlers failed unexpectedly'));
    this.#chains.set(key, next);
    void next.finally(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  /** Resolves when every queued handler has run. */
  async drain(): Promise<void> {
    await Promise.all(this.#chains.values());
  }

  async #run(type: EventType, object: Stored, old: Stored | undefined): Promise<void> {
    const { contexts, writer, clock, signal } = this.#deps;
    for (const spec of this.#specs) {
      if (!matchesObject(spec, { body: object, contextFor: (s) => contexts.probe(object, s) })) continue;
      const patch = newPatch();
      const logger = contexts.logger(object, spec.id);
      try {
        const result = await call(spec, contexts.build({ body: object, spec, patch, signal, retry: 0, startedAt: new Date(clock.now()), logger }, { type, old }));
        if (result !== undefined) patch.status[spec.id] = result;
      } catch (error) {
        logger.warn({ err: error }, `event handler ${spec.id} failed; event handlers are not retried`);
      }
      if (type === 'DELETED') continue;
      try {
        await writer.apply(object, patch);
      } catch (error) {
        logger.warn({ err: error }, `event handler ${spec.id}: applying its patch failed`);
      }
    }
  }
}
