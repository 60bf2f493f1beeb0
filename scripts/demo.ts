/**
 * The demo: what the two design documents show, run for real.
 *
 * 1. A cluster: the one KUBECONFIG names, or else the local control plane (built and started here).
 * 2. The CRDs of both reference operators, and both operators, started with `operon run`.
 * 3. The documents' examples: my-printer.yaml ("Hello Kube!"), bitcoin.yaml and ethereum.yaml.
 * 4. What the documents show: `kubectl get printers`, the Pod, `kubectl logs` of the Pod where a node
 *    really runs containers, and `kubectl get cvc` with values; then a price move and the Change column.
 *
 * Nothing is faked: where Pods are only simulated (kwok), the demo says so and shows the text the Pod
 * carries instead of a log; where CoinGecko cannot be reached, it says so and serves sample prices
 * from the local CoinGecko-format server.
 *
 * Usage: node scripts/demo.ts [--keep-running]
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdirSync, openSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { up } from '../src/cluster/plane.ts';
import { freePorts } from '../src/cluster/ports.ts';
import { isRealNode, RUN_ON_REAL_NODE } from '../src/cluster/node.ts';
import { CoinGeckoServer } from '../operators/crypto/price/server.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NS = 'operon-demo';
const keepRunning = process.argv.includes('--keep-running');
const say = (text: string): void => console.log(`\n\u001b[1m== ${text}\u001b[0m`);

// 1. The cluster.
let kubectlBin = 'kubectl';
let kubeconfig = process.env.KUBECONFIG;
let realNode = false;
if (kubeconfig) {
  say(`Using the cluster of KUBECONFIG=${kubeconfig}`);
} else {
  say('Starting the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok, and a real node where the machine allows)');
  const plane = await up();
  kubeconfig = plane.kubeconfig;
  kubectlBin = join(plane.binDir, 'kubectl');
  realNode = isRealNode(plane.realNode) && plane.realNode.status === 'running';
  if (!realNode) {
    const why = plane.realNode && 'reason' in plane.realNode ? plane.realNode.reason : 'not started';
    console.log(`No real node here (${why}): Pods are simulated by kwok, so they do not print anything.`);
  }
}
const env = { ...process.env, KUBECONFIG: kubeconfig };
const kubectl = (args: string[], input?: string): string =>
  execFileSync(kubectlBin, args, { env, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
const show = (args: string[]): void => {
  console.log(`$ kubectl ${args.join(' ')}`);
  console.log(kubectl(args).trimEnd());
};
function kubectlResultOk(args: string[]): boolean {
  try {
    kubectl(args);
    return true;
  } catch {
    return false;
  }
}
async function until<T>(what: string, check: () => T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = check();
      if (value !== undefined) return value;
    } catch {
      // Not there yet; the deadline below decides.
    }
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

// 2. CRDs and namespace.
// A fresh namespace, so a second run shows this run's results and not the last one's. Deleted
// before the CRD is installed: crd.yaml's conversion names a webhook that is not up yet, and the
// namespace controller reads the CVCs it deletes in v2 (the last run left v2 unserved).
kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true', '--timeout=120s']);
say('Installing the CRDs (generated from the operators\' TypeBox schemas)');
show(['apply', '-f', join(root, 'operators/printer/crd.yaml')]);
show(['apply', '-f', join(root, 'operators/crypto/crd.yaml')]);
kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/printers.operon.dev', 'crd/cryptovaluecalculators.crypto.tools']);
kubectl(['create', 'namespace', NS]);
await until(`the ServiceAccount of namespace ${NS}`, () => (kubectl(['get', 'serviceaccount', 'default', '-n', NS, '-o', 'name']).trim() ? true : undefined));

// Prices: the real API when it answers, else the local server with the documents' prices.
let priceServer: CoinGeckoServer | undefined;
let priceBase: string | undefined;
if (await coinGeckoReachable()) {
  say('CoinGecko answers: prices are live');
} else {
  priceServer = await CoinGeckoServer.start({ port: 0 });
  priceBase = priceServer.baseUrl;
  say(`CoinGecko is not reachable from this machine (no internet): serving sample prices from a local CoinGecko-format server at ${priceServer.baseUrl}`);
}

// 3. Operators.
const logDir = join(root, '.cache', 'demo');
mkdirSync(logDir, { recursive: true });
const children: ChildProcess[] = [];
function startOperator(file: string, extraEnv: Record<string, string>, log: string): void {
  const out = openSync(join(logDir, log), 'w');
  const child = spawn(process.execPath, ['--conditions=operon-source', join(root, 'src/cli/main.ts'), 'run', join(root, file), '-n', NS, '--log-format', 'plain', '--no-check'] /* the reference operators are type-checked by npm test */, {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', out, out],
  });
  children.push(child);
}
const printerEnv: Record<string, string> = {};
if (realNode) {
  const plane = await up({ log: () => {} });
  if (isRealNode(plane.realNode)) printerEnv['PRINTER_IMAGE'] = plane.realNode.images.busybox;
  printerEnv['PRINTER_NODE_SELECTOR'] = Object.entries(RUN_ON_REAL_NODE.nodeSelector).map(([k, v]) => `${k}=${v}`).join(',');
  printerEnv['PRINTER_TOLERATIONS'] = RUN_ON_REAL_NODE.tolerations.map((t) => `${t.key}=${t.value}:${t.effect}`).join(',');
}
say('Starting both operators: operon run operators/printer/operator.ts, operon run operators/crypto/operator.ts');
startOperator('operators/printer/operator.ts', printerEnv, 'printer-operator.log');
// The CVC operator serves its webhooks (the supply check, and the v1 <-> v2 conversion that
// `kubectl get cvc` needs) on loopback: the API server runs on this machine too.
const [webhookPort] = await freePorts(1);
const webhookUrl = `https://127.0.0.1:${webhookPort}`;
const webhookName = 'operon-demo-crypto';
startOperator('operators/crypto/operator.ts', { ...(priceBase ? { COINGECKO_BASE_URL: priceBase } : {}), CVC_REFRESH_SECONDS: '10', OPERON_WEBHOOK_URL: webhookUrl, OPERON_WEBHOOK_NAME: webhookName }, 'crypto-operator.log');
console.log(`(their logs: ${logDir}/printer-operator.log, crypto-operator.log)`);

const stopAll = async (): Promise<void> => {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(undefined) : c.once('exit', r)))));
  await priceServer?.close();
  // The webhooks stay configured when their server stops (replicas elsewhere would serve them);
  // here nothing will: a Fail webhook on loopback would refuse every CVC write on this cluster.
  kubectlResultOk(['delete', 'validatingwebhookconfiguration', webhookName, '--ignore-not-found']);
  // And v2 no longer served: with a conversion nothing answers, v2 reads (plain `kubectl get
  // cvc`) and even the deletion of a namespace holding CVCs fail. v1 is stored and needs none.
  kubectlResultOk(['patch', 'crd', 'cryptovaluecalculators.crypto.tools', '--type=json', '-p', '[{"op":"test","path":"/spec/versions/1/name","value":"v2"},{"op":"replace","path":"/spec/versions/1/served","value":false}]']);
};

try {
  // Reads of v2 (what `kubectl get cvc` asks for) fail until the operator points the CRD at its
  // conversion webhook, so nothing below reads a CVC before it has.
  await until('the CVC operator\'s conversion webhook', () => {
    const url = kubectl(['get', 'crd', 'cryptovaluecalculators.crypto.tools', '-o', 'jsonpath={.spec.conversion.webhook.clientConfig.url}']).trim();
    return url.startsWith(webhookUrl) ? true : undefined;
  });

  // 4. The documents' examples.
  say('Applying the examples of the design documents');
  show(['apply', '-n', NS, '-f', join(root, 'operators/printer/my-printer.yaml')]);
  show(['apply', '-n', NS, '-f', join(root, 'operators/crypto/examples/bitcoin.yaml'), '-f', join(root, 'operators/crypto/examples/ethereum.yaml')]);

  const pod = await until('the Printer\'s Pod', () => {
    const name = kubectl(['get', 'printers.operon.dev', 'my-printer', '-n', NS, '-o', 'jsonpath={.status.pod}']).trim();
    return name || undefined;
  });
  await until('the Pod to finish', () => {
    const phase = kubectl(['get', 'pod', pod, '-n', NS, '-o', 'jsonpath={.status.phase}']).trim();
    return phase === 'Succeeded' || phase === 'Failed' ? phase : undefined;
  });
  await until('the Printer to follow its Pod', () => (kubectl(['get', 'printers.operon.dev', 'my-printer', '-n', NS, '-o', 'jsonpath={.status.phase}']).trim() === 'Succeeded' ? true : undefined));

  say('The Printer and its Pod');
  show(['get', 'printers.operon.dev', '-n', NS]);
  show(['get', 'pods', '-n', NS, '-o', 'wide']);
  if (realNode) {
    say('What the Pod printed (it ran on the real node)');
    show(['logs', pod, '-n', NS]);
  } else {
    say('What the Pod carries (simulated by kwok: nothing ran, so there is no log to show)');
    show(['get', 'pod', pod, '-n', NS, '-o', 'jsonpath={.spec.containers[0].env[?(@.name=="PRINTER_TEXT")].value}{"\\n"}']);
  }

  say('The CryptoValueCalculators');
  await until('values on both CVCs', () => {
    // `get cvc` reads v2, converted by the operator: this also waits for the API server to use it.
    const values = kubectl(['get', 'cvc', '-n', NS, '-o', 'jsonpath={.items[*].status.value}']).trim().split(/\s+/);
    return values.length === 2 && values.every((v) => v.startsWith('$')) ? true : undefined;
  });
  show(['get', 'cvc', '-n', NS]);

  if (priceServer) {
    say('The bitcoin price moves 5% up; the timer recomputes within 10 s and the Change column shows it');
    priceServer.setPrice('bitcoin', 43283.1);
    await until('the new bitcoin value', () => (kubectl(['get', 'cvc', 'bitcoin-stash', '-n', NS, '-o', 'jsonpath={.status.value}']).trim() === '$99.5511' ? true : undefined), 60_000);
    show(['get', 'cvc', '-n', NS]);
  }

  if (keepRunning) {
    say(`The operators keep running (Ctrl-C stops them). In another shell: eval "$(node_modules/.bin/node controlplane/cli.ts env)"; kubectl get printers,cvc -n ${NS}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  }
} finally {
  await stopAll();
}
say('Done. The operators are stopped; the control plane keeps running');
// With the operator stopped nothing converts: v1 is served alone until the CRD is applied again.
// kubectl caches discovery (v2 preferred); a refresh makes the user's next `kubectl get cvc` read v1.
await until('kubectl to read the CVCs in v1', () => {
  kubectlResultOk(['api-resources', '--api-group=crypto.tools']);
  return kubectlResultOk(['get', 'cvc', '-n', NS]) ? true : undefined;
}, 30_000);
console.log(`Explore it:  eval "$(node_modules/.bin/node controlplane/cli.ts env)"; kubectl get printers.operon.dev,cvc,pods -n ${NS}`);
console.log('Stop it:     node_modules/.bin/node controlplane/cli.ts down');

/** True when api.coingecko.com resolves and answers /ping within a few seconds. */
async function coinGeckoReachable(): Promise<boolean> {
  try {
    await lookup('api.coingecko.com');
  } catch {
    return false;
  }
  return new Promise((resolve) => {
    const req = request('https://api.coingecko.com/api/v3/ping', { timeout: 4000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
