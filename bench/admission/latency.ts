/**
 * Admission latency of Operon's webhook server at a fixed request rate, and the process's RSS
 * with the server running. No cluster: a client in this process plays the API server, sending
 * AdmissionReview v1 requests over one keep-alive TLS connection pool at `--rate` per second for
 * `--seconds`, to the same validate handler the CVC uses (`checkSupply`).
 *
 * ```sh
 * node --expose-gc bench/admission/latency.ts --rate 200 --seconds 10
 * ```
 * Prints p50, p99 and max of the round trip (request written → reply parsed) and RSS after GC.
 */
import { Agent, request } from 'node:https';
import { parseArgs } from 'node:util';
import { checkSupply } from '../../operators/crypto/supply.ts';
import { admit } from '../../src/admission/review.ts';
import { normalizeAdmission } from '../../src/admission/options.ts';
import { silentLogger } from '../../src/base/logger.ts';
import { WebhookServer } from '../../src/server/webhooks.ts';
import { planCertificates } from '../../src/server/certificates.ts';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '10' } } });
const rate = Number(values.rate);
const seconds = Number(values.seconds);

const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const rssBefore = process.memoryUsage().rss;
const data = planCertificates({}, new Date(), { hosts: ['127.0.0.1'] }) ?? {};
const spec = normalizeAdmission('validate', checkSupply as never, { id: 'supply' });
const server = new WebhookServer({ certificate: { cert: data['tls.crt'] ?? '', key: data['tls.key'] ?? '' }, port: 0, host: '127.0.0.1', logger: silentLogger });
server.route('/validate', (body) => admit(spec, body, silentLogger));
const port = await server.listen();
gc?.();
const rssServing = process.memoryUsage().rss;

const agent = new Agent({ keepAlive: true, ca: data['ca.crt'] ?? '' });
const body = (i: number): string =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `u-${i}`,
      operation: 'CREATE',
      userInfo: { username: 'bench' },
      kind: { group: 'crypto.tools', version: 'v1', kind: 'CryptoValueCalculator' },
      resource: { group: 'crypto.tools', version: 'v1', resource: 'cryptovaluecalculators' },
      object: { apiVersion: 'crypto.tools/v1', kind: 'CryptoValueCalculator', metadata: { name: `c${i}`, namespace: 'default' }, spec: { coin: 'bitcoin', amount: i % 2 ? 1 : 3e7 } },
    },
  });

function call(i: number): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => {
        const reply = JSON.parse(text) as { response: { uid: string } };
        if (reply.response.uid !== `u-${i}`) reject(new Error('uid mismatch'));
        resolve(Number(process.hrtime.bigint() - started) / 1e6);
      });
    });
    req.on('error', reject);
    req.end(body(i));
  });
}

for (let i = 0; i < 50; i++) await call(i); // warm-up: TLS session, JIT
const latencies: number[] = [];
const pending: Promise<void>[] = [];
const total = rate * seconds;
const start = performance.now();
for (let i = 0; i < total; i++) {
  const due = start + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  pending.push(call(i).then((ms) => void latencies.push(ms)));
}
await Promise.all(pending);
gc?.();
const rssAfter = process.memoryUsage().rss;
latencies.sort((a, b) => a - b);
const at = (q: number): string => (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(2);
const mb = (n: number): string => (n / 2 ** 20).toFixed(1);
console.log(`requests ${latencies.length} at ${rate}/s for ${seconds}s: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`);
console.log(`RSS: before server ${mb(rssBefore)} MB, serving idle ${mb(rssServing)} MB, after load ${mb(rssAfter)} MB`);
agent.destroy();
await server.stop();
