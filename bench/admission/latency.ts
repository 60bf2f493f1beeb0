/**
 * Admission latency at a fixed request rate, side by side: the CVC's supply check served by
 * Operon's webhook server (`operon-server.ts`, Node) and by controller-runtime's webhook server
 * (`contenders/controller-runtime/webhook`, Go), each alone in a process of its own with the same
 * certificate. This process plays the API server: AdmissionReview v1 requests over one
 * keep-alive TLS pool at `--rate` per second for `--seconds`, half of them refused.
 *
 * ```sh
 * node -C operon-source bench/admission/latency.ts --rate 200 --seconds 10
 * node -C operon-source bench/admission/latency.ts --contenders operon --rate 500
 * ```
 * Prints one Markdown row per contender: p50, p99 and max of the round trip (request written →
 * reply parsed), and the server process's RSS idle and after the load (from /proc).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { planCertificates } from '../../src/server/certificates.ts';

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '10' }, contenders: { type: 'string', default: 'operon,controller-runtime' } },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const here = fileURLToPath(new URL('.', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'operon-admission-bench-'));
const data = planCertificates({}, new Date(), { hosts: ['127.0.0.1'] }) ?? {};
writeFileSync(join(dir, 'tls.crt'), data['tls.crt'] ?? '');
writeFileSync(join(dir, 'tls.key'), data['tls.key'] ?? '');

/** How each contender's server process is started on `port`. */
const contenders: Record<string, (port: number) => ChildProcess> = {
  operon: (port) =>
    spawn(process.execPath, ['--conditions=operon-source', '--max-semi-space-size=1', join(here, 'operon-server.ts'), '--cert-dir', dir, '--port', String(port)], { stdio: 'ignore' }),
  'controller-runtime': (port) => {
    const bin = execFileSync('bash', [join(here, '../setup.sh'), 'controller-runtime-webhook'], { encoding: 'utf8' }).trim();
    return spawn(bin, ['--cert-dir', dir, '--port', String(port)], { stdio: 'ignore' });
  },
};

const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

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

function call(agent: Agent, port: number, i: number): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => {
        const reply = JSON.parse(text) as { response: { uid: string; allowed: boolean } };
        if (reply.response.uid !== `u-${i}`) reject(new Error('uid mismatch'));
        else if (reply.response.allowed !== (i % 2 === 1)) reject(new Error(`request ${i}: allowed ${reply.response.allowed}`));
        resolve(Number(process.hrtime.bigint() - started) / 1e6);
      });
    });
    req.on('error', reject);
    req.end(body(i));
  });
}

const rows: string[] = [];
let port = 19443;
for (const name of values.contenders.split(',')) {
  const start = contenders[name];
  if (!start) throw new Error(`unknown contender ${name}; choose from ${Object.keys(contenders).join(', ')}`);
  port++;
  const child = start(port);
  const agent = new Agent({ keepAlive: true, ca: data['ca.crt'] ?? '' });
  try {
    // Up when it answers; then a warm-up (TLS session, JIT).
    for (let tries = 0; ; tries++) {
      try {
        await call(agent, port, 1);
        break;
      } catch (error) {
        if (tries > 200) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for (let i = 0; i < 50; i++) await call(agent, port, i);
    const idle = rssOf(child.pid as number);
    const latencies: number[] = [];
    const pending: Promise<void>[] = [];
    const began = performance.now();
    for (let i = 0; i < rate * seconds; i++) {
      const wait = began + (i * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(call(agent, port, i).then((ms) => void latencies.push(ms)));
    }
    await Promise.all(pending);
    const loaded = rssOf(child.pid as number);
    latencies.sort((a, b) => a - b);
    const at = (q: number): string => (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(2);
    rows.push(`| ${name} | ${latencies.length} | ${at(0.5)} | ${at(0.99)} | ${at(1)} | ${idle.toFixed(1)} | ${loaded.toFixed(1)} |`);
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
  }
}
rmSync(dir, { recursive: true, force: true });
console.log(`Admission latency at ${rate} requests/s for ${seconds} s (half refused), each server in its own process:\n`);
console.log('| server | requests | p50 ms | p99 ms | max ms | RSS idle MiB | RSS after load MiB |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const row of rows) console.log(row);
