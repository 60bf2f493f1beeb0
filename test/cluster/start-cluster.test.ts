/**
 * `startCluster()` from `operon-k8s/testing` without a KUBECONFIG: it starts the local plane in
 * the given state folder (a plane of this file's own, without the real node), reuses it on the
 * next call, and its namespace() and installCrds() work against it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resource, Type } from 'operon-k8s';
import { startCluster } from 'operon-k8s/testing';
import { down, readState } from '../../src/cluster/plane.ts';

process.env['OPERON_REAL_NODE'] = '0';
delete process.env['KUBECONFIG'];
const stateDir = join(mkdtempSync(join(tmpdir(), 'operon-start-cluster-')), 'plane');
after(async () => {
  await down({ dir: stateDir, log: () => {} });
  rmSync(join(stateDir, '..'), { recursive: true, force: true });
});

const gadgets = resource({ group: 'start-cluster.operon.dev', version: 'v1', kind: 'Gadget', spec: Type.Object({ size: Type.Integer() }) });

const cluster = await startCluster({ stateDir, log: () => {} });
const namespace = await cluster.namespace('gadgets');

describe('startCluster without KUBECONFIG', () => {
  it('started the local plane in the state folder and uses its kubeconfig', () => {
    const state = readState(stateDir);
    assert.ok(state, 'a plane is recorded in the state folder');
    assert.equal(cluster.kubeconfig, state.kubeconfig);
  });

  it('reuses the running plane on the next call: same kubeconfig, same processes', async () => {
    const before = readState(stateDir)?.pids;
    const again = await startCluster({ stateDir, log: () => {} });
    assert.equal(again.kubeconfig, cluster.kubeconfig);
    assert.deepEqual(readState(stateDir)?.pids, before);
  });

  it('installs the CRD of a TypeBox declaration (Established) and serves objects in its namespace', async () => {
    await cluster.installCrds([gadgets]);
    await cluster.installCrds([gadgets]); // a second install replaces it in place
    const created = await cluster.client.create(gadgets, { apiVersion: gadgets.apiVersion, kind: 'Gadget', metadata: { name: 'g1', namespace }, spec: { size: 3 } });
    assert.equal(created.spec?.size, 3);
    const read = await cluster.client.get(gadgets, 'g1', { namespace });
    assert.equal(read.metadata.namespace, namespace);
  });
});
