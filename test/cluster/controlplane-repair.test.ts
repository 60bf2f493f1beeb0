/**
 * `up` on a plane with a dead component starts only that component again, on its recorded port and
 * with its data: nothing the user created is lost. Regression: `up` used to print "found a stopped
 * or broken plane, cleaning it up", delete the state folder with etcd's data and start a new plane
 * on new ports.
 *
 * A plane of this file's own (the shared one must never lose a component), without the real node.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { call } from '../../src/cluster/http.ts';
import { readState, restart, status, up } from '../../src/cluster/plane.ts';
import { isRunning } from '../../src/cluster/process.ts';
import { eventually } from '../support/cluster.ts';
import { ownPlane } from '../support/own-plane.ts';

process.env['OPERON_REAL_NODE'] = '0';
const plane = await ownPlane();
const { dir } = plane.state;
const admin = { ca: join(dir, 'pki', 'ca.crt'), cert: join(dir, 'pki', 'admin.crt'), key: join(dir, 'pki', 'admin.key') };
const api = (method: string, path: string, body?: unknown) => call(`${plane.state.server}${path}`, admin, method, body);

async function createConfigMap(name: string): Promise<void> {
  const res = await api('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { kept: 'yes' } });
  assert.equal(res.status, 201, res.body);
}

async function kill(component: 'etcd' | 'kube-scheduler'): Promise<number> {
  const state = readState(dir);
  assert.ok(state);
  const pid = state.pids[component];
  process.kill(pid, 'SIGKILL');
  await eventually(() => !isRunning(pid, join(state.binDir, component)), { what: `${component} to exit` });
  assert.equal((await status(dir)).healthy, false);
  return pid;
}

describe('up on a plane with a dead component', () => {
  it('starts a SIGKILLed kube-scheduler again on the same port, keeping the objects created before', async () => {
    await createConfigMap('before-scheduler');
    const before = readState(dir);
    const pid = await kill('kube-scheduler');
    const logs: string[] = [];
    const after = await up({ dir, log: (l) => logs.push(l) });
    assert.deepEqual(after.ports, before?.ports);
    assert.equal(after.server, before?.server);
    assert.notEqual(after.pids['kube-scheduler'], pid);
    assert.equal(after.pids['kube-apiserver'], before?.pids['kube-apiserver'], 'the running API server is left alone');
    assert.ok(!logs.some((l) => l.includes('cleaning it up')), logs.join('\n'));
    assert.equal((await status(dir)).healthy, true);
    assert.equal((await api('GET', '/api/v1/namespaces/default/configmaps/before-scheduler')).status, 200);
    const args = readFileSync(`/proc/${after.pids['kube-scheduler']}/cmdline`, 'utf8').split('\0');
    assert.ok(args.includes(`--secure-port=${before?.ports.scheduler}`), args.join(' '));
  });

  it('starts a SIGKILLed etcd again with its data: objects created before are still there', async () => {
    await createConfigMap('before-etcd');
    const before = readState(dir);
    await kill('etcd');
    const after = await up({ dir, log: () => {} });
    assert.deepEqual(after.ports, before?.ports);
    assert.equal((await status(dir)).healthy, true);
    const read = await api('GET', '/api/v1/namespaces/default/configmaps/before-etcd');
    assert.equal(read.status, 200, read.body);
    assert.equal((JSON.parse(read.body) as { data: { kept: string } }).data.kept, 'yes');
    assert.equal((await api('GET', '/api/v1/namespaces/default/configmaps/before-scheduler')).status, 200);
  });

  it('restart <component> replaces one process and keeps the rest', async () => {
    const before = readState(dir);
    const after = await restart('kube-controller-manager', { dir, log: () => {} });
    assert.notEqual(after.pids['kube-controller-manager'], before?.pids['kube-controller-manager']);
    assert.equal(after.pids.etcd, before?.pids.etcd);
    assert.deepEqual(after.ports, before?.ports);
    assert.equal((await status(dir)).healthy, true);
    await assert.rejects(restart('kube-proxy', { dir, log: () => {} }), /unknown component "kube-proxy": expected one of etcd, kube-apiserver/);
  });
});
