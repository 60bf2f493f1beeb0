/**
 * Restarts on a real API server: an operator stopped in the middle of a cause leaves its
 * progress on the object, and the next operator runs only the handlers that had not succeeded;
 * resume handlers run for objects that existed before the operator started; an object deleted
 * while no operator ran is handled when one starts.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { Registry, resource, Type } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('handlers-resume');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const declaration = { group: 'resume.test.operon.dev', version: 'v1', kind: 'Task', spec: Type.Object({ n: Type.Integer() }) } as const;

const runs: string[] = [];
let secondBlocks = true;

/** The same operator code, registered afresh as each new process would. */
function operatorCode(): Registry {
  const registry = new Registry();
  const tasks = resource(declaration, { registry });
  tasks.onCreate(async ({ name }) => void runs.push(`first:${name}`), { id: 'first' });
  tasks.onCreate(
    async ({ name, signal }) => {
      runs.push(`second:${name}`);
      if (secondBlocks) await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    },
    { id: 'second' },
  );
  tasks.onResume(async ({ name }) => void runs.push(`resume:${name}`));
  tasks.onDelete(async ({ name }) => void runs.push(`delete:${name}`));
  return registry;
}

const tasks = resource(declaration, { registry: new Registry() });
await installCrd(client, tasks);
const task = (name: string) => ({ apiVersion: tasks.apiVersion, kind: tasks.kind, metadata: { name, namespace: ns }, spec: { n: 1 } });

describe('restarts', () => {
  it('continues a cause where the previous operator stopped, never re-running a success', async () => {
    const first = startOperator(operatorCode(), { client, namespaces: [ns], shutdownGraceMs: 200 });
    await first.ready;
    await client.create(tasks, task('t1'));
    await waitFor(client, tasks, 't1', ns, (t) => (t?.metadata.annotations?.['operon.dev/first'] ?? '').includes('"success":true'));
    await waitFor(client, tasks, 't1', ns, () => runs.includes('second:t1'));
    await first.stop(); // the second handler is cut off mid-run
    assert.deepEqual(runs, ['first:t1', 'second:t1']);

    secondBlocks = false;
    const second = startOperator(operatorCode(), { client, namespaces: [ns] });
    after(() => second.stop());
    await second.ready;
    await waitFor(client, tasks, 't1', ns, (t) => t?.metadata.annotations?.['operon.dev/last-handled-configuration'] !== undefined);
    assert.deepEqual(runs, ['first:t1', 'second:t1', 'second:t1'], 'only the unfinished handler runs again; no resume with a create');
    await second.stop();

    // A third process sees a fully handled object that existed before it: resume, nothing else.
    const third = startOperator(operatorCode(), { client, namespaces: [ns] });
    after(() => third.stop());
    await third.ready;
    await waitFor(client, tasks, 't1', ns, () => runs.includes('resume:t1'));
    assert.deepEqual(runs.slice(3), ['resume:t1']);

    // Deleted while no operator runs: the finalizer holds the object, the next operator handles it.
    await third.stop();
    await client.delete(tasks, 't1', { namespace: ns });
    const fourth = startOperator(operatorCode(), { client, namespaces: [ns] });
    after(() => fourth.stop());
    await waitFor(client, tasks, 't1', ns, (t) => t === undefined);
    assert.deepEqual(runs.slice(4), ['delete:t1']);
    await fourth.stop();
  });
});
