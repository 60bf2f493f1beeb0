/**
 * The ceiling: no framework, no informer library, no cache beyond what one watch stream brings.
 * It lists and watches CVCs over its own keep-alive HTTPS agent and sends the same merge patch
 * every contender sends, with a fixed number in flight (CEILING_CONCURRENCY, default 16). Its
 * throughput is what this API server takes for this work; a contender cannot beat it by much.
 *
 * Environment: KUBECONFIG, COINGECKO_BASE_URL, CEILING_CONCURRENCY. Prices are read once at start
 * (the burst workload never changes them).
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { coinValue, Decimal, formatUsd } from '../../../operators/crypto/price/decimal.ts';

interface Cvc {
  metadata: { name: string; namespace: string; resourceVersion: string; annotations?: Record<string, string> };
  spec: { coin: string; amount: number };
}

const PATH = '/apis/crypto.tools/v1/cryptovaluecalculators';
const concurrency = Number(process.env.CEILING_CONCURRENCY ?? '16');
const baseUrl = (process.env.COINGECKO_BASE_URL ?? 'https://api.coingecko.com/api/v3').replace(/\/$/, '');

// Only what a client-certificate kubeconfig needs (the benchmark's admin one), read by hand so the
// ceiling carries no client library's weight.
interface Kubeconfig {
  'current-context': string;
  contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
  clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string } }>;
  users: Array<{ name: string; user: { 'client-certificate'?: string; 'client-certificate-data'?: string; 'client-key'?: string; 'client-key-data'?: string } }>;
}
const kubeconfigPath = process.env.KUBECONFIG ?? `${process.env.HOME}/.kube/config`;
const kubeconfig = parseYaml(readFileSync(kubeconfigPath, 'utf8')) as Kubeconfig;
const context = kubeconfig.contexts.find((c) => c.name === kubeconfig['current-context'])?.context;
const cluster = kubeconfig.clusters.find((c) => c.name === context?.cluster)?.cluster;
const user = kubeconfig.users.find((u) => u.name === context?.user)?.user;
if (!cluster || !user) throw new Error(`${kubeconfigPath}: no cluster or user for the current context`);
const material = (file: string | undefined, data: string | undefined): Buffer | undefined =>
  data ? Buffer.from(data, 'base64') : file ? readFileSync(resolve(dirname(kubeconfigPath), file)) : undefined;
const server = new URL(cluster.server);
const tls = {
  ca: material(cluster['certificate-authority'], cluster['certificate-authority-data']),
  cert: material(user['client-certificate'], user['client-certificate-data']),
  key: material(user['client-key'], user['client-key-data']),
};
const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency + 1, ca: tls.ca, cert: tls.cert, key: tls.key });

function request(method: string, path: string, body?: string, contentType?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = contentType ?? 'application/json';
    const req = https.request({ host: server.hostname, port: server.port, path, method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const coins = ['bitcoin', 'ethereum', 'dogecoin', 'shiba-inu'];
const priceBody = (await (await fetch(`${baseUrl}/simple/price?vs_currencies=usd&ids=${coins.join(',')}`)).json()) as Record<string, { usd: number }>;
const prices = new Map(Object.entries(priceBody).map(([coin, q]) => [coin, Decimal.parse(String(q.usd))]));

const pending: Cvc[] = [];
let running = 0;
function consider(cvc: Cvc): void {
  pending.push(cvc);
  pump();
}
function pump(): void {
  while (running < concurrency && pending.length > 0) {
    const cvc = pending.shift() as Cvc;
    const price = prices.get(cvc.spec.coin);
    if (price === undefined) continue;
    const value = formatUsd(coinValue(Decimal.parse(cvc.spec.amount), price));
    if (cvc.metadata.annotations?.['value'] === value) continue;
    running++;
    const { namespace, name } = cvc.metadata;
    const patch = JSON.stringify({ metadata: { annotations: { value } } });
    request('PATCH', `/apis/crypto.tools/v1/namespaces/${namespace}/cryptovaluecalculators/${name}`, patch, 'application/merge-patch+json')
      .then((r) => {
        if (r.status >= 300 && r.status !== 404) pending.push(cvc);
      })
      .catch(() => pending.push(cvc))
      .finally(() => {
        running--;
        pump();
      });
  }
}

const list = await request('GET', PATH);
const listed = JSON.parse(list.text) as { metadata: { resourceVersion: string }; items: Cvc[] };
listed.items.forEach(consider);
let resourceVersion = listed.metadata.resourceVersion;

// One long watch; on its end, resume from the last version seen.
for (;;) {
  await new Promise<void>((resolve) => {
    const req = https.request(
      { host: server.hostname, port: server.port, path: `${PATH}?watch=1&resourceVersion=${resourceVersion}&allowWatchBookmarks=true`, agent, ca: tls.ca, cert: tls.cert, key: tls.key },
      (res) => {
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const event = JSON.parse(buffer.slice(0, nl)) as { type: string; object: Cvc };
            buffer = buffer.slice(nl + 1);
            // A 410 means a relist is needed; the ceiling's runs are too short for that, so fail loudly.
            if (event.type === 'ERROR') throw new Error(`watch error: ${JSON.stringify(event.object)}`);
            resourceVersion = event.object.metadata.resourceVersion;
            if (event.type === 'ADDED' || event.type === 'MODIFIED') consider(event.object);
          }
        });
        res.on('end', resolve);
        res.on('error', () => resolve());
      },
    );
    req.on('error', () => setTimeout(resolve, 500));
    req.end();
  });
}
