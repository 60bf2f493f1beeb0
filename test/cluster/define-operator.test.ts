/**
 * `defineOperator`: an operator module that registers nothing when imported. Two builds of one
 * module run side by side with their own state (each counts only its own objects), the default
 * registry stays empty, and `operon run` runs such a module as it runs a kopf-style one.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { builtin, defaultRegistry, isOperatorDefinition } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { useCluster } from '../support/cluster.ts';
import { operonRun } from '../support/processes.ts';

const cluster = await useCluster();
const first = await cluster.namespace('define-a');
const second = await cluster.namespace('define-b');
const third = await cluster.namespace('define-cli');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());
const configmaps = builtin('v1', 'ConfigMap');
const fixture = fileURLToPath(new URL('./fixtures/counting-operator.ts', import.meta.url));

const cm = (name: string, namespace: string) => ({ apiVersion: 'v1' as const, kind: 'ConfigMap' as const, metadata: { name, namespace, labels: { counting: 'yes' } } });
const seen = (namespace: string, name: string, count: string) =>
  waitFor(client, configmaps, name, namespace, (o) => o?.metadata.annotations?.['counting/seen'] === count, { timeoutMs: 30_000, what: `${namespace}/${name} counted ${count}` });

describe('defineOperator', () => {
  it('registers nothing on import; two builds keep their own state', async () => {
    const before = defaultRegistry.resources.length;
    const { default: definition } = await import('./fixtures/counting-operator.ts');
    const again = await import('./fixtures/counting-operator.ts');
    assert.ok(isOperatorDefinition(definition));
    assert.equal(defaultRegistry.resources.length, before, 'importing registers nothing');
    const a = startOperator(await definition.build(), { client, namespaces: [first] });
    const b = startOperator(await again.default.build(), { client, namespaces: [second] });
    after(() => Promise.all([a.stop(), b.stop()]));
    await Promise.all([a.ready, b.ready]);

    await client.create(configmaps, cm('one', first));
    await seen(first, 'one', '1');
    await client.create(configmaps, cm('two', first));
    await seen(first, 'two', '2');
    await client.create(configmaps, cm('one', second));
    await seen(second, 'one', '1');
    assert.equal(defaultRegistry.resources.length, before);
  });

  it('operon run runs a module that exports a definition', async () => {
    const operon = operonRun([fixture, '--no-check', '-n', third, '--kubeconfig', cluster.kubeconfig, '--health-address', '127.0.0.1:0', '--quiet']);
    await client.create(configmaps, cm('by-cli', third));
    await seen(third, 'by-cli', '1').catch((error: unknown) => {
      throw new Error(`${String(error)}\noperon run stderr:\n${operon.stderr()}`);
    });
    operon.child.kill('SIGTERM');
    assert.equal(await operon.exited, 0, operon.stderr());
  });
});
