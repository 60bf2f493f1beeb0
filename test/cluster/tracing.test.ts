/**
 * OpenTelemetry traces on a real API server: with `tracing: true` and an SDK registered by the
 * process (as a user's would), each handling cycle is a span naming the object, the plan it took
 * and the handler it ran, and every API request of the cycle (Operon's own writes and the
 * handler's `ctx.client` calls) is a child span of it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { builtin, Registry, resource } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { useCluster } from '../support/cluster.ts';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
after(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

const cluster = await useCluster();
const ns = await cluster.namespace('tracing');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
const configmaps = builtin('v1', 'ConfigMap');
const traced = resource(configmaps, { registry });
traced.onCreate(
  async ({ client: api, namespace, patch }) => {
    await api.list(builtin('v1', 'Secret'), { namespace });
    patch.metadata.annotations['tracing/seen'] = 'yes';
  },
  { id: 'look', labels: { traced: 'yes' } },
);

// Its own client, so that the test's requests are not traced.
const operatorClient = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => operatorClient.close());
const run = startOperator(registry, { client: operatorClient, namespaces: [ns], tracing: true });
after(() => run.stop());
await run.ready;

const parentOf = (span: ReadableSpan): string | undefined => (span as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId;

describe('tracing', () => {
  it('a cycle is a span with the object, plan and handler; its API requests are its children', async () => {
    await client.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'traced', namespace: ns, labels: { traced: 'yes' } } });
    await waitFor(client, configmaps, 'traced', ns, (o) => o?.metadata.annotations?.['tracing/seen'] === 'yes', { timeoutMs: 30_000 });
    // The result's PATCH answers before its cycle's span ends: wait for the span, not only the write.
    const handled = (s: ReadableSpan): boolean => s.name === 'reconcile configmaps' && s.attributes['operon.handler'] === 'look';
    await waitFor(client, configmaps, 'traced', ns, () => exporter.getFinishedSpans().some(handled), { timeoutMs: 30_000, what: 'the cycle span to end' });
    const spans = exporter.getFinishedSpans();
    const cycle = spans.find(handled);
    assert.ok(cycle, `a cycle span that ran the handler; spans: ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(cycle.attributes['k8s.object.name'], 'traced');
    assert.equal(cycle.attributes['k8s.namespace.name'], ns);
    assert.equal(cycle.attributes['operon.plan'], 'run');
    assert.equal(cycle.attributes['operon.cause'], 'create');
    const children = spans.filter((s) => parentOf(s) === cycle.spanContext().spanId).map((s) => s.name);
    assert.ok(children.includes('LIST secrets'), `the handler's own request is a child: ${children.join(', ')}`);
    assert.ok(children.includes('PATCH configmaps'), `Operon's write of the result is a child: ${children.join(', ')}`);
  });
});
