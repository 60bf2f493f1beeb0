/**
 * A kind with two versions whose schemas differ, converted by the operator's own webhook server:
 * the real API server sends ConversionReviews to the process over loopback, and `serveConversion`
 * answers them with the declared conversions and points the CRD at itself with its CA bundle.
 * Created in v1 and read in v2 and back; created in v2 with a field v1 lacks, stored as v1 (the
 * storage version), and read back in v2 with that field intact (the conversion-data annotation).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { Registry, serveConversion, Type } from '../../src/index.ts';
import { crdToYaml, toCrd } from '../../src/manifests/crd.ts';
import { defineResource } from '../../src/schema/resource.ts';
import { conversion, defineVersions } from '../../src/schema/versions.ts';
import { startOperator } from '../../src/testing/index.ts';
import { useCluster } from '../support/cluster.ts';
import { freePorts } from '../../src/cluster/ports.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('conversion');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const group = 'conversion.test.operon.dev';
// v1 counts in a number; v2 writes it as an exact decimal string and adds a unit v1 has no room for.
const GadgetV1 = defineResource({ group, version: 'v1', kind: 'Gadget', spec: Type.Object({ size: Type.Number() }) });
const GadgetV2 = defineResource({ group, version: 'v2', kind: 'Gadget', spec: Type.Object({ size: Type.String(), unit: Type.Optional(Type.String()) }) });
const Gadgets = defineVersions({
  versions: [GadgetV1, GadgetV2],
  storage: 'v1',
  conversions: [
    conversion(GadgetV1, GadgetV2, {
      up: (o) => ({ ...o, spec: o.spec && { size: String(o.spec.size) } }),
      down: (o) => ({ ...o, spec: o.spec && { size: Number(o.spec.size) } }),
    }),
  ],
});

async function read(version: 'v1' | 'v2', name: string): Promise<{ spec: Record<string, unknown>; apiVersion: string }> {
  return JSON.parse(await cluster.kubectl(['get', `gadgets.${version}.${group}`, name, '-n', ns, '-o', 'json'])) as { spec: Record<string, unknown>; apiVersion: string };
}

describe('the conversion webhook', () => {
  it('converts between served versions through the operator, losing nothing v1 cannot hold', async () => {
    await cluster.kubectl(['apply', '-f', '-'], { input: crdToYaml(toCrd(Gadgets)) });
    after(() => cluster.kubectl(['delete', 'crd', Gadgets.crdName, '--ignore-not-found', '--wait=false']));
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${Gadgets.crdName}`]);

    const registry = new Registry();
    serveConversion(Gadgets, { registry });
    const [port = 0] = await freePorts(1);
    const run = startOperator(registry, {
      client,
      namespaces: [ns],
      webhooks: { clientConfig: { url: `https://127.0.0.1:${port}` }, host: '127.0.0.1', port, name: `conversion-${ns}`, certificates: { secret: { namespace: ns, name: 'conversion-tls' } } },
    });
    after(() => run.stop());
    await run.ready;

    const crd = JSON.parse(await cluster.kubectl(['get', 'crd', Gadgets.crdName, '-o', 'json'])) as {
      spec: { conversion: { strategy: string; webhook: { clientConfig: { url?: string; caBundle?: string } } } };
    };
    assert.equal(crd.spec.conversion.strategy, 'Webhook');
    assert.equal(crd.spec.conversion.webhook.clientConfig.url, `https://127.0.0.1:${port}/convert/${Gadgets.crdName}`);
    assert.ok(crd.spec.conversion.webhook.clientConfig.caBundle, 'the CRD trusts the server through its CA bundle');

    // Created in v1, read in v2 and back.
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'from-v1', namespace: ns }, spec: { size: 2.5 } }) });
    const asV2 = await read('v2', 'from-v1');
    assert.equal(asV2.apiVersion, `${group}/v2`);
    assert.deepEqual(asV2.spec, { size: '2.5' });
    assert.deepEqual((await read('v1', 'from-v1')).spec, { size: 2.5 });

    // Created in v2 with a unit v1 cannot hold: stored as v1, read back in v2 with the unit.
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: `${group}/v2`, kind: 'Gadget', metadata: { name: 'from-v2', namespace: ns }, spec: { size: '7', unit: 'kg' } }) });
    assert.deepEqual((await read('v1', 'from-v2')).spec, { size: 7 });
    assert.deepEqual((await read('v2', 'from-v2')).spec, { size: '7', unit: 'kg' });
    const conversions = run.operator.webhooks?.server?.requests ?? 0;
    assert.ok(conversions > 0, 'the API server called the operator');
  });
});
