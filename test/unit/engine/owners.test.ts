import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../src/client/types.ts';
import { ownerKeys, ownerMapper } from '../../../src/engine/owners.ts';

type Ref = NonNullable<NonNullable<KubeObject['metadata']>['ownerReferences']>[number];

function child(namespace: string | undefined, ...ownerReferences: Ref[]): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'child', ...(namespace ? { namespace } : {}), ownerReferences } };
}

function ref(apiVersion: string, kind: string, name: string, controller?: boolean): Ref {
  return { apiVersion, kind, name, uid: `uid-${name}`, ...(controller === undefined ? {} : { controller }) };
}

const printers = { group: 'example.com', kind: 'Printer' };

describe('owner mapping', () => {
  it('maps through the controller reference to the owner in the child namespace', () => {
    const pod = child('shop', ref('example.com/v1', 'Printer', 'p', true));
    assert.deepEqual(ownerKeys(pod, printers), ['shop/p']);
  });

  it('ignores owner references that are not the controller', () => {
    const pod = child('shop', ref('example.com/v1', 'Printer', 'not-controller'), ref('example.com/v1', 'Printer', 'false-controller', false), ref('example.com/v1', 'Printer', 'boss', true));
    assert.deepEqual(ownerKeys(pod, printers), ['shop/boss']);
  });

  it('ignores a controller of another kind or another group', () => {
    assert.deepEqual(ownerKeys(child('shop', ref('apps/v1', 'ReplicaSet', 'rs', true)), printers), []);
    assert.deepEqual(ownerKeys(child('shop', ref('other.io/v1', 'Printer', 'p', true)), printers), []);
    assert.deepEqual(ownerKeys(child('shop', ref('v1', 'Printer', 'p', true)), printers), [], 'the core group is not example.com');
  });

  it('matches the group whatever the version, and accepts an apiVersion as the owner type', () => {
    const pod = child('shop', ref('example.com/v1beta1', 'Printer', 'p', true));
    assert.deepEqual(ownerKeys(pod, printers), ['shop/p']);
    assert.deepEqual(ownerKeys(pod, { apiVersion: 'example.com/v1', kind: 'Printer' }), ['shop/p']);
    const rsPod = child('shop', ref('apps/v1', 'ReplicaSet', 'rs', true));
    assert.deepEqual(ownerKeys(rsPod, { apiVersion: 'apps/v1', kind: 'ReplicaSet' }), ['shop/rs']);
  });

  it('maps core-group owners by the empty group', () => {
    const endpoints = child('shop', ref('v1', 'Service', 'svc', true));
    assert.deepEqual(ownerKeys(endpoints, { group: '', kind: 'Service' }), ['shop/svc']);
  });

  it('keys a cluster-scoped owner by name only', () => {
    const clusterOwned = { group: 'example.com', kind: 'Cluster', namespaced: false };
    assert.deepEqual(ownerKeys(child('shop', ref('example.com/v1', 'Cluster', 'prod', true)), clusterOwned), ['prod']);
    assert.deepEqual(ownerKeys(child(undefined, ref('example.com/v1', 'Cluster', 'prod', true)), clusterOwned), ['prod']);
  });

  it('maps a cluster-scoped child to no namespaced owner', () => {
    assert.deepEqual(ownerKeys(child(undefined, ref('example.com/v1', 'Printer', 'p', true)), printers), []);
  });

  it('maps every owner of the type when asked, without duplicates', () => {
    const pod = child('shop', ref('example.com/v1', 'Printer', 'a'), ref('example.com/v1', 'Printer', 'b', true), ref('example.com/v2', 'Printer', 'a'), ref('apps/v1', 'Deployment', 'd'));
    assert.deepEqual(ownerKeys(pod, printers, { everyOwner: true }), ['shop/a', 'shop/b']);
  });

  it('maps an update through both the old and the new owner', () => {
    const toPrinters = ownerMapper(printers);
    const before = child('shop', ref('example.com/v1', 'Printer', 'old', true));
    const after = child('shop', ref('example.com/v1', 'Printer', 'new', true));
    assert.deepEqual(toPrinters(before, after), ['shop/old', 'shop/new']);
    assert.deepEqual(toPrinters(after, after), ['shop/new']);
    assert.deepEqual(toPrinters(undefined, after), ['shop/new']);
  });

  it('maps an object without metadata or owners to nothing', () => {
    assert.deepEqual(ownerKeys({}, printers), []);
    assert.deepEqual(ownerKeys(child('shop'), printers), []);
  });
});
