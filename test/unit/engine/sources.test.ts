import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../src/client/types.ts';
import { mappedSource, ownerSource } from '../../../src/engine/sources.ts';
import { builtin } from '../../../src/schema/resource.ts';

const secrets = builtin('v1', 'Secret');
const secret = (name: string, app: string): KubeObject => ({ metadata: { name, namespace: 'ns', annotations: { app } } });

describe('event sources', () => {
  it('a mapped source wakes the targets of the new and the old state, once each', () => {
    const source = mappedSource(secrets, (s) => [{ name: s.metadata?.annotations?.['app'] ?? '', namespace: s.metadata?.namespace }]);
    assert.deepEqual([...source.toKeys({ object: secret('s', 'b'), old: secret('s', 'a') })], ['ns/b', 'ns/a'], 'an object that stops pointing at a key still wakes it');
    assert.deepEqual([...source.toKeys({ object: secret('s', 'a'), old: secret('s', 'a') })], ['ns/a']);
  });

  it('accepts objects as targets, and skips nameless or missing ones', () => {
    const target: KubeObject = { metadata: { name: 'app-1', namespace: 'team' } };
    const source = mappedSource(secrets, (s) => (s.metadata?.name === 'none' ? undefined : [target, { name: '' }, { name: 'cluster-wide' }]));
    assert.deepEqual([...source.toKeys({ object: secret('s', 'x'), old: undefined })], ['team/app-1', 'cluster-wide']);
    assert.deepEqual([...source.toKeys({ object: secret('none', 'x'), old: undefined })], []);
  });

  it('an owner source wakes the controller owner of the child, before and after', () => {
    const source = ownerSource(builtin('v1', 'Pod'), { group: 'operon.dev', kind: 'Printer' });
    const pod = (owner: string): KubeObject => ({
      metadata: { name: 'p', namespace: 'ns', ownerReferences: [{ apiVersion: 'operon.dev/v1', kind: 'Printer', name: owner, uid: 'u', controller: true }] },
    });
    assert.deepEqual([...source.toKeys({ object: pod('one'), old: undefined })], ['ns/one']);
    assert.deepEqual([...source.toKeys({ object: pod('two'), old: pod('one') })].sort(), ['ns/one', 'ns/two']);
  });
});
