import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import { KubeClient, CrdNotEstablishedError } from '../../../src/client/client.ts';
import { ApiError, ProtocolError, TransportError } from '../../../src/client/errors.ts';
import type { ClusterConfig } from '../../../src/client/kubeconfig.ts';
import type { ResourceRef, WatchEvent } from '../../../src/client/types.ts';
import { listen, recordingClock } from './fixtures.ts';

const pods: ResourceRef = { group: '', version: 'v1', plural: 'pods', namespaced: true };
const printers: ResourceRef = { group: 'operon.dev', version: 'v1', plural: 'printers', namespaced: true };

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}
type Reply = { status?: number; headers?: Record<string, string>; body?: unknown; lines?: string[] };

/** An HTTP server that answers with the given replies in order (the last one repeats) and records requests. */
async function scripted(t: Parameters<typeof listen>[0], replies: Reply[]): Promise<{ config: ClusterConfig; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
      const reply = replies[Math.min(seen.length - 1, replies.length - 1)] ?? {};
      res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json', ...reply.headers });
      if (reply.lines) res.end(reply.lines.map((l) => `${l}\n`).join(''));
      else res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {}));
    });
  });
  const port = await listen(t, server);
  return { config: { server: `http://127.0.0.1:${port}`, insecureSkipTlsVerify: false, namespace: 'default', auth: { type: 'none' }, source: 'test' }, seen };
}

function client(t: { after(fn: () => void): void }, config: ClusterConfig, clock = recordingClock()): KubeClient {
  const c = KubeClient.fromConfig(config, { clock, random: () => 0.5 });
  t.after(() => c.close());
  return c;
}

const status = (code: number, reason: string, message = reason): Reply => ({ status: code, body: { kind: 'Status', status: 'Failure', code, reason, message } });
const pod = (name: string): object => ({ kind: 'Pod', metadata: { name, namespace: 'default', uid: `u-${name}`, resourceVersion: '1' } });

describe('KubeClient requests', () => {
  it('addresses objects by ResourceRef with encoded paths and queries', async (t) => {
    const { config, seen } = await scripted(t, [{ body: pod('a') }, { body: { metadata: {}, items: [] } }]);
    const c = client(t, config);
    assert.equal((await c.get(pods, 'a', { namespace: 'default' })).metadata.name, 'a');
    await c.list(printers, { labelSelector: 'app in (x,y)', limit: 5 });
    assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), ['GET /api/v1/namespaces/default/pods/a', 'GET /apis/operon.dev/v1/printers?labelSelector=app%20in%20(x%2Cy)&limit=5']);
  });

  it('requires a namespace for a namespaced object instead of guessing one', async (t) => {
    const { config } = await scripted(t, [{}]);
    const c = client(t, config);
    await assert.rejects(c.get(pods, 'a'), /pods is namespaced; pass options\.namespace \(the configured default is "default"\)/);
  });

  it('sends each patch kind with its content type and apply with a field manager', async (t) => {
    const { config, seen } = await scripted(t, [{ body: pod('a') }]);
    const c = client(t, config);
    await c.patch(printers, 'p1', { type: 'merge', body: { status: { phase: 'Done' } } }, { namespace: 'lab', subresource: 'status' });
    await c.patch(printers, 'p1', { type: 'json', ops: [{ op: 'test', path: '/metadata/finalizers/0', value: 'x' }, { op: 'remove', path: '/metadata/finalizers/0' }] }, { namespace: 'lab' });
    await c.patch(printers, 'p1', { type: 'apply', body: { apiVersion: 'operon.dev/v1', kind: 'Printer', metadata: { name: 'p1', namespace: 'lab' } }, force: true }, { dryRun: 'All' });
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.contentType]),
      [
        ['PATCH', '/apis/operon.dev/v1/namespaces/lab/printers/p1/status', 'application/merge-patch+json'],
        ['PATCH', '/apis/operon.dev/v1/namespaces/lab/printers/p1', 'application/json-patch+json'],
        ['PATCH', '/apis/operon.dev/v1/namespaces/lab/printers/p1?dryRun=All&fieldManager=operon&force=true', 'application/apply-patch+yaml'],
      ],
    );
    assert.equal(JSON.parse(seen[1]?.body ?? '')[0].op, 'test');
  });

  it('sends delete options and returns a Status when the object is gone at once', async (t) => {
    const { config, seen } = await scripted(t, [{ body: { kind: 'Status', status: 'Success' } }]);
    const c = client(t, config);
    const result = await c.delete(pods, 'a', { namespace: 'default', propagationPolicy: 'Foreground', preconditions: { uid: 'u-a', resourceVersion: '7' }, gracePeriodSeconds: 0, dryRun: 'All' });
    assert.equal(result.kind, 'Status');
    assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Foreground',
      preconditions: { uid: 'u-a', resourceVersion: '7' },
      gracePeriodSeconds: 0,
      dryRun: ['All'],
    });
  });

  it('says which verb, resource and namespace RBAC denied', async (t) => {
    const { config } = await scripted(t, [status(403, 'Forbidden', 'printers.operon.dev is forbidden: User "system:serviceaccount:ops:op" cannot create resource')]);
    const c = client(t, config);
    await assert.rejects(
      c.create(printers, { metadata: { name: 'p1', namespace: 'lab' } }),
      (err: unknown) =>
        err instanceof ApiError &&
        err.kind === 'Forbidden' &&
        err.request?.verb === 'create' &&
        err.request.resource === 'printers.operon.dev' &&
        err.request.namespace === 'lab' &&
        /create printers\.operon\.dev p1 in namespace lab failed \(Forbidden, HTTP 403\)/.test(err.message),
    );
  });

  it('rejects a 2xx body that is not JSON with a ProtocolError', async (t) => {
    const { config } = await scripted(t, [{ body: '<html>login</html>', headers: { 'Content-Type': 'text/html' } }]);
    const c = client(t, config);
    await assert.rejects(c.get(pods, 'a', { namespace: 'default' }), (err: unknown) => err instanceof ProtocolError && /not JSON \(text\/html\)/.test(err.message));
  });
});

describe('KubeClient retries', () => {
  it('retries an idempotent GET on 503, waiting the Retry-After the server asked for', async (t) => {
    const { config, seen } = await scripted(t, [{ ...status(503, 'ServiceUnavailable'), headers: { 'Retry-After': '2' } }, { body: pod('a') }]);
    const clock = recordingClock();
    const c = client(t, config, clock);
    assert.equal((await c.get(pods, 'a', { namespace: 'default' })).metadata.name, 'a');
    assert.equal(seen.length, 2);
    assert.deepEqual(clock.delays, [2000]);
  });

  it('retries the plain-text 429 of priority-and-fairness and caps a huge Retry-After', async (t) => {
    const { config, seen } = await scripted(t, [{ status: 429, headers: { 'Retry-After': '600', 'Content-Type': 'text/plain' }, body: 'Too many requests, please try again later.' }, { body: { metadata: {}, items: [] } }]);
    const clock = recordingClock();
    const c = client(t, config, clock);
    await c.list(pods);
    assert.equal(seen.length, 2);
    assert.deepEqual(clock.delays, [32_000]);
  });

  it('gives up after maxRetries with the last error', async (t) => {
    const { config, seen } = await scripted(t, [status(500, 'InternalError')]);
    const c = client(t, config);
    await assert.rejects(c.get(pods, 'a', { namespace: 'default' }), { kind: 'InternalError' });
    assert.equal(seen.length, 6);
  });

  it('does not retry a create or a patch that reached the server', async (t) => {
    const { config, seen } = await scripted(t, [status(503, 'ServiceUnavailable')]);
    const c = client(t, config);
    await assert.rejects(c.create(pods, pod('a')), { kind: 'ServiceUnavailable' });
    await assert.rejects(c.patch(pods, 'a', { type: 'merge', body: {} }, { namespace: 'default' }), { kind: 'ServiceUnavailable' });
    await assert.rejects(c.replace(pods, { metadata: { name: 'a', namespace: 'default' } }), { kind: 'ServiceUnavailable' });
    assert.equal(seen.length, 3);
    // With a resourceVersion, a replace is a compare-and-swap and safe to repeat.
    await assert.rejects(c.replace(pods, { metadata: { name: 'a', namespace: 'default', resourceVersion: '3' } }), { kind: 'ServiceUnavailable' });
    assert.equal(seen.length, 9);
  });

  it('retries a create and a patch on 429 (regression: writes failed outright whenever priority-and-fairness shed load)', async (t) => {
    const throttled: Reply = { status: 429, headers: { 'Retry-After': '1', 'Content-Type': 'text/plain' }, body: 'Too many requests, please try again later.' };
    const { config, seen } = await scripted(t, [throttled, { status: 201, body: pod('a') }, throttled, { body: pod('a') }]);
    const clock = recordingClock();
    const c = client(t, config, clock);
    assert.equal((await c.create(pods, pod('a'))).metadata.name, 'a');
    assert.equal((await c.patch(pods, 'a', { type: 'merge', body: {} }, { namespace: 'default' })).metadata.name, 'a');
    assert.deepEqual(seen.map((s) => s.method), ['POST', 'POST', 'PATCH', 'PATCH']);
    assert.deepEqual(clock.delays, [1000, 1000]);
  });

  it('retries a create whose connection was refused before anything was sent', async (t) => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    let created = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      created++;
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(pod('a')));
    });
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    // The server appears during the first backoff, as an API server does after a restart.
    const clock = recordingClock(async () => {
      if (!server.listening) await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    });
    const c = KubeClient.fromConfig({ server: `http://127.0.0.1:${port}`, insecureSkipTlsVerify: false, namespace: 'default', auth: { type: 'none' }, source: 'test' }, { clock });
    t.after(() => c.close());
    assert.equal((await c.create(pods, pod('a'))).metadata.name, 'a');
    assert.equal(created, 1);
  });

  it('fails a connection error on an idempotent request after retrying, as a TransportError', async (t) => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const clock = recordingClock();
    const c = KubeClient.fromConfig({ server: `http://127.0.0.1:${port}`, insecureSkipTlsVerify: false, namespace: 'default', auth: { type: 'none' }, source: 'test' }, { clock, maxRetries: 2, random: () => 1 });
    t.after(() => c.close());
    await assert.rejects(c.list(pods, { namespace: 'x' }), (err: unknown) => err instanceof TransportError && err.request?.verb === 'list' && err.request.namespace === 'x');
    // Full jitter with random() = 1: 200 ms, then 400 ms.
    assert.deepEqual(clock.delays, [200, 400]);
  });
});

describe('KubeClient.listAll', () => {
  it('follows continue tokens, dropping resourceVersion on later pages', async (t) => {
    const { config, seen } = await scripted(t, [
      { body: { metadata: { resourceVersion: '10', continue: 'c1' }, items: [pod('a')] } },
      { body: { metadata: { resourceVersion: '10' }, items: [pod('b')] } },
    ]);
    const c = client(t, config);
    const all = await c.listAll(pods, { namespace: 'default', limit: 1, resourceVersion: '0' });
    assert.deepEqual(all.items.map((p) => p.metadata.name), ['a', 'b']);
    assert.equal(all.metadata.resourceVersion, '10');
    assert.equal(all.metadata.continue, undefined);
    assert.deepEqual(seen.map((s) => s.url), ['/api/v1/namespaces/default/pods?limit=1&resourceVersion=0', '/api/v1/namespaces/default/pods?limit=1&continue=c1']);
  });

  it('restarts from scratch once when a continue token expires', async (t) => {
    const { config, seen } = await scripted(t, [
      { body: { metadata: { continue: 'old' }, items: [pod('a')] } },
      status(410, 'Expired', 'The provided continue parameter is too old'),
      { body: { metadata: { continue: 'new' }, items: [pod('a')] } },
      { body: { metadata: { resourceVersion: '20' }, items: [pod('b')] } },
    ]);
    const c = client(t, config);
    const all = await c.listAll(pods);
    assert.deepEqual(all.items.map((p) => p.metadata.name), ['a', 'b']);
    assert.equal(seen.length, 4);
    assert.equal(seen[2]?.url, '/api/v1/pods?limit=500');
  });

  it('gives up when the token expires a second time', async (t) => {
    const { config } = await scripted(t, [
      { body: { metadata: { continue: 'old' }, items: [] } },
      status(410, 'Expired'),
      { body: { metadata: { continue: 'new' }, items: [] } },
      status(410, 'Expired'),
    ]);
    const c = client(t, config);
    await assert.rejects(c.listAll(pods), { kind: 'Expired' });
  });
});

describe('KubeClient.watch', () => {
  it('yields one event per line, ERROR events included, with the watch query', async (t) => {
    const { config, seen } = await scripted(t, [
      {
        lines: [
          JSON.stringify({ type: 'ADDED', object: pod('a') }),
          JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '5' } } }),
          JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } }),
        ],
      },
    ]);
    const c = client(t, config);
    const events: WatchEvent[] = [];
    for await (const e of c.watch(pods, { namespace: 'default', resourceVersion: '3', allowWatchBookmarks: true, timeoutSeconds: 290 })) events.push(e);
    assert.deepEqual(events.map((e) => e.type), ['ADDED', 'BOOKMARK', 'ERROR']);
    assert.equal(seen[0]?.url, '/api/v1/namespaces/default/pods?watch=true&resourceVersion=3&allowWatchBookmarks=true&timeoutSeconds=290');
  });

  it('throws the typed Expired error for a 410 at connect', async (t) => {
    const { config } = await scripted(t, [status(410, 'Expired', 'too old resource version: 3 (9)')]);
    const c = client(t, config);
    await assert.rejects(
      (async () => {
        for await (const _e of c.watch(printers, { resourceVersion: '3' })) {
          // nothing arrives
        }
      })(),
      (err: unknown) => err instanceof ApiError && err.kind === 'Expired' && err.request?.verb === 'watch' && err.request.resource === 'printers.operon.dev',
    );
  });

  it('throws on a malformed line instead of skipping it', async (t) => {
    const { config } = await scripted(t, [{ lines: [JSON.stringify({ type: 'ADDED', object: pod('a') }), '{"type":"MODIFIED","obj'] }]);
    const c = client(t, config);
    const events: WatchEvent[] = [];
    await assert.rejects(
      (async () => {
        for await (const e of c.watch(pods)) events.push(e);
      })(),
      (err: unknown) => err instanceof ProtocolError && /malformed watch event on watch pods/.test(err.message),
    );
    assert.equal(events.length, 1);
  });
});

describe('KubeClient discovery', () => {
  const appsV1 = { kind: 'APIResourceList', groupVersion: 'apps/v1', resources: [
    { name: 'deployments', kind: 'Deployment', namespaced: true },
    { name: 'deployments/status', kind: 'Deployment', namespaced: true },
  ] };

  it('resolves a kind and caches the group/version', async (t) => {
    const { config, seen } = await scripted(t, [{ body: appsV1 }]);
    const c = client(t, config);
    assert.deepEqual(await c.resolve({ apiVersion: 'apps/v1', kind: 'Deployment' }), { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true });
    await c.resolve({ apiVersion: 'apps/v1', kind: 'Deployment' });
    assert.deepEqual(seen.map((s) => s.url), ['/apis/apps/v1']);
  });

  it('refreshes once on a miss, then reports the kind as not served', async (t) => {
    const { config, seen } = await scripted(t, [{ body: appsV1 }, { body: appsV1 }, { body: { resources: [...appsV1.resources, { name: 'statefulsets', kind: 'StatefulSet', namespaced: true }] } }]);
    const c = client(t, config);
    await c.resolve({ apiVersion: 'apps/v1', kind: 'Deployment' });
    await assert.rejects(c.resolve({ apiVersion: 'apps/v1', kind: 'StatefulSet' }), (err: unknown) => err instanceof ApiError && err.kind === 'NotFound' && /served kinds: Deployment/.test(err.message));
    assert.equal(seen.length, 2);
    assert.equal((await c.resolve({ apiVersion: 'apps/v1', kind: 'StatefulSet' })).plural, 'statefulsets');
  });

  it('says when a whole group/version is not served', async (t) => {
    const { config } = await scripted(t, [status(404, 'NotFound')]);
    const c = client(t, config);
    await assert.rejects(c.resolve({ apiVersion: 'operon.dev/v1', kind: 'Printer' }), (err: unknown) => err instanceof ApiError && /apiVersion operon\.dev\/v1 is not served/.test(err.message) && /CustomResourceDefinition for Printer\.operon\.dev/.test(err.hint));
  });

  it('waits for a CRD to be Established', async (t) => {
    const crd = (conditions: object[]): Reply => ({ body: { kind: 'CustomResourceDefinition', metadata: { name: 'printers.operon.dev' }, spec: { group: 'operon.dev' }, status: { conditions } } });
    const { config, seen } = await scripted(t, [
      status(404, 'NotFound'),
      crd([{ type: 'NamesAccepted', status: 'True' }, { type: 'Established', status: 'False' }]),
      crd([{ type: 'NamesAccepted', status: 'True' }, { type: 'Established', status: 'True' }]),
    ]);
    const c = client(t, config);
    const established = await c.waitForCrdEstablished('printers.operon.dev');
    assert.equal(established.metadata.name, 'printers.operon.dev');
    assert.equal(seen.length, 3);
    assert.equal(seen[0]?.url, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/printers.operon.dev');
  });

  it('fails early when the CRD names are not accepted', async (t) => {
    const { config } = await scripted(t, [{ body: { metadata: { name: 'x.operon.dev' }, status: { conditions: [{ type: 'NamesAccepted', status: 'False', reason: 'ListKindConflict', message: 'XList is already in use' }] } } }]);
    const c = client(t, config);
    await assert.rejects(c.waitForCrdEstablished('x.operon.dev'), (err: unknown) => err instanceof CrdNotEstablishedError && /ListKindConflict/.test(err.message));
  });
});
