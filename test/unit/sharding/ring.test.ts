import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fnv1a64, HashRing } from '../../../src/sharding/ring.ts';

const keys = Array.from({ length: 3000 }, (_, i) => `chores.test.operon.dev/Chore/ns/chore-${i}`);

function spread(ring: HashRing): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) {
    const owner = ring.ownerOf(key) as string;
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  return counts;
}

describe('fnv1a64', () => {
  it('matches the published FNV-1a 64 test vectors', () => {
    assert.equal(fnv1a64(''), 0xcbf29ce484222325n);
    assert.equal(fnv1a64('a'), 0xaf63dc4c8601ec8cn);
    assert.equal(fnv1a64('foobar'), 0x85944171f73967e8n);
  });
});

describe('HashRing', () => {
  it('gives no owner on an empty ring', () => {
    assert.equal(new HashRing([]).ownerOf('x'), undefined);
    assert.equal(new HashRing([]).empty, true);
  });

  it('maps every key to the same member whatever the order members are given in', () => {
    const a = new HashRing(['s1', 's2', 's3']);
    const b = new HashRing(['s3', 's1', 's2', 's1']);
    assert.deepEqual(b.members, ['s1', 's2', 's3']);
    for (const key of keys) assert.equal(a.ownerOf(key), b.ownerOf(key));
  });

  it('gives each of three members a share within 25% of a third of 3,000 keys', () => {
    const counts = spread(new HashRing(['replica-a', 'replica-b', 'replica-c']));
    assert.equal(counts.size, 3);
    for (const [member, count] of counts) assert.ok(count > 750 && count < 1250, `${member} got ${count} of 3000`);
  });

  it('moves only keys to the new member when a fourth joins, about a quarter of them', () => {
    const before = new HashRing(['replica-a', 'replica-b', 'replica-c']);
    const after = new HashRing(['replica-a', 'replica-b', 'replica-c', 'replica-d']);
    let moved = 0;
    for (const key of keys) {
      const was = before.ownerOf(key);
      const now = after.ownerOf(key);
      if (was === now) continue;
      moved++;
      assert.equal(now, 'replica-d', `${key} moved from ${was} to ${now}, not to the new member`);
    }
    assert.ok(moved > 3000 * 0.15 && moved < 3000 * 0.35, `${moved} of 3000 moved`);
  });

  it('moves only the keys of a member that leaves', () => {
    const before = new HashRing(['replica-a', 'replica-b', 'replica-c']);
    const after = new HashRing(['replica-a', 'replica-c']);
    for (const key of keys) {
      const was = before.ownerOf(key);
      if (was !== 'replica-b') assert.equal(after.ownerOf(key), was);
    }
  });

  it('refuses a ring without virtual nodes', () => {
    assert.throws(() => new HashRing(['a'], 0), /at least one virtual node/);
  });
});
