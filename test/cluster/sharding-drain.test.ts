/**
 * The drain acknowledgement waits for the object's daemons: a shard told to let an object go
 * stops the object's daemon and removes the labels only after the daemon has returned, even when
 * the daemon takes its time to stop. One replica, in process; its log is the order of events.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { Registry, resource, Type } from '../../src/index.ts';
import { drainLabel, shardLabel } from '../../src/sharding/labels.ts';
import { addOperatorChecks } from '../../src/runtime/probes.ts';
import { HealthServer } from '../../src/server/health.ts';
import { startOperator } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('sharding-drain');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const declaration = { group: 'sharddrain.test.operon.dev', version: 'v1', kind: 'Job', spec: Type.Object({ n: Type.Integer() }) } as const;
await installCrd(client, resource(declaration, { registry: new Registry() }));
const ring = 'drains';

describe('draining an object', () => {
  it('reports its shard in health, stops its daemon and acknowledges only after the daemon returned', async () => {
    const registry = new Registry();
    const jobs = resource(declaration, { registry });
    jobs.daemon(async ({ name, signal, logger }) => {
      logger.info(`daemon of ${name} started`);
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      // A daemon that takes a while to wind down: the acknowledgement must wait for it.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      logger.info(`daemon of ${name} returned`);
    });
    const run = startOperator(registry, { client, namespaces: [ns], sharding: { ring, namespace: ns, shard: 'solo' } });
    after(() => run.stop());
    const server = new HealthServer({ bindAddress: '127.0.0.1:0' });
    addOperatorChecks(server, run.operator);
    const { url } = await server.start();
    after(() => server.stop());
    await run.ready;
    await run.operator.whenLeading();
    const health = await fetch(`${url}/healthz?verbose`);
    const body = await health.text();
    assert.equal(health.status, 200, body);
    assert.match(body, /\[\+\]sharding ok/);
    assert.deepEqual(run.operator.health().sharding, { ring, shard: 'solo', holding: true });

    await client.create(jobs, { apiVersion: `${declaration.group}/v1`, kind: 'Job', metadata: { name: 'j1', namespace: ns }, spec: { n: 1 } });
    await eventually(() => run.logs.some((l) => l.msg === 'daemon of j1 started'), { timeoutMs: 60_000, what: 'the daemon to start on its shard' });
    const job = await client.get(jobs, 'j1', { namespace: ns });
    assert.equal(job.metadata.labels?.[shardLabel(ring)], 'solo');

    await client.patch(jobs, 'j1', { type: 'merge', body: { metadata: { labels: { [drainLabel(ring)]: 'true' } } } }, { namespace: ns });
    await eventually(() => run.logs.some((l) => l.msg === 'drained: let the object go to its new shard'), { timeoutMs: 30_000, what: 'the drain to be acknowledged' });
    const order = run.logs.map((l) => l.msg).filter((m) => m === 'daemon of j1 returned' || m === 'drained: let the object go to its new shard');
    assert.deepEqual(order.slice(0, 2), ['daemon of j1 returned', 'drained: let the object go to its new shard']);

    // The only shard gets it back, without the drain label, and its daemon starts again.
    await eventually(async () => {
      const back = await client.get(jobs, 'j1', { namespace: ns });
      return back.metadata.labels?.[shardLabel(ring)] === 'solo' && back.metadata.labels[drainLabel(ring)] === undefined;
    }, { timeoutMs: 30_000, what: 'the object to be assigned again' });
    await eventually(() => run.logs.filter((l) => l.msg === 'daemon of j1 started').length === 2, { timeoutMs: 30_000, what: 'the daemon to start again' });
  });
});
