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
 * The context of a handler; `extra` adds the kind-specific fields (old, new, diff, type, …).
 *
 * @example
 * ```ts
 * const context = objectContext({ body, id: 'create', patch, logger, client, cache, recorder, resource, signal, retry: 0, startedAt: new Date(), enqueue },
 *   { cause: 'create', old: undefined, new: essence, diff });
 * ```
 */
export function objectContext<T extends KubeObject, X extends object = object>(input: ContextInput<T>, extra?: X): ObjectContext<T> & X {
  const read = typeof input.body === 'function' ? input.body : ((body) => () => body)(input.body);
  const context = {
    get body() {
      return read();
    },
    get spec() {
      return (read().spec ?? EMPTY) as NonNullable<T['spec']>;
    },
    get status() {
      return (read().status ?? EMPTY) as ObjectContext<T>['status'];
    },
    get meta(): ObjectMeta {
      return read().metadata;
    },
    get name() {
      return read().metadata.name;
    },
    get namespace() {
      return read().metadata.namespace;
    },
    get uid() {
      return read().metadata.uid;
    },
    get labels() {
      return read().metadata.labels ?? EMPTY;
    },
    get annotations() {
      return read().metadata.annotations ?? EMPTY;
    },
    patch: input.patch,
    logger: input.logger,
    client: input.client,
    cache: input.cache,
    signal: input.signal,
    retry: input.retry,
    startedAt: input.startedAt,
    id: input.id,
    resource: input.resource,
    info: (reason: string, message: string, about?: KubeObject) => input.recorder.info(about ?? read(), reason, message),
    warn: (reason: string, message: string, about?: KubeObject) => input.recorder.warn(about ?? read(), reason, message),
    exception: (reason: string, error: unknown, about?: KubeObject) => input.recorder.exception(about ?? read(), reason, error),
    enqueue: (name: string, namespace?: string) => input.enqueue(keyOf(name, input.resource.namespaced ? (namespace ?? read().metadata.namespace) : undefined)),
  } satisfies ObjectContext<T>;
  return Object.assign(context, extra ?? {}) as ObjectContext<T> & X;
}
