/**
 * From an owned (child) object to the keys of its owners, so that a change of a Pod wakes the
 * custom resource that made it (controller-runtime's `EnqueueRequestForOwner`, kube-rs' `owns`).
 *
 * Guarantees:
 * - By default only the ownerReference with `controller: true` counts (there is at most one), and
 *   only when its API group and kind are the owner type's. The version is ignored: an owner
 *   written as `example.com/v1beta1` is the same object as `example.com/v1`.
 * - A namespaced owner is looked up in the child's namespace: ownerReferences cannot cross
 *   namespaces. A cluster-scoped owner's key is its name alone.
 * - A cluster-scoped child pointing at a namespaced owner is invalid in Kubernetes (the garbage
 *   collector reports it unresolvable) and maps to nothing.
 * - With `everyOwner`, every matching ownerReference counts (controller-runtime's
 *   `MatchEveryOwner`); keys are deduplicated.
 *
 * Only metadata is read, so children can come from a metadata-only watch.
 */
import { parseApiVersion } from '../client/paths.ts';
import type { KubeObject } from '../client/types.ts';
import { keyOf } from '../client/keys.ts';

/** The owner type, by group (`''` for the core group) or by apiVersion, and kind. */
export type OwnerType = ({ group: string } | { apiVersion: string }) & {
  kind: string;
  /** False for cluster-scoped owners. Default true. */
  namespaced?: boolean;
};

/** Options of owner mapping. */
export interface OwnerMappingOptions {
  /** Map through every ownerReference of the owner type, not only the controller one. Default false. */
  everyOwner?: boolean;
}


/**
 * The keys of `child`'s owners of type `owner`.
 *
 * @example
 * ```ts
 * const pod = { metadata: { namespace: 'default', name: 'p-1', ownerReferences: [
 *   { apiVersion: 'example.com/v1', kind: 'Printer', name: 'p', uid: 'u', controller: true },
 * ] } };
 * ownerKeys(pod, { group: 'example.com', kind: 'Printer' }); // ['default/p']
 * ```
 */
export function ownerKeys(child: KubeObject, owner: OwnerType, options: OwnerMappingOptions = {}): string[] {
  const group = 'group' in owner ? owner.group : parseApiVersion(owner.apiVersion).group;
  const namespaced = owner.namespaced ?? true;
  const namespace = child.metadata?.namespace;
  if (namespaced && !namespace) return [];
  const keys: string[] = [];
  for (const ref of child.metadata?.ownerReferences ?? []) {
    if (!options.everyOwner && ref.controller !== true) continue;
    if (ref.kind !== owner.kind || parseApiVersion(ref.apiVersion).group !== group || !ref.name) continue;
    const key = keyOf(ref.name, namespaced ? namespace : undefined);
    if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

/**
 * A mapping function for events of owned objects. Pass the new object, or on an update both the
 * old and the new one: an ownerReference that was removed still wakes the former owner, which may
 * need to notice it lost a child (controller-runtime maps both, too).
 *
 * @example
 * ```ts
 * const toPrinters = ownerMapper({ group: 'example.com', kind: 'Printer' });
 * for (const key of toPrinters(oldPod, newPod)) queue.add(key);
 * ```
 */
export function ownerMapper(owner: OwnerType, options: OwnerMappingOptions = {}): (...children: Array<KubeObject | undefined>) => string[] {
  return (...children) => {
    const keys = new Set<string>();
    for (const child of children) if (child) for (const key of ownerKeys(child, owner, options)) keys.add(key);
    return [...keys];
  };
}
