import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admit } from '../../../src/admission/review.ts';
import { silentLogger } from '../../../src/base/logger.ts';
import { Registry, resource, Type } from '../../../src/index.ts';
import { addShardAssignment, assignmentId } from '../../../src/runtime/shard-assignment.ts';

function setup(owner: string | undefined) {
  const registry = new Registry();
  const printers = resource({ group: 'demo.operon.dev', version: 'v1', kind: 'Printer', spec: Type.Object({}) }, { registry });
  printers.onCreate(async () => {});
  const seen: string[] = [];
  addShardAssignment(registry, 'printers', (key) => (seen.push(key), owner));
  const spec = registry.resources[0]?.admission.find((a) => a.id === assignmentId('printers'));
  assert.ok(spec);
  return { spec, seen };
}

const review = (metadata: Record<string, unknown>) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'u1',
    kind: { group: 'demo.operon.dev', version: 'v1', kind: 'Printer' },
    resource: { group: 'demo.operon.dev', version: 'v1', resource: 'printers' },
    namespace: 'lab',
    operation: 'CREATE',
    userInfo: {},
    object: { apiVersion: 'demo.operon.dev/v1', kind: 'Printer', metadata, spec: {} },
  },
});

const patchOf = (reply: { response: { patch?: string } }) => (reply.response.patch ? JSON.parse(Buffer.from(reply.response.patch, 'base64').toString()) : undefined);

describe('the assignment webhook handler', () => {
  it('adds the shard label from the ring, keyed by group, kind, namespace and name', async () => {
    const { spec, seen } = setup('replica-b');
    const reply = await admit(spec, review({ name: 'p1' }), silentLogger);
    assert.equal(reply.response.allowed, true);
    assert.deepEqual(patchOf(reply), [{ op: 'add', path: '/metadata/labels', value: { 'shard.sharding.operon.dev/printers': 'replica-b' } }]);
    assert.deepEqual(seen, ['demo.operon.dev/Printer/lab/p1']);
  });

  it('keeps the other labels', async () => {
    const { spec } = setup('replica-b');
    const reply = await admit(spec, review({ name: 'p1', labels: { app: 'x' } }), silentLogger);
    assert.deepEqual(patchOf(reply), [{ op: 'add', path: '/metadata/labels/shard.sharding.operon.dev~1printers', value: 'replica-b' }]);
  });

  it('lets an object through unassigned when the ring has no member, or it has no name yet (generateName)', async () => {
    assert.equal(patchOf(await admit(setup(undefined).spec, review({ name: 'p1' }), silentLogger)), undefined);
    assert.equal(patchOf(await admit(setup('replica-b').spec, review({ generateName: 'p-' }), silentLogger)), undefined);
  });

  it('never reassigns an object that has a shard', async () => {
    const reply = await admit(setup('replica-b').spec, review({ name: 'p1', labels: { 'shard.sharding.operon.dev/printers': 'replica-a' } }), silentLogger);
    assert.equal(patchOf(reply), undefined);
  });

  it('is sent only CREATEs of unlabelled objects, and never blocks a write', () => {
    const { spec } = setup('replica-b');
    assert.deepEqual(spec.operations, ['CREATE']);
    assert.equal(spec.failurePolicy, 'Ignore');
    assert.deepEqual(spec.objectSelector, { matchExpressions: [{ key: 'shard.sharding.operon.dev/printers', operator: 'DoesNotExist' }] });
  });
});
