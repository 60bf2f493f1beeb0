/**
 * Timers and daemons on a real API server: a timer fires repeatedly and stops when its object is
 * deleted; a daemon runs per object, its signal aborts on deletion (before the finalizer goes)
 * and on operator stop.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { Registry, resource, Type } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('handlers-background');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
const pumps = resource(
  {
    group: 'background.test.operon.dev',
    version: 'v1',
    kind: 'Pump',
    spec: Type.Object({ kind: Type.String() }),
    status: Type.Object({ ticks: Type.Optional(Type.Integer()) }, { additionalProperties: true }),
  },
  { registry },
);
await installCrd(client, pumps);

const ticks = new Map<string, number>();
pumps.timer({ interval: '300ms', initialDelay: '100ms', field: 'spec.kind', value: 'timer' }, async ({ name, patch }) => {
  const n = (ticks.get(name) ?? 0) + 1;
  ticks.set(name, n);
  patch.status.ticks = n;
});

const daemons = new Map<string, { started: number; aborted: number; reason?: string }>();
pumps.daemon(
  async ({ name, signal }) => {
    const state = daemons.get(name) ?? { started: 0, aborted: 0 };
    daemons.set(name, state);
    state.started++;
    await new Promise<void>((resolve) =>
      signal.addEventListener(
        'abort',
        () => {
          state.aborted++;
          state.reason = String((signal.reason as Error)?.message ?? signal.reason);
          resolve();
        },
        { once: true },
      ),
    );
  },
  { field: 'spec.kind', value: 'daemon' },
);

const run = startOperator(registry, { client, namespaces: [ns], shutdownGraceMs: 2_000 });
after(() => run.stop());
await run.ready;
const pump = (name: string, kind: string) => ({ apiVersion: pumps.apiVersion, kind: pumps.kind, metadata: { name, namespace: ns }, spec: { kind } });

describe('timers and daemons', () => {
  it('fires a timer repeatedly and stops it when the object is deleted', async () => {
    await client.create(pumps, pump('t1', 'timer'));
    const seen = await waitFor(client, pumps, 't1', ns, (p) => (p?.status?.ticks ?? 0) >= 3, { timeoutMs: 20_000 });
    assert.deepEqual(seen?.metadata.finalizers ?? [], [], 'a timer needs no finalizer');
    await client.delete(pumps, 't1', { namespace: ns });
    await waitFor(client, pumps, 't1', ns, (p) => p === undefined);
    // The timer's task ends (not merely idles): nothing is left to tick.
    await eventually(() => run.operator.health().tasks === 0, { what: 'the timer to stop' });
  });

  it('aborts a daemon on deletion before its finalizer is removed', async () => {
    await client.create(pumps, pump('d1', 'daemon'));
    await waitFor(client, pumps, 'd1', ns, (p) => (p?.metadata.finalizers ?? []).includes('operon.dev/finalizer'));
    await eventually(() => daemons.get('d1')?.started === 1, { what: 'the daemon to start' });
    await client.delete(pumps, 'd1', { namespace: ns });
    await waitFor(client, pumps, 'd1', ns, (p) => p === undefined);
    assert.deepEqual(daemons.get('d1'), { started: 1, aborted: 1, reason: 'the object is being deleted' });
  });

  it('aborts daemons when the operator stops', async () => {
    await client.create(pumps, pump('d2', 'daemon'));
    await eventually(() => daemons.get('d2')?.started === 1, { what: 'the daemon to start' });
    await run.stop();
    assert.equal(daemons.get('d2')?.aborted, 1);
    assert.equal(run.operator.phase, 'stopped');
  });
});
