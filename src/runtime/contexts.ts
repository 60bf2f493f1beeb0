/**
 * Builds the context each handler of one resource receives, and the per-object logger it
 * carries: the one place that knows what a context is made of, for handling cycles, reconcile
 * handlers, event handlers, timers, daemons and `when` filters alike.
 */
import type { Clock } from '../base/clock.ts';
import { lazyChild, type Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import type { KubeObject, Stored } from '../client/types.ts';
import { objectContext } from '../handlers/context.ts';
import type { Recorder } from '../handlers/recorder.ts';
import type { HandlerCache, HandlerSpec, ObjectContext } from '../handlers/types.ts';
import type { Resource } from '../schema/resource.ts';
import { newPatch, type ObjectPatch } from '../state/patch.ts';

/** What every context of one resource shares. */
export interface ContextDeps {
  readonly resource: Resource;
  readonly client: KubeClient;
  readonly cache: HandlerCache<Stored>;
  readonly recorder: Recorder;
  /** The resource's logger; object loggers are its children. */
  readonly logger: Logger;
  readonly clock: Clock;
  /** Aborts when the operator stops: the signal `when` filters see. */
  readonly stopping: AbortSignal;
  /** Queues a cycle of a key of this resource (`ctx.enqueue`). */
  readonly enqueue: (key: string) => void;
}

/** One attempt's part of a context. */
export interface AttemptInput {
  /** The object, or a function returning its latest state (timers and daemons). */
  readonly body: Stored | (() => Stored);
  readonly spec: HandlerSpec;
  /** Where the handler's changes go. */
  readonly patch: ObjectPatch<KubeObject>;
  readonly signal: AbortSignal;
  /** Attempts before this one. */
  readonly retry: number;
  /** When the first attempt began. */
  readonly startedAt: Date;
  readonly logger: Logger;
}

/**
 * Contexts of one resource's handlers.
 *
 * @example
 * ```ts
 * const contexts = new HandlerContexts({ resource, client, cache, recorder, logger, clock, stopping, enqueue });
 * const ctx = contexts.build({ body, spec, patch, signal, retry: 0, startedAt: new Date(), logger: contexts.logger(body, spec.id) });
 * ```
 */
export class HandlerContexts {
  readonly #deps: ContextDeps;

  constructor(deps: ContextDeps) {
    this.#deps = deps;
  }

  /** A handler's context; `extra` adds the kind's own fields (`cause`, `old`, `flush`, …). */
  build<X extends object>(input: AttemptInput, extra?: X): ObjectContext<Stored> & X {
    const { resource, client, cache, recorder, enqueue } = this.#deps;
    const { body, spec, patch, signal, retry, startedAt, logger } = input;
    return objectContext<Stored, X>({ body, id: spec.id, patch: patch as ObjectPatch<Stored>, logger, client, cache, recorder, resource, signal, retry, startedAt, enqueue }, extra);
  }

  /** The context a `when` filter sees: the object, with a throwaway patch. */
  probe(body: Stored, spec: HandlerSpec): ObjectContext<KubeObject> {
    const now = new Date(this.#deps.clock.now());
    return this.build({ body, spec, patch: newPatch(), signal: this.#deps.stopping, retry: 0, startedAt: now, logger: this.#deps.logger }) as unknown as ObjectContext<KubeObject>;
  }

  /** A logger naming the object and the handler. */
  logger(body: Stored, handler: string): Logger {
    const { name, namespace } = body.metadata;
    return lazyChild(this.#deps.logger, namespace ? { namespace, name, handler } : { name, handler });
  }
}

/**
 * Calls a handler's function with its context. Contexts differ by handler kind and the
 * registry keeps every function under one type; the runtime builds the right context per kind.
 *
 * @example
 * ```ts
 * await call(spec, contexts.build(input, { cause: 'create' }));
 * ```
 */
export function call(spec: HandlerSpec, context: ObjectContext<Stored>): unknown {
  return (spec.fn as (c: ObjectContext<Stored>) => unknown)(context);
}
