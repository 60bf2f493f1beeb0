/**
 * Proof that the real node (src/cluster/node.ts) runs Pods for real: what a container prints
 * comes back through `kubectl logs` byte for byte, the security context is enforced by the kernel,
 * and deleting a Pod's owner removes the container from containerd.
 *
 * No test here is ever skipped. What runs depends on what `up` recorded about the real node:
 * - running: the tests below.
 * - unsupported (the machine failed the preflight, or OPERON_REAL_NODE=0): one test checks that
 *   the plane says why and that no Node claims to be real, and prints the reason. A plane that
 *   runs kwok only is the designed outcome on such a machine, so this is not a failure.
 * - failed (the machine passed the preflight but the node did not start), or interrupted: one
 *   test that fails with the recorded reason.
 * - nothing recorded (a plane started before the real node existed): the preflight is run here;
 *   if the machine passes it, the test fails and asks for a restart of the plane, otherwise it is
 *   the unsupported case.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { REAL_NODE, REAL_NODE_LABEL, RUN_ON_REAL_NODE } from '../../src/cluster/node.ts';
import { realNodeGate } from '../support/real-node.ts';
import { eventually, useCluster, type Cluster } from '../support/cluster.ts';

const cluster = await useCluster();

const g = realNodeGate(cluster);

if (g.kind === 'unsupported') {
  describe('the real node', () => {
    it('is absent on this machine, and the plane says why', async (t) => {
      t.diagnostic(`real node not started: ${g.reason}`);
      assert.match(g.reason, /preflight check "[a-z]+" failed|OPERON_REAL_NODE=0/);
      const nodes = await cluster.kubectl(['get', 'nodes', '-l', `${REAL_NODE_LABEL.key}=${REAL_NODE_LABEL.value}`, '-o', 'name']);
      assert.equal(nodes.trim(), '', 'no Node may claim to be real when the real node did not start');
    });
  });
} else if (g.kind === 'broken') {
  describe('the real node', () => {
    it('starts on this machine, which passes the preflight', () => {
      assert.fail(g.reason);
    });
  });
} else {
  const node = g.node;
  const ns = await cluster.namespace('real-node');
  const image = node.images.busybox;

  const ctr = (args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(node.ctr, ['--address', node.containerdSocket, '--namespace', 'k8s.io', ...args], (err, stdout, stderr) =>
        err ? reject(new Error(`ctr ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
      );
    });

  const createPod = (pod: Record<string, unknown>): Promise<string> => cluster.kubectl(['create', '-f', '-'], { input: JSON.stringify(pod) });

  interface PodStatus {
    phase?: string;
    podIP?: string;
    containerStatuses?: Array<{ name: string; containerID?: string; state?: { running?: object; terminated?: { exitCode: number } } }>;
  }
  const getPod = async (c: Cluster, name: string): Promise<{ metadata: { uid: string }; spec: { nodeName?: string }; status: PodStatus }> =>
    JSON.parse(await c.kubectl(['get', 'pod', name, '-n', ns, '-o', 'json']));

  const finished = async (name: string) => {
    await eventually(async () => ['Succeeded', 'Failed'].includes((await getPod(cluster, name)).status.phase ?? ''), {
      timeoutMs: 120_000,
      what: `Pod ${name} to finish on ${REAL_NODE}`,
    });
    return getPod(cluster, name);
  };

  const logs = (pod: string, container: string): Promise<string> => cluster.kubectl(['logs', pod, '-n', ns, '-c', container]);

  describe('the real node', () => {
    it('runs a Pod whose output comes back through kubectl logs byte for byte', async () => {
      const value = 'tab\there, ünïcödé ✓, $HOME and "quotes"';
      await createPod({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'hello', namespace: ns },
        spec: {
          ...RUN_ON_REAL_NODE,
          restartPolicy: 'Never',
          containers: [
            { name: 'printf', image, imagePullPolicy: 'Never', command: ['printf', '%s\\n', 'Hello Kube!'] },
            { name: 'printenv', image, imagePullPolicy: 'Never', command: ['printenv', 'X'], env: [{ name: 'X', value }] },
          ],
        },
      });
      const pod = await finished('hello');
      assert.equal(pod.status.phase, 'Succeeded');
      assert.equal(pod.spec.nodeName, REAL_NODE);
      assert.ok(pod.status.podIP?.startsWith(node.nodeIP.replace(/\.1$/, '.')), `Pod IP ${pod.status.podIP} is in the node's subnet ${node.subnet}`);
      assert.equal(await logs('hello', 'printf'), 'Hello Kube!\n');
      assert.equal(await logs('hello', 'printenv'), `${value}\n`);
    });

    it('enforces runAsUser 65534, runAsNonRoot and a read-only root filesystem', async () => {
      const locked = { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false };
      await createPod({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'locked', namespace: ns },
        spec: {
          ...RUN_ON_REAL_NODE,
          restartPolicy: 'Never',
          securityContext: { runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true },
          containers: [
            { name: 'id', image, imagePullPolicy: 'Never', command: ['id', '-u'], securityContext: locked },
            { name: 'touch', image, imagePullPolicy: 'Never', command: ['touch', '/x'], securityContext: locked },
          ],
        },
      });
      await eventually(async () => (await getPod(cluster, 'locked')).status.containerStatuses?.every((c) => c.state?.terminated) ?? false, {
        timeoutMs: 120_000,
        what: 'both containers of Pod locked to terminate',
      });
      const exit = Object.fromEntries((await getPod(cluster, 'locked')).status.containerStatuses!.map((c) => [c.name, c.state!.terminated!.exitCode]));
      assert.equal(await logs('locked', 'id'), '65534\n');
      assert.equal(exit.id, 0);
      assert.notEqual(exit.touch, 0, 'touch /x must fail on a read-only root filesystem');
      assert.match(await logs('locked', 'touch'), /Read-only file system/);
    });

    it("removes the real container from containerd once the Pod's owner is deleted", async () => {
      await cluster.kubectl(['create', 'configmap', 'owner', '-n', ns]);
      const ownerUid = (await cluster.kubectl(['get', 'configmap', 'owner', '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).trim();
      await createPod({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'owned', namespace: ns, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: ownerUid }] },
        spec: {
          ...RUN_ON_REAL_NODE,
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'sleeper', image, imagePullPolicy: 'Never', command: ['sleep', '3600'] }],
        },
      });
      await eventually(async () => (await getPod(cluster, 'owned')).status.containerStatuses?.[0]?.state?.running !== undefined, {
        timeoutMs: 120_000,
        what: 'Pod owned to run',
      });
      const pod = await getPod(cluster, 'owned');
      const containerId = pod.status.containerStatuses![0]!.containerID!.replace(/^containerd:\/\//, '');
      const byPod = `labels."io.kubernetes.pod.uid"==${pod.metadata.uid}`;
      const containers = async () => (await ctr(['containers', 'list', '--quiet', byPod])).split('\n').filter(Boolean);
      const running = async () => {
        const ids = new Set(await containers());
        return (await ctr(['tasks', 'list'])).split('\n').slice(1).filter((l) => ids.has(l.split(/\s+/)[0] ?? '') && /RUNNING/.test(l));
      };
      assert.ok((await containers()).includes(containerId), 'containerd knows the running container');
      assert.equal((await running()).length, 2, 'the container and its sandbox run');

      await cluster.kubectl(['delete', 'configmap', 'owner', '-n', ns, '--wait=false']);
      await eventually(async () => (await cluster.kubectlResult(['get', 'pod', 'owned', '-n', ns])).code !== 0, {
        timeoutMs: 120_000,
        what: 'the garbage collector and the kubelet to delete Pod owned',
      });
      await eventually(async () => !(await containers()).includes(containerId), { timeoutMs: 120_000, what: 'containerd to forget the container' });
      assert.deepEqual(await running(), [], 'nothing of the Pod runs any more');
    });

    it('keeps Pods without the toleration on the simulated Node', async () => {
      await cluster.kubectl(['run', 'simulated', '-n', ns, '--image=registry.invalid/none:1', '--restart=Never']);
      await eventually(async () => (await getPod(cluster, 'simulated')).spec.nodeName !== undefined, { what: 'Pod simulated to be scheduled' });
      assert.equal((await getPod(cluster, 'simulated')).spec.nodeName, 'kwok-node-0');
    });
  });
}
