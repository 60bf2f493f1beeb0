/**
 * The benchmark's contender selection: the order given is the order run (a group in registry
 * order), so a comparison can be run once in each order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectContenders } from '../../../bench/harness/contenders.ts';

const names = (list: string[]): string[] => selectContenders(list).map((c) => c.name);

describe('selectContenders', () => {
  it('runs the contenders in the order named', () => {
    assert.deepEqual(names(['controller-runtime', 'operon']), ['controller-runtime', 'operon']);
    assert.deepEqual(names(['operon', 'controller-runtime']), ['operon', 'controller-runtime']);
  });

  it('expands a group in registry order and names each contender once', () => {
    const ceilings = names(['ceiling']);
    assert.ok(ceilings.length >= 2 && ceilings.every((n) => n.startsWith('ceiling-')), ceilings.join(', '));
    assert.deepEqual(names(['ceiling', 'operon', 'ceiling']), [...ceilings, 'operon']);
  });

  it('refuses an unknown name, and gives every contender for none', () => {
    assert.throws(() => selectContenders(['operon', 'nope']), /unknown contender\(s\): nope/);
    assert.ok(names([]).includes('operon') && names([]).includes('controller-runtime'));
  });
});
