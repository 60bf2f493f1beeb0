/**
 * The no-framework Printer operator (examples/printer-no-framework/operator.ts), end to end on the
 * local control plane, run as a child process the way a user runs it. Proves: the generated CRD is
 * accepted and enforces its limits; Printers that existed before the operator started are handled
 * (the design document's original missed them); each Printer gets exactly one locked-down Pod that
 * carries the text as data, byte for byte; status follows the Pod to Succeeded; a restart after
 * SIGKILL makes no second Pod; the garbage collector deletes the Pod with its Printer; SIGTERM
 * exits 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import type { Pod, PodList } from 'kubernetes-types/core/v1.d.ts';
import { printerPodName } from '../../operators/printer/pod.ts';
import type { PrinterObject } from '../../operators/printer/resource.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { HOSTILE_TEXTS } from '../unit/printer/hostile-texts.ts';

const path = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
const CRD = path('../../operators/printer/crd.yaml');
const MY_PRINTER = path('../../operators/printer/my-printer.yaml');
const OPERATOR = path('../../examples/printer-no-framework/operator.ts');

const cluster = await useCluster();
const ns = await cluster.namespace('printer-nf');
// The Pods must pass the strictest Pod Security profile, or the API server refuses them.
await cluster.kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
await cluster.kubectl(['apply', '-f', CRD]);
await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/printers.operon.dev']);
// Before any operator runs: this Printer is only ever seen through a LIST.
await cluster.kubectl(['apply', '-n', ns, '-f', MY_PRINTER]);

// Fully qualified: other test files declare their own kinds named Printer in other groups.
const PRINTERS = 'printers.operon.dev';
const printers = `/apis/operon.dev/v1/namespaces/${ns}/printers`;
const pods = `/api/v1/namespaces/${ns}/pods`;

async function get<T>(url: string): Promise<T | undefined> {
  const response = await cluster.api('GET', url);
  if (response.status === 404) return undefined;
  assert.equal(response.status, 200, `GET ${url}: ${response.body}`);
  return JSON.parse(response.body) as T;
}
const printer = (name: string) => get<PrinterObject>(`${printers}/${name}`);
const podsOf = async (name: string) => (await get<PodList>(`${pods}?labelSelector=operon.dev/printer=${name}`))?.items ?? [];

async function createPrinter(name: string, text: string, query = ''): Promise<{ status: number; body: string }> {
  return cluster.api('POST', `${printers}${query}`, { apiVersion: 'operon.dev/v1', kind: 'Printer', metadata: { name }, spec: { text } });
}

/** Waits until the Printer's status names a Pod, and returns that Pod. */
async function podOf(name: string): Promise<Pod> {
  let pod: Pod | undefined;
  await eventually(
    async () => {
      const podName = (await printer(name))?.status?.pod;
      pod = podName ? await get<Pod>(`${pods}/${podName}`) : undefined;
      return pod !== undefined;
    },
    { what: `status.pod of Printer ${name} and that Pod`, timeoutMs: 30_000 },
  );
  assert.ok(pod);
  return pod;
}

/** The operator as a child process, as a user starts it: node, KUBECONFIG, a namespace. */
function startOperator(kubeconfig = cluster.kubeconfig) {
  const child = spawn(process.execPath, [OPERATOR], {
    env: { ...process.env, KUBECONFIG: kubeconfig, PRINTER_NAMESPACE: ns },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => output };
}

let operator = startOperator();
after(() => {
  if (operator.child.exitCode === null && operator.child.signalCode === null) operator.child.kill('SIGKILL');
});

describe('the no-framework Printer operator', () => {
  it('runs on a CRD the API server accepts and that enforces the text limits', async () => {
    const names = JSON.parse(await cluster.kubectl(['get', 'crd', 'printers.operon.dev', '-o', 'jsonpath={.status.acceptedNames}']));
    assert.deepEqual(names.shortNames, ['prn']);
    const dryRun = '?dryRun=All';
    assert.equal((await createPrinter('max-length', '🖨'.repeat(4096), dryRun)).status, 201, '4096 characters (16 KiB of UTF-8) are allowed');
    for (const [why, name, text] of [
      ['empty text', 'empty', ''],
      ['4097 characters', 'too-long', 'x'.repeat(4097)],
      ['a NUL character', 'nul', 'a\u0000b'],
      ['a name longer than the Pod label allows', 'n'.repeat(64), 'x'],
    ] as const) {
      const response = await createPrinter(name, text, dryRun);
      assert.equal(response.status, 422, `${why} must be refused: ${response.body}`);
    }
  });

  it('gives a Printer created before it started a Pod that prints the text as data, locked down and owned', async () => {
    const before = await printer('my-printer');
    assert.ok(before);
    const pod = await podOf('my-printer');
    assert.equal(pod.metadata?.name, printerPodName(before.metadata.uid, 'Hello Kube!'));
    const [container] = pod.spec?.containers ?? [];
    assert.deepEqual(container?.command, ['printenv', 'PRINTER_TEXT']);
    assert.equal(container?.args, undefined);
    assert.deepEqual(container?.env, [{ name: 'PRINTER_TEXT', value: 'Hello Kube!' }]);
    assert.equal(container?.image, 'busybox:1.37');
    assert.deepEqual(container?.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    assert.deepEqual(pod.spec?.securityContext, { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } });
    assert.equal(pod.spec?.automountServiceAccountToken, false);
    assert.equal(pod.spec?.restartPolicy, 'Never');
    assert.deepEqual(pod.metadata?.ownerReferences, [
      { apiVersion: 'operon.dev/v1', kind: 'Printer', name: 'my-printer', uid: before.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    assert.equal(pod.metadata?.labels?.['app.kubernetes.io/managed-by'], 'printer-no-framework');
  });

  it('gives a new Printer its Pod, and its status follows the Pod to Succeeded', async () => {
    assert.equal((await createPrinter('second', 'Hello again\nfrom a second line')).status, 201);
    await eventually(async () => (await printer('second'))?.status?.phase === 'Succeeded', { what: 'Printer second to reach Succeeded', timeoutMs: 30_000 });
    const status = (await printer('second'))?.status;
    assert.equal(status?.summary, 'Hello again from a second line');
    assert.equal(status?.observedGeneration, 1);
    assert.deepEqual(
      status?.conditions?.map(({ type, status, reason }) => ({ type, status, reason })),
      [{ type: 'Printed', status: 'True', reason: 'PodSucceeded' }],
    );
    assert.equal((await get<Pod>(`${pods}/${status?.pod}`))?.status?.phase, 'Succeeded');
    const table = await cluster.kubectl(['get', PRINTERS, 'second', '-n', ns]);
    assert.match(table, /^NAME\s+TEXT\s+POD\s+PHASE\s+AGE\n/);
    assert.match(table, new RegExp(`^second\\s+Hello again from a second line\\s+${status?.pod}\\s+Succeeded\\s`, 'm'));
  });

  it('carries every hostile text into the Pod byte for byte', async () => {
    const cases = HOSTILE_TEXTS.map(([label, text], i) => ({ label, text, name: `hostile-${i}` }));
    for (const { name, text, label } of cases) {
      const created = await createPrinter(name, text);
      assert.equal(created.status, 201, `${label}: ${created.body}`);
    }
    for (const { name, text, label } of cases) {
      const value = (await podOf(name)).spec?.containers[0]?.env?.[0]?.value;
      assert.ok(Buffer.from(value ?? '', 'utf8').equals(Buffer.from(text, 'utf8')), `${label}: ${JSON.stringify(value)}`);
    }
  });

  it('makes no second Pod when restarted after SIGKILL between creating the Pod and recording it', async () => {
    const [original] = await podsOf('my-printer');
    assert.ok(original?.metadata?.name);
    operator.child.kill('SIGKILL');
    assert.equal((await operator.exited).signal, 'SIGKILL');
    // As if the operator had died right after creating the Pod: nothing recorded on the Printer.
    await cluster.kubectl(['patch', PRINTERS, 'my-printer', '-n', ns, '--subresource=status', '--type=merge', '-p', '{"status":null}']);
    assert.equal((await printer('my-printer'))?.status, undefined);

    operator = startOperator();
    await eventually(async () => (await printer('my-printer'))?.status?.phase === 'Succeeded', { what: 'the restarted operator to record the Pod', timeoutMs: 30_000 });
    assert.equal((await printer('my-printer'))?.status?.pod, original.metadata.name);
    assert.deepEqual((await podsOf('my-printer')).map((p) => p.metadata?.name), [original.metadata.name]);
    // Every Printer still has exactly one Pod.
    const all = (await get<PodList>(pods))?.items ?? [];
    const perPrinter = Map.groupBy(all, (p) => p.metadata?.labels?.['operon.dev/printer']);
    assert.equal(perPrinter.size, 2 + HOSTILE_TEXTS.length);
    for (const [name, list] of perPrinter) assert.equal(list.length, 1, `Pods of ${name}`);
  });

  it('lets the garbage collector delete the Pod when its Printer is deleted', async () => {
    const podName = (await printer('second'))?.status?.pod;
    assert.ok(podName);
    await cluster.kubectl(['delete', PRINTERS, 'second', '-n', ns, '--wait=false']);
    // The garbage collector learns about a new CRD's resource within its 30 s discovery resync.
    await eventually(async () => (await get<Pod>(`${pods}/${podName}`)) === undefined, { what: `Pod ${podName} to be garbage-collected`, timeoutMs: 60_000 });
  });

  it('exits 0 on SIGTERM', async () => {
    operator.child.kill('SIGTERM');
    const exit = await operator.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, operator.output());
    assert.match(operator.output(), /"message":"stopped"/);
  });

  it('keeps running, backing off, while the API server is unreachable, and still exits 0 on SIGTERM', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'printer-nf-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const unreachable = join(dir, 'kubeconfig');
    // Port 1 on loopback: every connection is refused at once.
    writeFileSync(unreachable, JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'gone', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'nobody', user: { token: 'x' } }],
      contexts: [{ name: 'gone', context: { cluster: 'gone', user: 'nobody' } }],
      'current-context': 'gone',
    }));
    operator = startOperator(unreachable);
    const failures = () => operator.output().match(/"message":"printers: list\/watch failed, retrying","error":"[^"]*","delayMs":(\d+)/g) ?? [];
    await eventually(() => failures().length >= 2, { what: 'two failed lists of Printers', timeoutMs: 15_000 });
    assert.equal(operator.child.exitCode, null, operator.output());
    assert.match(failures()[0] ?? '', /"delayMs":1000$/);
    assert.match(failures()[1] ?? '', /"delayMs":2000$/);
    operator.child.kill('SIGTERM');
    assert.deepEqual(await operator.exited, { code: 0, signal: null }, operator.output());
  });
});
