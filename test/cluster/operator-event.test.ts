/**
 * Events about any object from code outside the handlers (kopf's `kopf.event(objs, ...)`):
 * `operator.event()` posts through the operator's recorder once it has started, and says so.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { builtin, Operator, Registry, resource } from '../../src/index.ts';
import { startOperator } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('operator-event');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());
const configmaps = builtin('v1', 'ConfigMap');
const events = builtin('v1', 'Event');

describe('operator.event', () => {
  it('posts an Event about any object from outside the handlers, once the operator has started', async () => {
    const registry = new Registry();
    resource(configmaps, { registry }).onCreate(() => {}, { labels: { never: 'matches' } });
    const operator = new Operator({ registry, client, namespaces: [ns] });
    const subject = await client.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'subject', namespace: ns } });
    assert.equal(operator.event(subject, 'Warning', 'TooEarly', 'not started yet'), false, 'nothing can be posted before the start');

    const run = startOperator(operator);
    after(() => run.stop());
    await run.ready;
    assert.equal(operator.event(subject, 'Warning', 'PriceFeedDown', 'the feed has not answered for 10 minutes'), true);
    await eventually(
      async () => {
        const list = await client.list(events, { namespace: ns, fieldSelector: 'involvedObject.name=subject' });
        return list.items.some((e) => e.reason === 'PriceFeedDown' && e.type === 'Warning' && e.message === 'the feed has not answered for 10 minutes');
      },
      { timeoutMs: 30_000, what: 'the PriceFeedDown Event' },
    );
    const list = await client.list(events, { namespace: ns, fieldSelector: 'involvedObject.name=subject' });
    assert.ok(!list.items.some((e) => e.reason === 'TooEarly'));
  });
});
