/**
 * Metrics and probes during a real run, wired as `operon run --health-address` wires them
 * (`Metrics.load()` into the Operator, `addOperatorChecks` on the HealthServer): `/readyz` passes
 * once caches are synced, `/metrics` shows controller-runtime's reconcile and workqueue metrics
 * for the resource and `operon_watch_healthy 1`, and the reconcile count rises when an object is
 * handled. Under a ServiceAccount that may list but not watch, `/healthz` turns 503 naming the
 * resource, the namespace and the refused verb, and `operon_watch_healthy` drops to 0.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { probe, Registry, resource, Type } from '../../src/index.ts';
import { addOperatorChecks } from '../../src/runtime/probes.ts';
import { HealthServer } from '../../src/server/health.ts';
import { Metrics } from '../../src/server/metrics.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('metrics');
const config = loadClusterConfig({ kubeconfig: cluster.kubeconfig });
const client = KubeClient.fromConfig(config);
after(() => client.close());

const declaration = {
  group: 'metrics.test.operon.dev',
  version: 'v1',
  kind: 'Gadget',
  spec: Type.Object({ size: Type.Integer() }),
  status: Type.Object({ seen: Type.Optional(Type.Integer()) }),
};
const gadgets = resource(declaration, { registry: new Registry() });
await installCrd(client, gadgets);
const label = 'gadgets.metrics.test.operon.dev';

async function serve(operatorClient: KubeClient, registry: Registry): Promise<{ url: string; stop: () => Promise<void>; run: ReturnType<typeof startOperator> }> {
  const metrics = await Metrics.load({ defaultMetrics: false });
  const run = startOperator(registry, { client: operatorClient, namespaces: [ns], metrics, watchUnhealthyAfterMs: 2_000 });
  const server = new HealthServer({ bindAddress: '127.0.0.1:0', metrics });
  addOperatorChecks(server, run.operator);
  const { url } = await server.start();
  return {
    url,
    run,
    stop: async () => {
      await run.stop();
      await server.stop();
    },
  };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf('}'));
    if (wanted.every((w) => inside.split(',').includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics and probes of a running operator', () => {
  it('serves /readyz once synced, /metrics with reconcile, workqueue and watch metrics, and counts a reconcile', async () => {
    const registry = new Registry();
    resource(gadgets, { registry }).onCreate(async ({ spec, patch }) => {
      patch.status.seen = spec.size;
    });
    probe('gadget-count', async ({ client: c }) => (await c.list(gadgets, { namespace: ns })).items.length, { registry });
    probe('broken-dependency', () => {
      throw new Error('the billing API is down');
    }, { registry });
    const { url, run, stop } = await serve(client, registry);
    after(stop);
    await run.ready;
    await eventually(async () => (await get(`${url}/readyz`)).status === 200, { what: '/readyz to pass' });
    const health = await get(`${url}/healthz?verbose`);
    // A probe that throws fails liveness and says why; the others show their results.
    assert.equal(health.status, 503);
    assert.match(health.body, /\[\+\]operator ok/);
    assert.match(health.body, /\[\+\]probe-gadget-count ok/);
    assert.match(health.body, /\[-\]probe-broken-dependency failed: .*the billing API is down/);
    assert.equal((await get(`${url}/healthz/probe-gadget-count?verbose`)).status, 200);

    const before = await get(`${url}/metrics`);
    assert.equal(before.status, 200);
    assert.equal(sample(before.body, 'operon_watch_healthy', { resource: label }), 1);
    assert.equal(sample(before.body, 'controller_runtime_reconcile_total', { controller: label, result: 'success' }), 0);
    // The default limit adapts: its ceiling is the maximum, and it stands at its floor until objects wait.
    assert.equal(sample(before.body, 'controller_runtime_max_concurrent_reconciles', { controller: label }), 64);
    assert.equal(sample(before.body, 'operon_concurrency_limit', { controller: label }), 8);
    for (const name of ['workqueue_depth', 'workqueue_adds_total', 'workqueue_retries_total']) {
      assert.notEqual(sample(before.body, name, { name: label, controller: label }), undefined, `${name} for ${label}`);
    }

    await client.create(gadgets, { apiVersion: gadgets.apiVersion, kind: gadgets.kind, metadata: { name: 'g1', namespace: ns }, spec: { size: 3 } });
    await waitFor(client, gadgets, 'g1', ns, (g) => g?.status?.seen === 3);
    await eventually(
      async () => {
        const body = (await get(`${url}/metrics`)).body;
        const total = ['success', 'requeue_after', 'requeue', 'error'].reduce((n, result) => n + (sample(body, 'controller_runtime_reconcile_total', { controller: label, result }) ?? 0), 0);
        return total >= 1 && (sample(body, 'workqueue_adds_total', { name: label, controller: label }) ?? 0) >= 1;
      },
      { what: 'controller_runtime_reconcile_total and workqueue_adds_total to rise' },
    );
    const after1 = (await get(`${url}/metrics`)).body;
    assert.ok((sample(after1, 'controller_runtime_reconcile_total', { controller: label, result: 'success' }) ?? 0) >= 1);
    assert.match(after1, /controller_runtime_reconcile_time_seconds_count\{controller="gadgets.metrics.test.operon.dev"\} [1-9]/);
    assert.match(after1, /workqueue_work_duration_seconds_count\{name="gadgets.metrics.test.operon.dev",controller="gadgets.metrics.test.operon.dev"\} [1-9]/);
    assert.notEqual(sample(after1, 'operon_watch_last_event_age_seconds', { resource: label }), undefined);
  });

  it('turns /healthz 503 with the reason when the watch is RBAC-denied, and operon_watch_healthy 0', async () => {
    const account = 'lister';
    await cluster.kubectl(['create', 'serviceaccount', account, '-n', ns]);
    // May list (so the first list succeeds and /readyz passes) but not watch.
    await cluster.kubectl(['create', 'role', 'gadget-lister', '-n', ns, '--verb=get,list,patch', `--resource=${label}`, `--resource=${label}/status`]);
    await cluster.kubectl(['create', 'rolebinding', 'gadget-lister', '-n', ns, '--role=gadget-lister', `--serviceaccount=${ns}:${account}`]);
    const token = (await cluster.kubectl(['create', 'token', account, '-n', ns, '--duration=10m'])).trim();
    const limited = KubeClient.fromConfig({ ...config, clientCert: undefined, clientKey: undefined, auth: { type: 'token', token } });
    after(() => limited.close());

    const registry = new Registry();
    resource(gadgets, { registry }).onCreate(async () => {});
    const { url, run, stop } = await serve(limited, registry);
    after(stop);
    await run.ready;
    let body = '';
    await eventually(
      async () => {
        const res = await get(`${url}/healthz`);
        body = res.body;
        return res.status === 503;
      },
      { timeoutMs: 30_000, what: '/healthz to fail' },
    );
    assert.match(body, /\[-\]operator failed: watch of gadgets\.metrics\.test\.operon\.dev in metrics-\w+ is backing-off, last error Forbidden/);
    assert.match(body, /"watch" on "gadgets\.metrics\.test\.operon\.dev"/);
    assert.match(body, new RegExp(`system:serviceaccount:${ns}:${account}`));
    const metrics = (await get(`${url}/metrics`)).body;
    assert.equal(sample(metrics, 'operon_watch_healthy', { resource: label }), 0);
    assert.equal((await get(`${url}/readyz`)).status, 200, 'the cache did list: ready, but not live');
  });
});
