/**
 * The names sharding writes on objects and Leases, and the sharding key of an object: one home for
 * each, so the shards, the sharder and the admission webhook cannot disagree.
 *
 * - Shard Lease: label `sharding.operon.dev/ring=<ring>` marks it a member of the ring.
 * - Object: `shard.sharding.operon.dev/<ring>=<shard>` says which shard handles it (`kubectl get
 *   -L` shows it); `drain.sharding.operon.dev/<ring>` (presence) tells that shard to let go.
 *   The ring name is part of the label key, so one object can belong to several rings (several
 *   operators), and it must therefore be a valid label-key name (at most 63 characters).
 * - Sharding key: `group/kind/namespace/name` of the object (no uid: it is unset during CREATE
 *   admission); an owned object uses its controller owner's group, kind and name, so it lands on
 *   its owner's shard.
 */
import { parseApiVersion } from '../client/paths.ts';
import type { KubeObject } from '../client/types.ts';

/** The label on a shard Lease naming its ring. */
export const RING_LABEL = 'sharding.operon.dev/ring';

const RING_NAME = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/;

/**
 * Checks a ring name; the error says what a valid one looks like.
 *
 * @example
 * ```ts
 * validateRingName('printers'); // fine
 * validateRingName('Printers'); // throws RangeError
 * ```
 */
export function validateRingName(ring: string): void {
  if (!RING_NAME.test(ring)) {
    throw new RangeError(`shard ring "${ring}" is not a valid name: use at most 63 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit (it becomes part of a label key)`);
  }
}

/**
 * The label naming an object's shard in `ring`.
 *
 * @example
 * ```ts
 * shardLabel('printers'); // 'shard.sharding.operon.dev/printers'
 * ```
 */
export function shardLabel(ring: string): string {
  return `shard.sharding.operon.dev/${ring}`;
}

/**
 * The label that tells an object's shard in `ring` to let it go.
 *
 * @example
 * ```ts
 * drainLabel('printers'); // 'drain.sharding.operon.dev/printers'
 * ```
 */
export function drainLabel(ring: string): string {
  return `drain.sharding.operon.dev/${ring}`;
}

/** The kind of a sharded resource, as the key names it. */
export interface ShardedKind {
  group: string;
  kind: string;
}

/**
 * The sharding key of a main (handled) object.
 *
 * @example
 * ```ts
 * shardingKey({ group: 'example.com', kind: 'Printer' }, 'p1', 'lab'); // 'example.com/Printer/lab/p1'
 * ```
 */
export function shardingKey(kind: ShardedKind, name: string, namespace: string | undefined): string {
  return `${kind.group}/${kind.kind}/${namespace ?? ''}/${name}`;
}

/**
 * The sharding key of an owned object: its controller owner's key, when the owner is one of
 * `owners` (the handled kinds that own it); undefined otherwise (it is not assigned).
 *
 * @example
 * ```ts
 * ownedShardingKey(pod, [{ group: 'example.com', kind: 'Printer' }]); // 'example.com/Printer/lab/p1'
 * ```
 */
export function ownedShardingKey(object: KubeObject, owners: readonly ShardedKind[]): string | undefined {
  const ref = object.metadata?.ownerReferences?.find((r) => r.controller === true);
  if (ref === undefined) return undefined;
  const { group } = parseApiVersion(ref.apiVersion);
  if (!owners.some((o) => o.group === group && o.kind === ref.kind)) return undefined;
  return shardingKey({ group, kind: ref.kind }, ref.name, object.metadata?.namespace);
}
