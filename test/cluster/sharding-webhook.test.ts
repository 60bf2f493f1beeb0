/**
 * The assignment webhook of a shard ring: with `webhooks` configured, a sharded operator labels a
 * new object with its shard in the create request itself (the create's response already carries
 * the label), through a mutating webhook that the API server calls only for unlabelled objects,
 * with failure policy Ignore.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { freePorts } from '../../src/cluster/ports.ts';
import { Metrics, Registry, resource, Type } from '../../src/index.ts';
import { shardLabel } from '../../src/sharding/labels.ts';
import { startOperator } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('sharding-webhook');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const declaration = { group: 'shardhook.test.operon.dev', version: 'v1', kind: 'Task', spec: Type.Object({ n: Type.Integer() }), status: Type.Object({ done: Type.Optional(Type.Boolean()) }) } as const;
await installCrd(client, resource(declaration, { registry: new Registry() }));
const ring = 'hooks';
const label = shardLabel(ring);
const configName = `sharding-webhook-${ns}`;
after(() => cluster.kubectl(['delete', 'mutatingwebhookconfiguration', configName, '--ignore-not-found']));

const task = (name: string) => ({ apiVersion: `${declaration.group}/v1` as const, kind: 'Task' as const, metadata: { name, namespace: ns }, spec: { n: 1 } });

describe('the assignment webhook of a shard ring', () => {
  it('labels each new object with its shard in the create request itself', async () => {
    const registry = new Registry();
    const tasks = resource(declaration, { registry });
    tasks.onCreate(({ patch }) => {
      patch.status.done = true;
    });
    const [port = 0] = await freePorts(1);
    const metrics = await Metrics.load({ defaultMetrics: false });
    const run = startOperator(registry, {
      client,
      metrics,
      namespaces: [ns],
      sharding: { ring, namespace: ns, shard: 'only-shard' },
      webhooks: { clientConfig: { url: `https://127.0.0.1:${port}` }, host: '127.0.0.1', port, name: configName, certificates: { secret: { namespace: ns, name: 'webhook-tls' } } },
    });
    after(() => run.stop());
    await run.ready;

    // Until this replica's view of the ring has a member, objects pass unassigned (the sharder
    // labels them); wait for the first one the webhook labels.
    let probes = 0;
    await eventually(async () => {
      const created = await client.create(tasks, task(`probe-${probes++}`));
      return created.metadata.labels?.[label] === 'only-shard';
    }, { timeoutMs: 60_000, what: 'the webhook to label a new object' });

    for (let i = 0; i < 20; i++) {
      const created = await client.create(tasks, task(`task-${i}`));
      assert.equal(created.metadata.labels?.[label], 'only-shard', `task-${i} was created already assigned`);
    }
    await eventually(async () => (await client.list(tasks, { namespace: ns })).items.every((o) => o.status?.done === true), {
      timeoutMs: 60_000,
      what: 'every task handled by its shard',
    });

    // The replica runs the sharder too (it leads), so it reports the objects per shard.
    let scraped = '';
    await eventually(async () => {
      scraped = await metrics.registry.metrics();
      return scraped.includes(`operon_shard_objects{ring="${ring}",shard="only-shard"} ${20 + probes}`);
    }, { timeoutMs: 30_000, what: `operon_shard_objects to count ${20 + probes} objects on only-shard` });
    assert.match(scraped, /operon_shard_placements_total\{ring="hooks",kind="drain"\} 0/);

    const configuration = (await client.get({ group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', namespaced: false }, configName)) as unknown as {
      webhooks: Array<{ name: string; failurePolicy: string; objectSelector: unknown; rules: Array<{ operations: string[] }> }>;
    };
    const webhook = configuration.webhooks.find((w) => w.name.startsWith('sharding-hooks.'));
    assert.ok(webhook, 'the ring has its webhook');
    assert.equal(webhook.failurePolicy, 'Ignore');
    assert.deepEqual(webhook.objectSelector, { matchExpressions: [{ key: label, operator: 'DoesNotExist' }] });
    assert.deepEqual(webhook.rules.map((r) => r.operations), [['CREATE']]);
  });
});
