/**
 * Idle RSS of the Printer operator's handlers with and without the webhook server, on the local
 * control plane (run once per mode, each in its own process):
 *
 * ```sh
 * node --max-semi-space-size=1 --expose-gc bench/admission/idle-rss.ts --webhooks off
 * node --max-semi-space-size=1 --expose-gc bench/admission/idle-rss.ts --webhooks on
 * ```
 * The validate handler is scoped (namespaceSelector) to a namespace of its own, which is deleted
 * with the configuration afterwards, so other users of the plane are unaffected.
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkText } from '../../operators/printer/admission.ts';
import { Printer } from '../../operators/printer/resource.ts';
import { Operator, Registry, resource } from '../../src/index.ts';
import { readState } from '../../src/cluster/plane.ts';

const { values } = parseArgs({ options: { webhooks: { type: 'string', default: 'on' }, seconds: { type: 'string', default: '10' } } });
const state = readState();
if (!state) throw new Error('no control plane: node controlplane/cli.ts up');
const kubectl = (...args: string[]): string => execFileSync(join(state.binDir, 'kubectl'), args, { env: { ...process.env, KUBECONFIG: state.kubeconfig } }).toString();
const ns = `idle-rss-${Math.random().toString(36).slice(2, 8)}`;
kubectl('create', 'namespace', ns);
const registry = new Registry();
const printers = resource(Printer, { registry });
printers.onCreate(() => undefined);
printers.validate(checkText, { id: 'text', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } });
const probe = createServer();
await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
const port = (probe.address() as { port: number }).port;
await new Promise((resolve) => probe.close(resolve));
const name = `idle-rss-${ns}`;
const operator = new Operator({
  registry,
  kubeconfig: state.kubeconfig,
  namespaces: [ns],
  name,
  logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child() { return this; } } as never,
  ...(values.webhooks === 'on' ? { webhooks: { clientConfig: { url: `https://127.0.0.1:${port}` }, host: '127.0.0.1', port, certificates: { secret: { namespace: ns, name: 'tls' } } } } : {}),
});
const stop = new AbortController();
const done = operator.run({ signal: stop.signal });
try {
  await operator.ready();
  await new Promise((r) => setTimeout(r, Number(values.seconds) * 1000));
  (globalThis as { gc?: () => void }).gc?.();
  console.log(`webhooks ${values.webhooks}: idle RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(1)} MiB, heap used ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB`);
} finally {
  stop.abort();
  await done.catch(() => undefined);
  kubectl('delete', 'validatingwebhookconfiguration', name, '--ignore-not-found');
  kubectl('delete', 'namespace', ns, '--wait=false');
}
