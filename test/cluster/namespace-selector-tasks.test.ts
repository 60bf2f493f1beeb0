/**
 * Namespaces chosen by a label selector: what leaving and re-entering the selection does to an
 * object's handling. Unlabelling a namespace stops its objects' daemons, and is not a deletion
 * (no DELETED reaches onEvent handlers, the objects stay); labelling it again resumes them without
 * running their create handlers a second time. (namespace-selector.test.ts covers the basics.)
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { builtin, Registry, resource } from '../../src/index.ts';
import { startOperator } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';

const cluster = await useCluster();
const nsA = await cluster.namespace('nssel-tasks-a');
const nsB = await cluster.namespace('nssel-tasks-b');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());
const configmaps = builtin('v1', 'ConfigMap');
const namespaces = builtin('v1', 'Namespace');
// Unique to this run, so namespaces of other test files never match.
const label = `nssel.test.operon.dev/${nsA}`;

const log: string[] = [];
const registry = new Registry();
const cms = resource(configmaps, { registry });
cms.onCreate(({ namespace, name }) => void log.push(`created ${namespace}/${name}`), { labels: { nssel: 'yes' } });
cms.onEvent(({ type, namespace, name }) => void log.push(`event ${type} ${namespace}/${name}`), { labels: { nssel: 'yes' } });
cms.daemon(
  async ({ namespace, name, signal }) => {
    log.push(`daemon started ${namespace}/${name}`);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    log.push(`daemon stopped ${namespace}/${name}`);
  },
  { labels: { nssel: 'yes' } },
);

const setLabel = (ns: string, value: string | null) => client.patch(namespaces, ns, { type: 'merge', body: { metadata: { labels: { [label]: value } } } });
const cm = (namespace: string, name: string) => client.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: { nssel: 'yes' } } });
const seen = (line: string) => eventually(() => log.includes(line), { timeoutMs: 30_000, what: `${line} (log: ${log.join(' | ')})` });

describe('namespace selector: leaving and re-entering', () => {
  it('handles the objects of labelled namespaces only, following labels as they change', async () => {
    await setLabel(nsA, 'on');
    await cm(nsA, 'one');
    await cm(nsB, 'one');
    const run = startOperator(registry, { client, namespaceSelector: `${label}=on` });
    after(() => run.stop());
    await run.ready;
    await seen(`created ${nsA}/one`);
    await seen(`daemon started ${nsA}/one`);

    // Labelled later: its objects are handled from then on.
    await setLabel(nsB, 'on');
    await seen(`created ${nsB}/one`);

    // Unlabelled: its daemon stops, and what happens there is no longer seen.
    await setLabel(nsA, null);
    await seen(`daemon stopped ${nsA}/one`);
    assert.ok(!log.includes(`event DELETED ${nsA}/one`), 'leaving the selection is not a deletion');
    assert.ok(await client.get(configmaps, 'one', { namespace: nsA }), 'the object itself stays');
    await cm(nsA, 'two');
    await cm(nsB, 'two');
    await seen(`created ${nsB}/two`);
    assert.ok(!log.some((l) => l.endsWith(`${nsA}/two`)), `nothing of ${nsA}/two was handled: ${log.join(' | ')}`);

    // Labelled again: handled again.
    await setLabel(nsA, 'on');
    await seen(`created ${nsA}/two`);
    assert.equal(log.filter((l) => l === `created ${nsA}/one`).length, 1, 'an object handled before is not created again');

    // Delete while selected, so the daemons' finalizers go with the operator's help.
    for (const ns of [nsA, nsB]) for (const name of ['one', 'two']) await client.delete(configmaps, name, { namespace: ns });
    await eventually(async () => (await client.list(configmaps, { namespace: nsA, labelSelector: 'nssel=yes' })).items.length + (await client.list(configmaps, { namespace: nsB, labelSelector: 'nssel=yes' })).items.length === 0, {
      timeoutMs: 30_000,
      what: 'the ConfigMaps gone',
    });
  });
});
