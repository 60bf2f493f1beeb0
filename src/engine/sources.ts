/**
 * Event sources: what wakes a controller's keys besides changes of its own objects
 * (controller-runtime's `source.Kind` with an event handler, kube-rs's `Controller::watches`).
 * A source is a watched resource and a function from one change of its objects to the keys to
 * reconcile. Owned objects are one use (their controller ownerReference names the key,
 * {@link ownerSource}); related objects found by any rule are another ({@link mappedSource}).
 *
 * Guarantees:
 * - A change maps through both its new and its old state, so an object that stops pointing at a
 *   key still wakes it once (controller-runtime maps both for updates).
 * - Keys are deduplicated per change. A mapping function that throws wakes nothing and is
 *   reported to the caller; it never stops the watch.
 */
import type { KubeObject } from '../client/types.ts';
import type { Resource } from '../schema/resource.ts';
import { keyOf } from '../client/keys.ts';
import { ownerMapper, type OwnerMappingOptions, type OwnerType } from './owners.ts';

/** One change of a source's object: its state now (the last known one, when deleted) and before. */
export interface SourceChange {
  /** The object as the change left it. */
  readonly object: KubeObject;
  /** Its previous state, for modifications and deletions. */
  readonly old: KubeObject | undefined;
}

/** A watched resource whose changes wake keys of a controller. */
export interface EventSource {
  /** The resource to watch. */
  readonly resource: Resource;
  /** The keys (`namespace/name`) a change wakes. */
  readonly toKeys: (change: SourceChange) => Iterable<string>;
}

/** A reference to an object of the controlled resource, by name (and namespace). */
export interface ObjectRef {
  /** The object's name. */
  readonly name: string;
  /** Its namespace; absent for cluster-scoped objects. */
  readonly namespace?: string | undefined;
}

/**
 * The source for owned objects: a change wakes the owner named by the controller ownerReference
 * (or every owner reference of the type, with `everyOwner`).
 *
 * @example
 * ```ts
 * const pods = ownerSource(builtin('v1', 'Pod'), { group: 'operon.dev', kind: 'Printer' });
 * [...pods.toKeys({ object: pod, old: undefined })]; // ['default/my-printer']
 * ```
 */
export function ownerSource(resource: Resource, owner: OwnerType, options: OwnerMappingOptions = {}): EventSource {
  const toOwners = ownerMapper(owner, options);
  return { resource, toKeys: ({ object, old }) => toOwners(old, object) };
}

/**
 * The source for related objects: `map` names the objects a change concerns, by reference or
 * as the objects themselves (e.g. found in a cache).
 *
 * @example
 * ```ts
 * const secrets = mappedSource(builtin('v1', 'Secret'), (secret) => [{ name: secret.metadata?.annotations?.['app/owner'] ?? '', namespace: secret.metadata?.namespace }]);
 * ```
 */
export function mappedSource(resource: Resource, map: (object: KubeObject) => Iterable<ObjectRef | KubeObject> | undefined): EventSource {
  return {
    resource,
    toKeys: ({ object, old }) => {
      const keys = new Set<string>();
      for (const state of old === undefined ? [object] : [object, old]) {
        for (const target of map(state) ?? []) {
          const ref: { name?: string | undefined; namespace?: string | undefined } = 'kind' in target || 'metadata' in target ? ((target as KubeObject).metadata ?? {}) : (target as ObjectRef);
          if (typeof ref.name === 'string' && ref.name !== '') keys.add(keyOf(ref.name, ref.namespace ?? undefined));
        }
      }
      return keys;
    },
  };
}
