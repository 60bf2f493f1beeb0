/**
 * A black-holed connection to the API server (every request accepted, nothing answered) is
 * noticed: the watch is presumed stalled once it has been silent for the idle timeout, the stall
 * is logged at warn, and `/readyz` fails naming the watch, because ready means "my cache follows
 * the server". `/healthz` stays 200: reconnecting, not restarting, cures a stall. Once the network
 * answers again the watch is re-established, `/readyz` passes, and an object created during the
 * black hole is handled. Regression for issue #17, where a 60-s stall went unseen by both probes.
 *
 * The idle timeout is 2 s here so the test is short; the default (`defaults.watch.idleTimeoutMs`)
 * rests on the API server's bookmark interval. Assertions are on order and state, never on time.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { Registry, resource, Type } from '../../src/index.ts';
import { addOperatorChecks } from '../../src/runtime/probes.ts';
import { HealthServer } from '../../src/server/health.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { startApiProxy } from '../support/api-proxy.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('stall');
const admin = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => admin.close());

const declaration = {
  group: 'stall.test.operon.dev',
  version: 'v1',
  kind: 'Gadget',
  spec: Type.Object({ size: Type.Integer() }),
  status: Type.Object({ seen: Type.Optional(Type.Integer()) }),
};
const gadgets = resource(declaration, { registry: new Registry() });
await installCrd(admin, gadgets);

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

const gadget = (name: string, size: number) => ({ apiVersion: gadgets.apiVersion, kind: gadgets.kind, metadata: { name, namespace: ns }, spec: { size } });

describe('a black-holed watch', () => {
  it('regression #17: is presumed stalled, logged at warn and fails /readyz (not /healthz) until the network answers again, then catches up', async () => {
    const proxy = await startApiProxy(cluster.state);
    after(() => proxy.close());
    const viaProxy = KubeClient.fromConfig(proxy.clientConfig(ns));
    after(() => viaProxy.close());

    const registry = new Registry();
    resource(declaration, { registry }).onCreate(async ({ spec, patch }) => {
      patch.status.seen = spec.size;
    });
    const run = startOperator(registry, { client: viaProxy, namespaces: [ns], watchIdleTimeoutMs: 2_000 });
    const server = new HealthServer({ bindAddress: '127.0.0.1:0' });
    addOperatorChecks(server, run.operator);
    const { url } = await server.start();
    after(async () => {
      await run.stop();
      await server.stop();
    });

    await run.ready;
    await admin.create(gadgets, gadget('before', 1));
    await waitFor(admin, gadgets, 'before', ns, (g) => g?.status?.seen === 1);
    await eventually(async () => (await get(`${url}/readyz`)).status === 200, { what: '/readyz to pass once synced' });

    // The black hole: open streams freeze with their connections open, new requests are parked.
    proxy.hold();
    assert.ok(proxy.stallOpenStreams() >= 1, 'the operator had a watch open');
    await admin.create(gadgets, gadget('during', 2));

    await eventually(async () => (await get(`${url}/readyz`)).status === 503, { what: '/readyz to fail during the black hole' });
    const ready = await get(`${url}/readyz?verbose`);
    assert.match(ready.body, /watch of gadgets\.stall\.test\.operon\.dev in stall-\w+ is stalled/);
    assert.equal((await get(`${url}/healthz`)).status, 200, 'a stall alone is no reason to restart the operator');
    assert.ok(
      run.logs.some((r) => r.level === 'warn' && /watch stalled/.test(r.msg)),
      'the stall is logged at warn',
    );
    const health = run.operator.health();
    assert.equal(health.ready, false);
    assert.equal(health.stale.length, 1, health.stale.join('; '));

    // The network answers again: the parked reconnect goes through and the gap is replayed.
    proxy.release();
    await waitFor(admin, gadgets, 'during', ns, (g) => g?.status?.seen === 2);
    await eventually(async () => (await get(`${url}/readyz`)).status === 200, { what: '/readyz to pass once the watch answers again' });
    assert.deepEqual(run.operator.health().stale, []);
    assert.ok(run.logs.some((r) => /watch answered again after a stall/.test(r.msg)));
  });
});
