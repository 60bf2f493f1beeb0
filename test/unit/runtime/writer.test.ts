import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeClient } from '../../../src/client/client.ts';
import { ApiError } from '../../../src/client/errors.ts';
import type { Patch } from '../../../src/client/patch.ts';
import type { Stored } from '../../../src/client/types.ts';
import { OwnWriteTracker } from '../../../src/runtime/own-writes.ts';
import { holdsMergePatch, ObjectWriter, StaleObjectError } from '../../../src/runtime/writer.ts';
import { newPatch } from '../../../src/state/patch.ts';

const ref = { group: 'x.dev', version: 'v1', plural: 'things', namespaced: true };
const object = (rv: string, extra: Record<string, unknown> = {}): Stored => ({ metadata: { name: 'a', namespace: 'ns', uid: 'u', resourceVersion: rv }, ...extra });

/** A client whose PATCHes `respond` answers; a GET (after a conflict) returns `current`. */
function fakeClient(respond: (patch: Patch, subresource: string | undefined, call: number) => Stored, current: Stored = object('15')) {
  const calls: Array<{ patch: Patch; subresource: string | undefined }> = [];
  const reads: string[] = [];
  const client = {
    patch: async (_ref: unknown, _name: string, patch: Patch, options: { subresource?: string }) => {
      calls.push({ patch, subresource: options.subresource });
      return respond(patch, options.subresource, calls.length);
    },
    get: async (_ref: unknown, name: string) => {
      reads.push(name);
      return current;
    },
  } as unknown as KubeClient;
  return { client, calls, reads };
}

describe('ObjectWriter', () => {
  it('sends status first, then the object, each with the version read as precondition, and records them as own writes', async () => {
    const { client, calls } = fakeClient((_p, _s, n) => object(String(10 + n)));
    const tracker = new OwnWriteTracker();
    const writer = new ObjectWriter({ client, ref, statusSubresource: true, tracker });
    const patch = newPatch();
    patch.status['pod'] = 'p';
    patch.metadata.annotations['operon.dev/x'] = '1';
    const after = await writer.apply(object('10'), patch);
    assert.equal(after?.metadata.resourceVersion, '12');
    assert.deepEqual(
      calls.map((c) => [c.subresource, (c.patch as { body: { metadata: { resourceVersion: string } } }).body.metadata.resourceVersion]),
      [['status', '10'], [undefined, '11']],
    );
    assert.equal(tracker.isEcho('MODIFIED', object('11')), true);
    assert.equal(tracker.isEcho('MODIFIED', object('12')), true);
  });

  it('sends a conflicting patch again without precondition, and does not record it', async () => {
    const { client, calls } = fakeClient((_p, _s, n) => {
      if (n === 1) throw new ApiError({ kind: 'Conflict', code: 409, message: 'conflict' });
      return object('20');
    });
    const tracker = new OwnWriteTracker();
    const writer = new ObjectWriter({ client, ref, statusSubresource: true, tracker });
    const patch = newPatch();
    patch.spec['n'] = 1;
    await writer.apply(object('10'), patch);
    assert.equal(calls.length, 2);
    assert.equal((calls[1]?.patch as { body: { metadata?: unknown } }).body.metadata, undefined);
    assert.equal(tracker.isEcho('MODIFIED', object('20')), false);
  });

  it('after a conflict, sends nothing when the object already holds what the patch sets', async () => {
    // A timer and a cycle of one object both wrote the same value: the second write has nothing to add.
    const already = object('30', { status: { value: '$1.0000', conditions: [{ type: 'Ready' }] } });
    const { client, calls, reads } = fakeClient(() => {
      throw new ApiError({ kind: 'Conflict', code: 409, message: 'conflict' });
    }, already);
    const writer = new ObjectWriter({ client, ref, statusSubresource: true });
    const patch = newPatch();
    patch.status['value'] = '$1.0000';
    patch.status['conditions'] = [{ type: 'Ready' }];
    patch.status['stale'] = null;
    const after = await writer.apply(object('10'), patch);
    assert.equal(calls.length, 1, 'only the guarded attempt');
    assert.deepEqual(reads, ['a']);
    assert.equal(after?.metadata.resourceVersion, '30');
    assert.equal(writer.latest('ns/a', object('10'))?.metadata.resourceVersion, '30', 'what was read is remembered as the freshest state');
  });

  it('holdsMergePatch: values deep-equal, nulls absent, nested objects merged', () => {
    assert.equal(holdsMergePatch({ status: { a: 1, b: [1, { c: 2 }] } }, { status: { a: 1, b: [1, { c: 2 }] } }), true);
    assert.equal(holdsMergePatch({ status: { a: 1 } }, { status: { gone: null } }), true);
    assert.equal(holdsMergePatch({ status: { a: 1 } }, { status: { a: null } }), false);
    assert.equal(holdsMergePatch({ status: { a: 1 } }, { status: { a: 2 } }), false);
    assert.equal(holdsMergePatch({ status: { b: [1, 2] } }, { status: { b: [1] } }), false, 'a list is replaced whole');
    assert.equal(holdsMergePatch({}, { status: { a: null } }), true);
    assert.equal(holdsMergePatch({}, { status: { a: 1 } }), false);
  });

  it('returns its own result while the cache lags behind it, and the cache once it caught up', async () => {
    const { client } = fakeClient(() => object('12', { spec: { n: 1 } }));
    const writer = new ObjectWriter({ client, ref, statusSubresource: false });
    const patch = newPatch();
    patch.spec['n'] = 1;
    await writer.apply(object('10'), patch);
    assert.equal(writer.latest('ns/a', object('10'))?.metadata.resourceVersion, '12');
    assert.equal(writer.latest('ns/a', object('11'))?.metadata.resourceVersion, '12', 'numerically older');
    assert.equal(writer.latest('ns/a', object('13'))?.metadata.resourceVersion, '13');
    assert.equal(writer.latest('ns/a', object('10'))?.metadata.resourceVersion, '10', 'forgotten once the cache caught up');
  });

  it('drops a remembered write as soon as the cache is seen to catch up, not only at the next cycle', async () => {
    const written = object('12', { spec: { n: 1 } });
    const { client } = fakeClient(() => written);
    const writer = new ObjectWriter({ client, ref, statusSubresource: false });
    const patch = newPatch();
    patch.spec['n'] = 1;
    await writer.apply(object('10'), patch);
    writer.observe('ns/a', object('11'));
    assert.equal(writer.latest('ns/a', object('11')), written, 'the cache still lags: kept');
    writer.observe('ns/a', object('12'));
    const cachedAgain = object('12');
    assert.equal(writer.latest('ns/a', cachedAgain), cachedAgain, 'the cache caught up: dropped');
    await writer.apply(object('12'), patch);
    writer.observe('ns/a', undefined);
    assert.equal(writer.latest('ns/a', object('10'))?.metadata.resourceVersion, '10', 'deleted: dropped');
  });

  it('sends nothing for an empty patch, and treats a vanished object as gone', async () => {
    const { client, calls } = fakeClient(() => {
      throw new ApiError({ kind: 'NotFound', code: 404, message: 'gone' });
    });
    const writer = new ObjectWriter({ client, ref, statusSubresource: true });
    assert.equal((await writer.apply(object('1'), newPatch()))?.metadata.resourceVersion, '1');
    assert.equal(calls.length, 0);
    const patch = newPatch();
    patch.spec['n'] = 1;
    assert.equal(await writer.apply(object('1'), patch), undefined);
  });

  it('turns a refused finalizer test into a StaleObjectError', async () => {
    const { client } = fakeClient(() => {
      throw new ApiError({ kind: 'Invalid', code: 422, message: 'test failed' });
    });
    const writer = new ObjectWriter({ client, ref, statusSubresource: true });
    await assert.rejects(writer.json(object('1'), [{ op: 'test', path: '/metadata/finalizers', value: null }]), StaleObjectError);
  });
});
