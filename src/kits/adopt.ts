/**
 * Adoption: making a child object belong to its owner before it is created, so that deleting the
 * owner deletes the child through Kubernetes' garbage collector (kopf's `adopt`, which combines
 * `append_owner_reference`, `adjust_namespace`, `label` and `harmonize_naming`).
 *
 * Guarantees:
 * - **Never mutates.** {@link adopt} returns a new child (new `metadata`, new `ownerReferences` and
 *   `labels`); everything else is shared with the input.
 * - **One reference per owner.** An ownerReference with the owner's uid is updated in place, never
 *   appended twice (the API server does not dedupe them).
 * - **At most one controller.** Asking to be the controller of a child that another object already
 *   controls throws an {@link AdoptError} of kind `AlreadyControlled`; Kubernetes would reject the
 *   object anyway, later and less clearly.
 * - **No cross-namespace ownership.** A namespaced owner and a child in another namespace throw
 *   `CrossNamespace`: the garbage collector treats such a reference as unresolvable and deletes
 *   the child. A cluster-scoped owner (no namespace) may own children in any namespace.
 * - The owner's labels are copied to the child (kopf's `adopt` does), unless `ownerLabels: false`.
 *   Existing child labels win over the labels passed in and those win over the owner's (kopf's
 *   non-forced `label`), so a child built with deliberate labels is never silently relabelled.
 *
 * Caveat: a cluster-scoped child of a namespaced owner is invalid in Kubernetes, but whether a
 * child is cluster-scoped is not visible in its body; pass `namespace: false` only for children
 * you know are cluster-scoped and owned by a cluster-scoped owner.
 */
import type { OwnerReference } from 'kubernetes-types/meta/v1.d.ts';
import { parseApiVersion } from '../client/paths.ts';
import type { KubeObject } from '../client/types.ts';

export type { OwnerReference };

/** Why an adoption was refused. */
export type AdoptErrorKind = 'IncompleteOwner' | 'AlreadyControlled' | 'CrossNamespace' | 'NoName';

/**
 * An adoption that Kubernetes would reject or that would get the child garbage-collected.
 *
 * @example
 * ```ts
 * try { adopt(pod, printer); } catch (err) {
 *   if (err instanceof AdoptError && err.kind === 'AlreadyControlled') logger.warn(err.hint);
 * }
 * ```
 */
export class AdoptError extends Error {
  /** Always `'AdoptError'`. */
  override readonly name = 'AdoptError';
  /** What went wrong, to branch on. */
  readonly kind: AdoptErrorKind;
  /** What to do about it. */
  readonly hint: string;
  constructor(kind: AdoptErrorKind, message: string, hint: string) {
    super(`${message}. ${hint}`);
    this.kind = kind;
    this.hint = hint;
  }
}

/** Options of {@link adopt}. */
export interface AdoptOptions {
  /** Mark the owner as the child's managing controller. Default true (kopf and controller-runtime's `SetControllerReference`). */
  controller?: boolean;
  /** The owner cannot be deleted in the foreground before this child is gone. Default true (as kopf). */
  blockOwnerDeletion?: boolean;
  /** Put the child in the owner's namespace when the owner is namespaced. Default true. */
  namespace?: boolean;
  /** Labels to add; labels the child already has are kept. */
  labels?: Record<string, string>;
  /**
   * Copy the owner's labels to the child, as kopf's `adopt` does (so a selector that finds the
   * owner finds its children too). Labels the child already has, and `labels`, win. Default true.
   */
  ownerLabels?: boolean;
  /**
   * Prefix of the child's name. `true` means `"<owner name>-"`. A child with a name gets the prefix
   * (unless its name already starts with it); a child without a name gets it as `generateName`.
   */
  namePrefix?: string | boolean;
}

/**
 * The ownerReference pointing at `owner`.
 *
 * @example
 * ```ts
 * ownerReferenceTo(printer); // { apiVersion: 'demo.operon.dev/v1', kind: 'Printer', name: 'p1', uid: '…', controller: true, blockOwnerDeletion: true }
 * ```
 */
export function ownerReferenceTo(owner: KubeObject, options: Pick<AdoptOptions, 'controller' | 'blockOwnerDeletion'> = {}): OwnerReference {
  const { apiVersion, kind } = owner;
  const name = owner.metadata?.name;
  const uid = owner.metadata?.uid;
  const missing = [!apiVersion && 'apiVersion', !kind && 'kind', !name && 'metadata.name', !uid && 'metadata.uid'].filter(Boolean);
  if (missing.length > 0 || !apiVersion || !kind || !name || !uid) {
    throw new AdoptError(
      'IncompleteOwner',
      `cannot reference the owner ${kind ?? '?'}/${name ?? '?'}: it has no ${missing.join(', ')}`,
      'adopt with the object as the API server returned it (a uid exists only after creation), not a body built locally',
    );
  }
  return { apiVersion, kind, name, uid, controller: options.controller ?? true, blockOwnerDeletion: options.blockOwnerDeletion ?? true };
}

/**
 * Makes `child` owned by `owner`: ownerReference, namespace, labels and name prefix, as set by
 * `options`. Returns a new child of the same type; throws {@link AdoptError} on an adoption
 * Kubernetes would reject or undo.
 *
 * @example
 * ```ts
 * const pod = adopt({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'print' }, spec }, printer, { labels: { app: 'printer' } });
 * await client.create(pods, pod); // deleted by the garbage collector with `printer`
 * ```
 */
export function adopt<C extends KubeObject>(child: C, owner: KubeObject, options: AdoptOptions = {}): C {
  const reference = ownerReferenceTo(owner, options);
  const metadata = { ...child.metadata };
  const ownerNamespace = owner.metadata?.namespace;

  if (ownerNamespace) {
    if (metadata.namespace && metadata.namespace !== ownerNamespace) {
      throw new AdoptError(
        'CrossNamespace',
        `${describe(child)} is in namespace ${metadata.namespace} but its owner ${describe(owner)} is in ${ownerNamespace}`,
        'ownerReferences cannot cross namespaces and the garbage collector would delete the child; create it in the owner\'s namespace or use a cluster-scoped owner',
      );
    }
    if (options.namespace ?? true) metadata.namespace = ownerNamespace;
  }

  const references = [...(metadata.ownerReferences ?? [])];
  if (reference.controller) {
    const other = references.find((r) => r.controller && r.uid !== reference.uid);
    if (other) {
      throw new AdoptError(
        'AlreadyControlled',
        `${describe(child)} is already controlled by ${other.kind}/${other.name} (uid ${other.uid})`,
        `an object has at most one controller; adopt with { controller: false } to add ${describe(owner)} as a plain owner`,
      );
    }
  }
  const existing = references.findIndex((r) => r.uid === reference.uid);
  if (existing >= 0) references[existing] = { ...references[existing], ...reference };
  else references.push(reference);
  metadata.ownerReferences = references;

  const inherited = (options.ownerLabels ?? true) ? owner.metadata?.labels : undefined;
  if (options.labels || (inherited && Object.keys(inherited).length > 0)) metadata.labels = { ...inherited, ...options.labels, ...metadata.labels };

  const prefix = options.namePrefix === true ? `${reference.name}-` : options.namePrefix || undefined;
  if (prefix) {
    if (metadata.name) {
      if (!metadata.name.startsWith(prefix)) metadata.name = prefix + metadata.name;
    } else {
      metadata.generateName ??= prefix;
    }
  }

  return { ...child, metadata };
}

/**
 * Whether `child` has an ownerReference to `owner`. The uid decides when the owner has one; an
 * owner body without a uid is matched by apiVersion group, kind and name.
 *
 * @example
 * ```ts
 * if (!isOwnedBy(pod, printer)) logger.warn('pod belongs to someone else; leaving it alone');
 * ```
 */
export function isOwnedBy(child: KubeObject, owner: KubeObject): boolean {
  const uid = owner.metadata?.uid;
  const references = child.metadata?.ownerReferences ?? [];
  if (uid) return references.some((r) => r.uid === uid);
  const group = parseApiVersion(owner.apiVersion ?? '').group;
  return references.some((r) => r.kind === owner.kind && r.name === owner.metadata?.name && parseApiVersion(r.apiVersion).group === group);
}

/**
 * The ownerReference marked `controller: true`, if any (there is at most one).
 *
 * @example
 * ```ts
 * controllerOf(pod)?.kind; // 'ReplicaSet'
 * ```
 */
export function controllerOf(child: KubeObject): OwnerReference | undefined {
  return child.metadata?.ownerReferences?.find((r) => r.controller === true);
}

function describe(object: KubeObject): string {
  const name = object.metadata?.name ?? (object.metadata?.generateName ? `${object.metadata.generateName}*` : '(unnamed)');
  return `${object.kind ?? 'object'} ${name}`;
}
