/**
 * The getting-started example works as the guide says: its CRD comes from `operon crd`, and the
 * running operator gives a Greeting its ConfigMap, owned by the Greeting.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { builtin, defaultRegistry } from '../../src/index.ts';
import { greetings } from '../../examples/first-operator/operator.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { FROM_SOURCE } from '../support/source.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('first-operator');
const crd = execFileSync(process.execPath, [...FROM_SOURCE, 'src/cli/main.ts', 'crd', 'examples/first-operator/operator.ts'], { encoding: 'utf8' });
await cluster.kubectl(['apply', '-f', '-'], { input: crd });
await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/greetings.first.operon.dev']);

const run = startOperator(defaultRegistry, { kubeconfig: cluster.kubeconfig, namespaces: [ns] });
after(() => run.stop());

describe('the getting-started operator', () => {
  it('gives a Greeting an owned ConfigMap with its message and records it in status', async () => {
    await cluster.kubectl(['apply', '-n', ns, '-f', 'examples/first-operator/greeting.yaml']);
    const greeting = await waitFor(run.client, greetings, 'world', ns, (g) => g?.status?.configMap !== undefined);
    assert.equal(greeting?.status?.configMap, 'greeting-world');
    const cm = await run.client.get(builtin('v1', 'ConfigMap'), 'greeting-world', { namespace: ns });
    assert.equal(cm.data?.['message'], 'Hello, World!');
    assert.equal(cm.metadata.ownerReferences?.[0]?.uid, greeting?.metadata.uid);
    await eventually(async () => (await cluster.kubectl(['get', 'greetings.first.operon.dev', 'world', '-n', ns, '-o', 'jsonpath={.status.configMap}'])) === 'greeting-world');
  });
});
