/**
 * Creating or updating a child object the way controllers keep children in shape: server-side
 * apply of the desired state, owned and controlled by its parent, so the garbage collector
 * removes it with the parent and `owns()` wakes the parent when it changes.
 *
 * Guarantees:
 * - One request whether the child exists or not (an apply creates a missing object), and none of
 *   the get-compare-update races of a hand-written create-or-update.
 * - Only the fields in `child` are claimed by the field manager; fields others set (a HPA's
 *   replicas, a defaulted port) are left alone unless `child` names them.
 * - `force` defaults to true: the operator owns the fields it declares, as kubebuilder's
 *   `client.ForceOwnership` recommends for controllers; a conflict with another manager would
 *   otherwise fail every reconcile until a person intervenes.
 * - `operon rbac` grants `patch` on every kind a resource `owns()`, which is what an apply needs.
 */
import type { KubeClient } from '../client/client.ts';
import type { KubeObject, ResourceRef, Stored } from '../client/types.ts';
import { adopt, AdoptError, type AdoptOptions } from './adopt.ts';

/** Options of {@link applyOwned}. */
export interface ApplyOwnedOptions extends Pick<AdoptOptions, 'labels'> {
  /** The field manager recorded for the applied fields. Default: `defaults.client.fieldManager` (`operon`). */
  fieldManager?: string;
  /** Take over fields another manager owns. Default true (see the module comment). */
  force?: boolean;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/**
 * Server-side applies `child` as a child controlled by `owner` (ownerReference with
 * `controller` and `blockOwnerDeletion`, in the owner's namespace) and returns it as stored.
 * `child` needs `apiVersion`, `kind` and `metadata.name`: apply cannot generate names.
 *
 * @example
 * ```ts
 * websites.reconcile(async ({ body, spec, client }) => {
 *   await applyOwned(client, builtin('v1', 'ConfigMap'), body, {
 *     apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${body.metadata.name}-html` }, data: { 'index.html': spec.html },
 *   });
 * });
 * websites.owns(builtin('v1', 'ConfigMap'));
 * ```
 */
export async function applyOwned<T extends KubeObject>(client: KubeClient, ref: ResourceRef<T>, owner: KubeObject, child: T, options: ApplyOwnedOptions = {}): Promise<Stored<T>> {
  const desired = adopt(child, owner, options.labels ? { labels: options.labels } : {});
  const name = desired.metadata?.name;
  if (!name) {
    throw new AdoptError('NoName', `applyOwned: the ${desired.kind ?? 'child'} has no metadata.name`, 'server-side apply cannot generate names: give the child a name, e.g. derived from the owner\'s');
  }
  return client.patch(ref, name, { type: 'apply', body: desired, force: options.force ?? true }, {
    ...(desired.metadata?.namespace ? { namespace: desired.metadata.namespace } : {}),
    ...(options.fieldManager ? { fieldManager: options.fieldManager } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
