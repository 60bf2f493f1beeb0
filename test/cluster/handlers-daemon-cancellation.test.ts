/**
 * A daemon's cancellation timeout on a real API server (kopf's `cancellation_timeout`): when its
 * object is deleted, a daemon that takes a while to return after its signal aborts is waited for
 * (the delete handler runs after it returned), and one that never returns holds the deletion only
 * for its timeout, with a warning naming it; then the deletion completes.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { Registry, resource, Type } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('daemon-cancel');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
const workers = resource(
  { group: 'cancel.test.operon.dev', version: 'v1', kind: 'Worker', spec: Type.Object({ mode: Type.String() }), status: Type.Object({}) },
  { registry },
);
await installCrd(client, workers);

const log: string[] = [];
let stuckForever = new Promise<void>(() => {});
after(() => {
  stuckForever = Promise.resolve();
});
workers.daemon(
  async ({ name, signal }) => {
    log.push(`${name}: started`);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    log.push(`${name}: signalled`);
    // Closing a connection: it takes a moment after the signal.
    await sleep(1_500);
    log.push(`${name}: returned`);
  },
  { id: 'slow-to-stop', field: 'spec.mode', value: 'slow', cancellationTimeout: '30s' },
);
workers.daemon(
  async ({ name }) => {
    log.push(`${name}: started`);
    // Ignores its signal entirely.
    await stuckForever;
  },
  { id: 'never-stops', field: 'spec.mode', value: 'stuck', cancellationTimeout: '1s' },
);
workers.onDelete(({ name }) => {
  log.push(`${name}: delete handler`);
});

const run = startOperator(registry, { client, namespaces: [ns] });
after(() => run.stop());
await run.ready;

const worker = (name: string, mode: string) => ({ apiVersion: workers.apiVersion, kind: workers.kind, metadata: { name, namespace: ns }, spec: { mode } });

describe('daemon cancellation timeout', () => {
  it('waits for a daemon that returns after its signal before the delete handlers run', async () => {
    await client.create(workers, worker('slow', 'slow'));
    await eventually(() => log.includes('slow: started'), { timeoutMs: 30_000, what: 'the slow daemon started' });
    await client.delete(workers, 'slow', { namespace: ns });
    await waitFor(client, workers, 'slow', ns, (w) => w === undefined, { timeoutMs: 30_000 });
    assert.deepEqual(
      log.filter((l) => l.startsWith('slow:')),
      ['slow: started', 'slow: signalled', 'slow: returned', 'slow: delete handler'],
    );
  });

  it('stops waiting for a daemon that ignores its signal after its timeout, with a warning naming it', async () => {
    await client.create(workers, worker('stuck', 'stuck'));
    await eventually(() => log.includes('stuck: started'), { timeoutMs: 30_000, what: 'the stuck daemon started' });
    await client.delete(workers, 'stuck', { namespace: ns });
    await waitFor(client, workers, 'stuck', ns, (w) => w === undefined, { timeoutMs: 30_000 });
    assert.ok(log.includes('stuck: delete handler'), 'the deletion was handled');
    const warning = run.logs.find((r) => r.level === 'warn' && String(r.msg).includes('never-stops did not return within its cancellation timeout'));
    assert.ok(warning, `a warning names the daemon: ${run.logs.filter((r) => r.level === 'warn').map((r) => r.msg).join(' | ')}`);
    assert.equal(warning.name, 'stuck');
  });
});
