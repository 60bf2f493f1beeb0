/**
 * The Printer operator with its Pods on the control plane's real node (kubelet + containerd):
 * `PRINTER_IMAGE` is the node's preloaded busybox, and `PRINTER_NODE_SELECTOR` /
 * `PRINTER_TOLERATIONS` steer the Pods there. What `kubectl logs` prints is what the container
 * really wrote, so this is the proof that every text, hostile ones included, is printed exactly
 * and nothing in it is run by a shell or read as a flag. Deleting a Printer removes its container
 * from containerd.
 *
 * Never skipped: as in node.test.ts, on a machine where the plane recorded the real node as
 * unsupported, the one test asserts that recorded reason instead; a real node that should run but
 * does not is a failure.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.d.ts';
import { REAL_NODE, REAL_NODE_LABEL, REAL_NODE_TAINT } from '../../src/cluster/node.ts';
import { printerPodName } from '../../operators/printer/pod.ts';
import type { PrinterObject } from '../../operators/printer/resource.ts';
import { realNodeGate } from '../support/real-node.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { HOSTILE_TEXTS } from '../unit/printer/hostile-texts.ts';
import { FROM_SOURCE } from '../support/source.ts';

const path = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
const cluster = await useCluster();

const g = realNodeGate(cluster);

if (g.kind === 'unsupported') {
  describe('the Printer on the real node', () => {
    it('cannot run on this machine, and the plane says why', (t) => {
      t.diagnostic(`real node not started: ${g.reason}`);
      assert.match(g.reason, /preflight check "[a-z]+" failed|OPERON_REAL_NODE=0/);
    });
  });
} else if (g.kind === 'broken') {
  describe('the Printer on the real node', () => {
    it('runs on this machine, which passes the preflight', () => {
      assert.fail(g.reason);
    });
  });
} else {
  const node = g.node;
  const ns = await cluster.namespace('printer-real');
  await cluster.kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
  await cluster.kubectl(['apply', '-f', path('../../operators/printer/crd.yaml')]);
  await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/printers.operon.dev']);

  const child = spawn(process.execPath, [...FROM_SOURCE, path('../../src/cli/main.ts'), 'run', path('../../operators/printer/operator.ts'), '-n', ns, '--log-format', 'json', '--no-check'] /* npm run typecheck covers the repository */, {
    env: {
      ...process.env,
      KUBECONFIG: cluster.kubeconfig,
      PRINTER_IMAGE: node.images.busybox,
      PRINTER_NODE_SELECTOR: `${REAL_NODE_LABEL.key}=${REAL_NODE_LABEL.value}`,
      PRINTER_TOLERATIONS: `${REAL_NODE_TAINT.key}=${REAL_NODE_TAINT.value}:${REAL_NODE_TAINT.effect}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  after(() => child.kill('SIGKILL'));

  const printersUrl = `/apis/operon.dev/v1/namespaces/${ns}/printers`;
  const get = async <T>(url: string): Promise<T | undefined> => {
    const r = await cluster.api('GET', url);
    if (r.status === 404) return undefined;
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body) as T;
  };
  const printed = async (name: string): Promise<PrinterObject> => {
    let last: PrinterObject | undefined;
    await eventually(async () => ['Succeeded', 'Failed'].includes((last = await get<PrinterObject>(`${printersUrl}/${name}`))?.status?.phase ?? ''), {
      what: `Printer ${name} to print on ${REAL_NODE}`,
      timeoutMs: 60_000,
    });
    return last as PrinterObject;
  };
  const ctr = (args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(node.ctr, ['--address', node.containerdSocket, '--namespace', 'k8s.io', ...args], (err, stdout, stderr) =>
        err ? reject(new Error(`ctr ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
      );
    });

  const cases: Array<{ name: string; label: string; text: string }> = [
    { name: 'my-printer', label: 'the design document\'s text', text: 'Hello Kube!' },
    ...HOSTILE_TEXTS.map(([label, text], i) => ({ name: `hostile-${i}`, label, text })),
  ];

  describe('the Printer on the real node', () => {
    it('prints every text exactly, as kubectl logs shows: no shell, no flags', async () => {
      await cluster.kubectl(['apply', '-n', ns, '-f', path('../../operators/printer/my-printer.yaml')]);
      for (const { name, text } of cases.slice(1)) {
        const r = await cluster.api('POST', printersUrl, { apiVersion: 'operon.dev/v1', kind: 'Printer', metadata: { name }, spec: { text } });
        assert.equal(r.status, 201, r.body);
      }
      for (const { name, label, text } of cases) {
        const p = await printed(name);
        assert.equal(p.status?.phase, 'Succeeded', `${label}: ${output}`);
        const podName = p.status?.pod as string;
        assert.equal(podName, printerPodName(p.metadata.uid, text));
        const pod = await get<Pod>(`/api/v1/namespaces/${ns}/pods/${podName}`);
        assert.equal(pod?.spec?.nodeName, REAL_NODE, label);
        const logs = await cluster.kubectl(['logs', podName, '-n', ns]);
        // The one change on the way is the container runtime's: containerd's CRI logger reads the
        // output line by line (Go's bufio ReadLine), which drops a carriage return right before a
        // line feed. The text itself arrives whole (the Pod's env is compared byte for byte in
        // printer.test.ts); only a CR-LF line ending comes back from the log as LF.
        const expected = `${text}\n`.replaceAll('\r\n', '\n');
        assert.ok(Buffer.from(logs, 'utf8').equals(Buffer.from(expected, 'utf8')), `${label}: printed ${JSON.stringify(logs)}`);
      }
    });

    it('removes the real container when the Printer is deleted', async () => {
      const p = await printed('my-printer');
      const pod = (await get<Pod>(`/api/v1/namespaces/${ns}/pods/${p.status?.pod}`)) as Pod;
      const byPod = `labels."io.kubernetes.pod.uid"==${pod.metadata?.uid}`;
      const containers = async () => (await ctr(['containers', 'list', '--quiet', byPod])).split('\n').filter(Boolean);
      assert.ok((await containers()).length >= 1, 'containerd has the Printer\'s container');
      await cluster.kubectl(['delete', 'printers.operon.dev', 'my-printer', '-n', ns, '--wait=false']);
      await eventually(async () => (await get<Pod>(`/api/v1/namespaces/${ns}/pods/${p.status?.pod}`)) === undefined, {
        what: 'the garbage collector and the kubelet to delete the Pod',
        timeoutMs: 60_000,
      });
      await eventually(async () => (await containers()).length === 0, { what: 'containerd to forget the container', timeoutMs: 60_000 });
    });
  });
}
