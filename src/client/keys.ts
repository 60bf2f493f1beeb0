/**
 * The engine's unit of work is a key, not an object: `namespace/name` for a namespaced object and
 * `name` for a cluster-scoped one (client-go's `MetaNamespaceKeyFunc` format). A key carries no
 * object state on purpose: reconciliation is level-based and reads the current object when it
 * runs, so many events for one object can collapse into one key and one run.
 *
 * Guarantee: `parseKey(keyOf(name, namespace))` gives back the same name and namespace, because
 * Kubernetes names and namespaces never contain `/`.
 */
import type { KubeObject } from '../client/types.ts';

/** The parts of a key. `namespace` is absent for cluster-scoped objects. */
export interface KeyParts {
  namespace?: string;
  name: string;
}

/**
 * The key of an object given its name and, when namespaced, its namespace.
 *
 * @example
 * ```ts
 * keyOf('web', 'default'); // 'default/web'
 * keyOf('node-1');         // 'node-1'
 * ```
 */
export function keyOf(name: string, namespace?: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/**
 * The key of an object, or `undefined` when it has no name (a create request before the server
 * generated one), since such an object cannot be looked up later.
 *
 * @example
 * ```ts
 * objectKey({ metadata: { namespace: 'default', name: 'web' } }); // 'default/web'
 * ```
 */
export function objectKey(object: KubeObject): string | undefined {
  const name = object.metadata?.name;
  if (!name) return undefined;
  return keyOf(name, object.metadata?.namespace);
}

/**
 * Splits a key into namespace and name.
 *
 * @example
 * ```ts
 * parseKey('default/web'); // { namespace: 'default', name: 'web' }
 * parseKey('node-1');      // { name: 'node-1' }
 * ```
 */
export function parseKey(key: string): KeyParts {
  const slash = key.indexOf('/');
  if (slash < 0) return { name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
