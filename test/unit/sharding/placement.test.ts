import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drainLabel, ownedShardingKey, shardingKey, shardLabel, validateRingName } from '../../../src/sharding/labels.ts';
import { placeMain, placeOwned, type Placement, type ShardLabels } from '../../../src/sharding/placement.ts';
import { HashRing } from '../../../src/sharding/ring.ts';

const ring = new HashRing(['a', 'b', 'c']);
const members = new Set(['a', 'b', 'c']);
// A key per owner, found once, so the table reads as intent rather than hash values.
const keyOwnedBy = (owner: string): string => {
  for (let i = 0; ; i++) if (ring.ownerOf(`g/K/ns/o-${i}`) === owner) return `g/K/ns/o-${i}`;
};
const onB = keyOwnedBy('b');
const at = (shard: string | undefined, draining = false): ShardLabels => ({ shard, draining });

describe('placeMain', () => {
  const rows: Array<[string, ShardLabels, ReadonlySet<string>, Placement]> = [
    ['an unassigned object is assigned to its ring owner', at(undefined), members, { kind: 'assign', to: 'b' }],
    ['an object on its ring owner stays', at('b'), members, { kind: 'skip' }],
    ['an object on a live member that is not its owner is drained', at('a'), members, { kind: 'drain', from: 'a' }],
    ['a draining object waits for the acknowledgement', at('a', true), members, { kind: 'skip' }],
    ['an object on a shard that left the ring moves at once', at('gone'), members, { kind: 'move', from: 'gone', to: 'b' }],
    ['a draining object on a shard that left moves at once', at('gone', true), members, { kind: 'move', from: 'gone', to: 'b' }],
    ['a drain of an object back on its owner waits for the acknowledgement too', at('b', true), members, { kind: 'skip' }],
  ];
  for (const [what, labels, live, expected] of rows) it(what, () => assert.deepEqual(placeMain(onB, labels, ring, live), expected));

  it('leaves everything alone while the ring is empty', () => {
    assert.deepEqual(placeMain(onB, at(undefined), new HashRing([]), new Set()), { kind: 'skip' });
    assert.deepEqual(placeMain(onB, at('gone'), new HashRing([]), new Set()), { kind: 'skip' });
  });
});

describe('placeOwned', () => {
  const rows: Array<[string, ShardLabels, ShardLabels | undefined, Placement]> = [
    ['follows an assigned owner', at(undefined), at('b'), { kind: 'assign', to: 'b' }],
    ['stays with its owner', at('b'), at('b'), { kind: 'skip' }],
    ['moves after its owner moved', at('a'), at('b'), { kind: 'move', from: 'a', to: 'b' }],
    ['stays while its owner drains', at('a'), at('a', true), { kind: 'skip' }],
    ['stays while its owner is between shards', at('a'), at(undefined), { kind: 'skip' }],
    ['stays when the owner is unknown', at('a'), undefined, { kind: 'skip' }],
    // Regression: the child's move event arrived before the owner's, and the child went back to the dead shard.
    ['never follows an owner seen on a shard that left the ring', at('b'), at('gone'), { kind: 'skip' }],
  ];
  for (const [what, labels, owner, expected] of rows) it(what, () => assert.deepEqual(placeOwned(labels, owner, members), expected));
});

describe('sharding labels and keys', () => {
  it('names the labels after the ring', () => {
    assert.equal(shardLabel('chores'), 'shard.sharding.operon.dev/chores');
    assert.equal(drainLabel('chores'), 'drain.sharding.operon.dev/chores');
  });
  it('refuses a ring name that cannot be part of a label key, saying what a valid one is', () => {
    assert.throws(() => validateRingName('Chores'), /not a valid name: use at most 63 lowercase/);
    assert.throws(() => validateRingName('x'.repeat(64)), /not a valid name/);
    validateRingName('chores.v1');
  });
  it('keys a main object by group, kind, namespace and name', () => {
    assert.equal(shardingKey({ group: 'g', kind: 'K' }, 'n', 'ns'), 'g/K/ns/n');
    assert.equal(shardingKey({ group: 'g', kind: 'K' }, 'n', undefined), 'g/K//n');
  });
  it("keys an owned object by its controller owner, so it lands on the owner's shard", () => {
    const pod = {
      metadata: {
        name: 'p',
        namespace: 'ns',
        ownerReferences: [
          { apiVersion: 'other/v1', kind: 'X', name: 'x', uid: '1' },
          { apiVersion: 'g/v1', kind: 'K', name: 'owner', uid: '2', controller: true },
        ],
      },
    };
    assert.equal(ownedShardingKey(pod, [{ group: 'g', kind: 'K' }]), 'g/K/ns/owner');
    assert.equal(ownedShardingKey(pod, [{ group: 'h', kind: 'K' }]), undefined);
    assert.equal(ownedShardingKey({ metadata: { name: 'p' } }, [{ group: 'g', kind: 'K' }]), undefined);
  });
});
