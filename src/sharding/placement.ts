/**
 * Where an object should be, and the one step that gets it there, as pure functions of the
 * object's labels, the ring and the live members: the sharder's decision per object (the
 * reference's `pkg/controller/sharder`), tested as a table without a cluster.
 *
 * The rules, and why:
 * - An unassigned object is **assigned** to its ring owner.
 * - An object on a member that is not its ring owner (the ring grew) is **drained**: its shard is
 *   told to let go and acknowledges by removing the labels, so two shards never handle it at once;
 *   it is then assigned like a new object. While the drain label is on, nothing else happens.
 * - An object on a shard that is no ring member any more (its Lease released, or acquired by the
 *   sharder after it expired) is **moved** at once: no one is left to acknowledge, and the dead
 *   shard was fenced by the Lease.
 * - An owned object follows its owner's *current* label, not the ring: it moves only after its
 *   owner did, so the owner's shard never handles the owner without seeing its children. The
 *   sharder moves owned objects before it labels their owner, for the same reason, and checks
 *   them again whenever the owner changes. It never follows an owner onto a shard that left the
 *   ring: that view of the owner is one the sharder is about to change.
 */
import type { HashRing } from './ring.ts';

/** An object's sharding labels. */
export interface ShardLabels {
  /** The shard label's value, when the object is assigned. */
  shard: string | undefined;
  /** True while the drain label is on. */
  draining: boolean;
}

/** The one step that brings an object closer to where it should be. */
export type Placement =
  | { kind: 'skip' }
  | { kind: 'assign'; to: string }
  | { kind: 'drain'; from: string }
  | { kind: 'move'; from: string; to: string };

/**
 * The step for a main (handled) object with sharding key `key`.
 *
 * @example
 * ```ts
 * placeMain('g/Kind/ns/a', { shard: undefined, draining: false }, ring, members); // { kind: 'assign', to: 'shard-b' }
 * ```
 */
export function placeMain(key: string, labels: ShardLabels, ring: HashRing, members: ReadonlySet<string>): Placement {
  const desired = ring.ownerOf(key);
  if (desired === undefined) return { kind: 'skip' };
  const current = labels.shard;
  if (current === undefined) return { kind: 'assign', to: desired };
  if (current === desired) return { kind: 'skip' };
  if (!members.has(current)) return { kind: 'move', from: current, to: desired };
  if (labels.draining) return { kind: 'skip' };
  return { kind: 'drain', from: current };
}

/**
 * The step for an owned object whose controller owner has `owner`'s labels (undefined when the
 * owner is not known).
 *
 * @example
 * ```ts
 * placeOwned({ shard: 'a', draining: false }, { shard: 'b', draining: false }, members); // { kind: 'move', from: 'a', to: 'b' }
 * ```
 */
export function placeOwned(labels: ShardLabels, owner: ShardLabels | undefined, members: ReadonlySet<string>): Placement {
  const target = owner?.shard;
  // A view of the owner on a dead shard is stale (the owner is being moved): following it would
  // undo the move of the child that was made just before the owner's.
  if (target === undefined || labels.shard === target || !members.has(target)) return { kind: 'skip' };
  if (labels.shard === undefined) return { kind: 'assign', to: target };
  return { kind: 'move', from: labels.shard, to: target };
}
