import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/base/logger.ts';
import type { KubeClient } from '../../../src/client/client.ts';
import type { KubeObject, Stored } from '../../../src/client/types.ts';
import { objectContext, type ContextInput } from '../../../src/handlers/context.ts';
import type { Recorder } from '../../../src/handlers/recorder.ts';
import type { HandlerCache } from '../../../src/handlers/types.ts';
import { builtin } from '../../../src/schema/resource.ts';
import { newPatch } from '../../../src/state/patch.ts';

const configMaps = builtin('v1', 'ConfigMap');

function stored(name: string, extra: Partial<KubeObject> = {}): Stored<KubeObject> {
  return { apiVersion: 'v1', kind: 'ConfigMap', ...extra, metadata: { name, namespace: 'shop', uid: `uid-${name}`, resourceVersion: '1', ...extra.metadata } } as Stored<KubeObject>;
}

function inputFor(body: ContextInput<KubeObject>['body']): { input: ContextInput<KubeObject>; events: string[]; queued: string[] } {
  const events: string[] = [];
  const queued: string[] = [];
  const recorder: Recorder = {
    info: (object, reason, message) => events.push(`Normal ${object.metadata?.name} ${reason}: ${message}`),
    warn: (object, reason, message) => events.push(`Warning ${object.metadata?.name} ${reason}: ${message}`),
    exception: (object, reason, error) => events.push(`Warning ${object.metadata?.name} ${reason}: ${String(error)}`),
  };
  const input: ContextInput<KubeObject> = {
    body,
    id: 'value',
    patch: newPatch(),
    logger: silentLogger,
    client: {} as KubeClient,
    cache: {} as HandlerCache<KubeObject>,
    recorder,
    resource: configMaps,
    signal: new AbortController().signal,
    retry: 2,
    startedAt: new Date(0),
    enqueue: (key) => queued.push(key),
  };
  return { input, events, queued };
}

describe('objectContext', () => {
  it('lets a handler destructure fields and functions alike, kopf-style', () => {
    const { input, events, queued } = inputFor(stored('btc', { metadata: { name: 'btc', labels: { tier: 'gold' } } } as Partial<KubeObject>));
    const handler = ({ name, namespace, uid, spec, status, labels, annotations, retry, id, info, warn, exception, enqueue }: ReturnType<typeof objectContext<KubeObject>>): void => {
      assert.deepEqual({ name, namespace, uid, spec, status, labels, annotations, retry, id }, { name: 'btc', namespace: 'shop', uid: 'uid-btc', spec: {}, status: {}, labels: { tier: 'gold' }, annotations: {}, retry: 2, id: 'value' });
      info('Valued', 'worth $1');
      warn('Stale', 'old price', stored('other'));
      exception('Failed', new Error('boom'));
      enqueue('eth');
      enqueue('doge', 'vault');
    };
    handler(objectContext(input));
    assert.deepEqual(events, ['Normal btc Valued: worth $1', 'Warning other Stale: old price', 'Warning btc Failed: Error: boom']);
    assert.deepEqual(queued, ['shop/eth', 'vault/doge']);
  });

  it('adds the kind\'s own fields, and reads a daemon\'s body anew at every access', () => {
    let latest = stored('btc', { spec: { coin: 'bitcoin' } } as Partial<KubeObject>);
    const { input } = inputFor(() => latest);
    const ctx = objectContext(input, { cause: 'update' as const, old: 1, new: 2 });
    assert.equal(ctx.cause, 'update');
    assert.deepEqual([ctx.old, ctx.new], [1, 2]);
    assert.deepEqual(ctx.spec, { coin: 'bitcoin' });
    latest = stored('btc', { spec: { coin: 'ethereum' } } as Partial<KubeObject>);
    assert.deepEqual(ctx.spec, { coin: 'ethereum' });
    assert.equal(ctx.body, latest);
  });
});
