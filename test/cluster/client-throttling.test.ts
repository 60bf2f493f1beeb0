/**
 * 429 Too Many Requests, as API Priority and Fairness sends it (plain text, `Retry-After` header),
 * put in front of the real API server by a proxy: the client waits as long as the server asks and
 * then succeeds, for reads and for writes, and gives up with a typed error when it never ends.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/index.ts';
import type { ApiError, KubeObject, ResourceRef } from '../../src/client/index.ts';
import { startApiProxy } from '../support/api-proxy.ts';
import { useCluster } from '../support/cluster.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('throttle');
const proxy = await startApiProxy(cluster.state);
after(() => proxy.close());
const client = KubeClient.fromConfig(proxy.clientConfig(ns));
after(() => client.close());

const configmaps: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
const cm = (name: string): KubeObject & { data: Record<string, string> } => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { a: '1' } });

/** The requests the proxy saw from `from` on, as `status` list and the gaps between them. */
function since(from: number): { statuses: number[]; gapsMs: number[] } {
  const seen = proxy.requests.slice(from);
  return { statuses: seen.map((r) => r.status), gapsMs: seen.slice(1).map((r, i) => r.at - (seen[i]?.at ?? 0)) };
}

describe('throttling by the API server (429 with Retry-After)', () => {
  it('a read waits the Retry-After of each 429 and then succeeds', async () => {
    await cluster.kubectl(['create', 'configmap', 'read-me', '-n', ns, '--from-literal=a=1']);
    const from = proxy.requests.length;
    proxy.throttleNext(2, 1);
    const read = await client.get(configmaps, 'read-me', { namespace: ns });
    assert.equal(read.metadata.name, 'read-me');
    const { statuses, gapsMs } = since(from);
    assert.deepEqual(statuses, [429, 429, 200]);
    for (const gap of gapsMs) assert.ok(gap >= 950, `retried after ${gap} ms, before the 1 s the server asked for`);
  });

  it('a create and a patch are retried too: a 429 means the server did not run the request', async () => {
    const from = proxy.requests.length;
    proxy.throttleNext(1, 1);
    const created = await client.create(configmaps, cm('created'));
    assert.equal(created.metadata.name, 'created');
    proxy.throttleNext(1, 1);
    const patched = await client.patch<KubeObject & { data: Record<string, string> }>(configmaps, 'created', { type: 'merge', body: { data: { a: '2' } } }, { namespace: ns });
    assert.equal(patched.data['a'], '2');
    assert.deepEqual(since(from).statuses, [429, 201, 429, 200]);
  });

  it('gives up after maxRetries with a typed TooManyRequests that carries the delay and a hint', async () => {
    const impatient = KubeClient.fromConfig(proxy.clientConfig(ns), { maxRetries: 1 });
    after(() => impatient.close());
    const from = proxy.requests.length;
    proxy.throttleNext(5, 1);
    const err = (await impatient.list(configmaps, { namespace: ns }).then(
      () => assert.fail('expected TooManyRequests'),
      (e: unknown) => e,
    )) as ApiError;
    proxy.throttleNext(0, 1);
    assert.equal(err.kind, 'TooManyRequests');
    assert.equal(err.code, 429);
    assert.equal(err.retryAfterMs, 1000);
    assert.match(err.message, /Too many requests, please try again later/);
    assert.match(err.hint, /throttling/);
    assert.deepEqual(since(from).statuses, [429, 429]);
  });
});
