/**
 * The assignment webhook of a shard ring: a mutate handler on every handled resource that labels
 * a new object with its shard while it is being created, so no object waits for the sharder.
 * Every replica serves it from its own {@link RingView}.
 *
 * How it differs from the reference sharder's webhook, and why:
 * - **CREATE only.** The reference also takes UPDATEs, to assign an object in the very write that
 *   acknowledges its drain. Here the sharder assigns a drained object, because it first moves the
 *   object's children to the new shard (a new object has none).
 * - **Main resources only.** An owned object follows its owner's current label, which the webhook
 *   cannot know without reading the owner; the sharder labels it on its ADDED event.
 * - **A CREATE with `generateName`** has no name and so no key: it is let through unassigned and
 *   the sharder assigns it (the reference refuses it).
 *
 * The API server sends only objects without the shard label (object selector `DoesNotExist`);
 * `failurePolicy: Ignore`, so creating objects never depends on the operator being up (the
 * sharder assigns whatever got through).
 */
import type { Registry } from '../handlers/registry.ts';
import { resource } from '../handlers/registry.ts';
import { shardingKey, shardLabel } from '../sharding/labels.ts';

/**
 * The id of a ring's assignment handler (and so its webhook path and name).
 *
 * @example
 * ```ts
 * assignmentId('printers'); // 'sharding.printers'
 * ```
 */
export function assignmentId(ring: string): string {
  return `sharding.${ring}`;
}

/**
 * Registers the assignment handler of `ring` on every resource `registry` handles; `ownerOf`
 * gives a sharding key's shard (undefined while the ring has no member: the object is let through
 * unassigned).
 *
 * @example
 * ```ts
 * addShardAssignment(registry, 'printers', (key) => view.ownerOf(key));
 * ```
 */
export function addShardAssignment(registry: Registry, ring: string, ownerOf: (key: string) => string | undefined): void {
  const label = shardLabel(ring);
  for (const registration of registry.resources) {
    if (registration.handlers.length === 0) continue;
    const handled = registration.resource;
    const kind = { group: handled.group, kind: handled.kind };
    resource(handled, { registry }).mutate(
      ({ object, name, namespace }) => {
        const metadata = object?.metadata;
        const objectName = metadata?.name ?? name;
        if (metadata === undefined || objectName === undefined || metadata.labels?.[label] !== undefined) return;
        const shard = ownerOf(shardingKey(kind, objectName, metadata.namespace ?? namespace));
        if (shard !== undefined) metadata.labels = { ...metadata.labels, [label]: shard };
      },
      {
        id: assignmentId(ring),
        operations: ['CREATE'],
        failurePolicy: 'Ignore',
        sideEffects: 'None',
        timeoutSeconds: 5,
        objectSelector: { matchExpressions: [{ key: label, operator: 'DoesNotExist' }] },
      },
    );
  }
}
