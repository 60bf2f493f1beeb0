import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.d.ts';
import { AdoptError, adopt, controllerOf, isOwnedBy, ownerReferenceTo } from '../../../src/kits/adopt.ts';

const printer = {
  apiVersion: 'demo.operon.dev/v1',
  kind: 'Printer',
  metadata: { name: 'p1', namespace: 'ns-a', uid: 'uid-p1', labels: { team: 'x' } },
};
const pod = (): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'print' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

describe('adopt', () => {
  it('adds a controller ownerReference and the owner namespace, keeping the child type and input intact', () => {
    const child = pod();
    const adopted: Pod = adopt(child, printer);
    assert.deepEqual(adopted.metadata?.ownerReferences, [
      { apiVersion: 'demo.operon.dev/v1', kind: 'Printer', name: 'p1', uid: 'uid-p1', controller: true, blockOwnerDeletion: true },
    ]);
    assert.equal(adopted.metadata?.namespace, 'ns-a');
    assert.equal(adopted.spec, child.spec, 'the spec is shared, not copied');
    assert.equal(child.metadata?.ownerReferences, undefined, 'the input is not mutated');
    assert.equal(child.metadata?.namespace, undefined);
  });

  it('never duplicates the reference of an owner adopted twice, and updates it in place', () => {
    const once = adopt(pod(), printer, { controller: false });
    const twice = adopt(once, printer);
    assert.equal(twice.metadata?.ownerReferences?.length, 1);
    assert.equal(twice.metadata?.ownerReferences?.[0]?.controller, true);
  });

  it('refuses a second controller and names the first', () => {
    const owned = adopt(pod(), printer);
    const other = { ...printer, metadata: { ...printer.metadata, name: 'p2', uid: 'uid-p2' } };
    assert.throws(
      () => adopt(owned, other),
      (err: unknown) => err instanceof AdoptError && err.kind === 'AlreadyControlled' && /Printer\/p1/.test(err.message) && /controller: false/.test(err.hint),
    );
    const both = adopt(owned, other, { controller: false });
    assert.equal(both.metadata?.ownerReferences?.length, 2);
    assert.equal(controllerOf(both)?.uid, 'uid-p1');
  });

  it('refuses a child in another namespace than its namespaced owner', () => {
    const elsewhere = { ...pod(), metadata: { name: 'x', namespace: 'ns-b' } };
    assert.throws(() => adopt(elsewhere, printer), (err: unknown) => err instanceof AdoptError && err.kind === 'CrossNamespace' && /ns-b/.test(err.message));
    assert.throws(() => adopt(elsewhere, printer, { namespace: false }), /CrossNamespace|cannot cross namespaces/);
  });

  it('lets a cluster-scoped owner own children in any namespace, without touching the namespace', () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'uid-n1' } };
    const child = adopt({ ...pod(), metadata: { name: 'x', namespace: 'ns-b' } }, node);
    assert.equal(child.metadata?.namespace, 'ns-b');
    assert.equal(adopt(pod(), node).metadata?.namespace, undefined);
  });

  it('leaves the namespace alone with namespace: false', () => {
    assert.equal(adopt(pod(), printer, { namespace: false }).metadata?.namespace, undefined);
  });

  it('adds labels without overwriting the child\'s own', () => {
    const child = { ...pod(), metadata: { name: 'print', labels: { app: 'mine' } } };
    const adopted = adopt(child, printer, { labels: { app: 'printer', owner: 'p1' } });
    assert.deepEqual(adopted.metadata?.labels, { team: 'x', app: 'mine', owner: 'p1' });
  });

  it("copies the owner's labels, as kopf's adopt does; the child's own and the given ones win", () => {
    const child = { ...pod(), metadata: { name: 'print', labels: { team: 'child-team' } } };
    assert.deepEqual(adopt(pod(), printer).metadata?.labels, { team: 'x' });
    assert.deepEqual(adopt(child, printer).metadata?.labels, { team: 'child-team' });
    assert.deepEqual(adopt(pod(), printer, { labels: { team: 'given' } }).metadata?.labels, { team: 'given' });
    assert.equal(adopt(pod(), printer, { ownerLabels: false }).metadata?.labels, undefined);
  });

  it('prefixes names, or sets generateName for unnamed children', () => {
    assert.equal(adopt(pod(), printer, { namePrefix: true }).metadata?.name, 'p1-print');
    assert.equal(adopt(adopt(pod(), printer, { namePrefix: true }), printer, { namePrefix: true }).metadata?.name, 'p1-print', 'prefix applied once');
    const unnamed = adopt({ apiVersion: 'v1', kind: 'Pod', metadata: {} } as Pod, printer, { namePrefix: 'job-' });
    assert.equal(unnamed.metadata?.generateName, 'job-');
    assert.equal(unnamed.metadata?.name, undefined);
  });

  it('refuses an owner without uid (a body that was never created)', () => {
    const local = { apiVersion: 'demo.operon.dev/v1', kind: 'Printer', metadata: { name: 'p1', namespace: 'ns-a' } };
    assert.throws(() => adopt(pod(), local), (err: unknown) => err instanceof AdoptError && err.kind === 'IncompleteOwner' && /metadata\.uid/.test(err.message));
    assert.throws(() => ownerReferenceTo({ metadata: { name: 'x', uid: 'u' } }), /apiVersion, kind/);
  });

  it('sets blockOwnerDeletion and controller as asked', () => {
    const ref = adopt(pod(), printer, { controller: false, blockOwnerDeletion: false }).metadata?.ownerReferences?.[0];
    assert.equal(ref?.controller, false);
    assert.equal(ref?.blockOwnerDeletion, false);
  });
});

describe('isOwnedBy and controllerOf', () => {
  it('matches by uid, or by group, kind and name when the owner has no uid', () => {
    const owned = adopt(pod(), printer, { controller: false });
    assert.equal(isOwnedBy(owned, printer), true);
    assert.equal(isOwnedBy(owned, { ...printer, metadata: { ...printer.metadata, uid: 'other' } }), false);
    assert.equal(isOwnedBy(owned, { apiVersion: 'demo.operon.dev/v2', kind: 'Printer', metadata: { name: 'p1' } }), true, 'version does not matter');
    assert.equal(isOwnedBy(owned, { apiVersion: 'other.dev/v1', kind: 'Printer', metadata: { name: 'p1' } }), false);
    assert.equal(isOwnedBy(pod(), printer), false);
    assert.equal(controllerOf(owned), undefined);
    assert.equal(controllerOf(adopt(pod(), printer))?.name, 'p1');
  });
});
