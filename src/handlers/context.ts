/**
 * Builds the one typed context object a handler receives. Everything derived from the object
 * (`spec`, `status`, `name`, `labels`, …) is read through getters from `body`, so a daemon's
 * context always shows the latest cached state while other handlers see the state their cycle
 * started from. Guarantee: `spec` and `status` are never undefined (`{}` stands in), so
 * `ctx.spec.text` never throws on an object without a spec.
 */
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import type { KubeObject, ObjectMeta, Stored } from '../client/types.ts';
import type { Resource } from '../schema/resource.ts';
import type { ObjectPatch } from '../state/patch.ts';
import type { Recorder } from './recorder.ts';
import { keyOf } from '../client/keys.ts';
import type { HandlerCache, ObjectContext } from './types.ts';

/** What every context is built from. */
export interface ContextInput<T extends KubeObject> {
  /** The object, or a function returning the latest state (daemons). */
  body: Stored<T> | (() => Stored<T>);
  id: string;
  patch: ObjectPatch<T>;
  logger: Logger;
  client: KubeClient;
  cache: HandlerCache<T>;
  recorder: Recorder;
  resource: Resource;
  signal: AbortSignal;
  retry: number;
  startedAt: Date;
  /** Queues a cycle of the key (`namespace/name`) of an object of this resource. */
  enqueue: (key: string) => void;
}

const EMPTY: Readonly<Record<string, never>> = Object.freeze({});

/**
 * A handler's context. Its getters live on the prototype and read `body` when asked, so a context
 * costs one small object per handler run instead of a closure per field (building the context was
 * the largest of Operon's own allocation sites in a burst, docs/performance.md). `info`, `warn`,
 * `exception` and `enqueue` are getters returning functions bound to this context, so a handler
 * may destructure them (`({ info }) => info(…)`) as it may the fields.
 */
class HandlerContext<T extends KubeObject> implements ObjectContext<T> {
  readonly #input: ContextInput<T>;

  constructor(input: ContextInput<T>) {
    this.#input = input;
  }

  get body(): Stored<T> {
    const body = this.#input.body;
    return typeof body === 'function' ? body() : body;
  }
  get spec(): NonNullable<T['spec']> {
    return (this.body.spec ?? EMPTY) as NonNullable<T['spec']>;
  }
  get status(): ObjectContext<T>['status'] {
    return (this.body.status ?? EMPTY) as ObjectContext<T>['status'];
  }
  get meta(): ObjectMeta {
    return this.body.metadata;
  }
  get name(): string {
    return this.body.metadata.name;
  }
  get namespace(): string | undefined {
    return this.body.metadata.namespace;
  }
  get uid(): string {
    return this.body.metadata.uid;
  }
  get labels(): Readonly<Record<string, string>> {
    return this.body.metadata.labels ?? EMPTY;
  }
  get annotations(): Readonly<Record<string, string>> {
    return this.body.metadata.annotations ?? EMPTY;
  }
  get patch(): ObjectPatch<T> {
    return this.#input.patch;
  }
  get logger(): Logger {
    return this.#input.logger;
  }
  get client(): KubeClient {
    return this.#input.client;
  }
  get cache(): HandlerCache<T> {
    return this.#input.cache;
  }
  get signal(): AbortSignal {
    return this.#input.signal;
  }
  get retry(): number {
    return this.#input.retry;
  }
  get startedAt(): Date {
    return this.#input.startedAt;
  }
  get id(): string {
    return this.#input.id;
  }
  get resource(): Resource {
    return this.#input.resource;
  }
  get info(): ObjectContext<T>['info'] {
    return (reason, message, about) => this.#input.recorder.info(about ?? this.body, reason, message);
  }
  get warn(): ObjectContext<T>['warn'] {
    return (reason, message, about) => this.#input.recorder.warn(about ?? this.body, reason, message);
  }
  get exception(): ObjectContext<T>['exception'] {
    return (reason, error, about) => this.#input.recorder.exception(about ?? this.body, reason, error);
  }
  get enqueue(): ObjectContext<T>['enqueue'] {
    const input = this.#input;
    return (name, namespace) => input.enqueue(keyOf(name, input.resource.namespaced ? (namespace ?? this.body.metadata.namespace) : undefined));
  }
}

/**
 * The context of a handler; `extra` adds the kind-specific fields (old, new, diff, type, …).
 *
 * @example
 * ```ts
 * const context = objectContext({ body, id: 'create', patch, logger, client, cache, recorder, resource, signal, retry: 0, startedAt: new Date(), enqueue },
 *   { cause: 'create', old: undefined, new: essence, diff });
 * ```
 */
export function objectContext<T extends KubeObject, X extends object = object>(input: ContextInput<T>, extra?: X): ObjectContext<T> & X {
  const context: ObjectContext<T> = new HandlerContext(input);
  // Object.assign skips an undefined source.
  return Object.assign(context, extra) as ObjectContext<T> & X;
}
