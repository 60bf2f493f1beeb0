/**
 * Idle RSS of an operator with tracing off (`@opentelemetry/api` never loaded) and on (the API
 * loaded and every cycle and request wrapped, no SDK registered: what `tracing: true` costs before
 * an exporter does anything), on the local control plane, one process per mode:
 *
 * ```sh
 * node -C operon-source --max-semi-space-size=1 --expose-gc bench/tracing/idle-rss.ts --tracing off
 * node -C operon-source --max-semi-space-size=1 --expose-gc bench/tracing/idle-rss.ts --tracing on
 * ```
 * It handles 100 ConfigMaps of a namespace of its own first (so the traced paths have run), then
 * idles, collects garbage and prints RSS.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { builtin, KubeClient, Operator, Registry, resource } from 'operon-k8s';
import { readState } from '../../src/cluster/plane.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';

const { values } = parseArgs({ options: { tracing: { type: 'string', default: 'on' }, seconds: { type: 'string', default: '10' } } });
const state = readState();
if (!state) throw new Error('no control plane: node controlplane/cli.ts up');
const kubectl = (...args: string[]): string => execFileSync(join(state.binDir, 'kubectl'), args, { env: { ...process.env, KUBECONFIG: state.kubeconfig } }).toString();
const ns = `tracing-rss-${Math.random().toString(36).slice(2, 8)}`;
kubectl('create', 'namespace', ns);
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: state.kubeconfig }));
const configmaps = builtin('v1', 'ConfigMap');
const registry = new Registry();
let handled = 0;
resource(configmaps, { registry }).onCreate(({ patch }) => {
  handled++;
  patch.metadata.annotations['bench/seen'] = 'yes';
});
const operator = new Operator({
  registry,
  client,
  namespaces: [ns],
  tracing: values.tracing === 'on',
  logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child() { return this; } } as never,
});
const stop = new AbortController();
const done = operator.run({ signal: stop.signal });
try {
  await operator.whenReady();
  await Promise.all(Array.from({ length: 100 }, (_, i) => client.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: ns } })));
  while (handled < 100) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, Number(values.seconds) * 1000));
  (globalThis as { gc?: () => void }).gc?.();
  const loaded = Object.keys(await import('node:module').then((m) => m.createRequire(import.meta.url).cache)).some((k) => k.includes('@opentelemetry'));
  console.log(`tracing ${values.tracing}: idle RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(1)} MiB, heap used ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB, @opentelemetry/api loaded: ${loaded}`);
} finally {
  stop.abort();
  await done.catch(() => undefined);
  client.close();
  kubectl('delete', 'namespace', ns, '--wait=false');
}
