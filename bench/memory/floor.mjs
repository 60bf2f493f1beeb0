// The floor of an idle operator on Node: the least a program can hold while it does what an idle
// Operon operator does (bench/memory/operator-rss.ts --program floor measures it the same way).
//
// It reads a JSON kubeconfig (a client certificate and a CA, as the bench's plane writes), lists
// and watches CryptoValueCalculators in all namespaces over one keep-alive TLS agent, keeps each
// object in a Map, and renews a Lease every 10 s, as a leader does. No framework, no logger, no
// schema, no retry, no error handling worth the name: nothing an operator could do without.
//
// Plain JavaScript on purpose: a .ts file run by Node loads its type stripper, about 30 MB
// (tsconfig.build.json), and the point is to count nothing that is not needed. The built-ins are
// taken with process.getBuiltinModule, because an ES import of node:https builds a namespace of
// all its exports and so loads http2 and undici (docs/performance.md, "Step 2").
//
// Environment: KUBECONFIG (a JSON kubeconfig), FLOOR_NAMESPACE (the Lease's, default "default").
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const https = process.getBuiltinModule('node:https');
const path = process.env.KUBECONFIG;
if (!path) throw new Error('KUBECONFIG must name a JSON kubeconfig');
const config = JSON.parse(readFileSync(path, 'utf8'));
const context = config.contexts.find((c) => c.name === config['current-context']).context;
const cluster = config.clusters.find((c) => c.name === context.cluster).cluster;
const user = config.users.find((u) => u.name === context.user).user;
const material = (file, data) => (data ? Buffer.from(data, 'base64') : readFileSync(resolve(dirname(path), file)));
const server = new URL(cluster.server);
const agent = new https.Agent({
  keepAlive: true,
  ca: material(cluster['certificate-authority'], cluster['certificate-authority-data']),
  cert: material(user['client-certificate'], user['client-certificate-data']),
  key: material(user['client-key'], user['client-key-data']),
});

function request(method, path, body) {
  return new Promise((done, fail) => {
    const headers = { accept: 'application/json', ...(body && { 'content-type': 'application/json' }) };
    const req = https.request({ host: server.hostname, port: server.port, method, path, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => done({ status: res.statusCode, object: JSON.parse(text) }));
    });
    req.on('error', fail);
    req.end(body && JSON.stringify(body));
  });
}

const CVCS = '/apis/crypto.tools/v1/cryptovaluecalculators';
const store = new Map();
const list = await request('GET', CVCS);
for (const item of list.object.items) store.set(item.metadata.uid, item);
https.get({ host: server.hostname, port: server.port, path: `${CVCS}?watch=1&allowWatchBookmarks=true&resourceVersion=${list.object.metadata.resourceVersion}`, agent }, (res) => {
  res.setEncoding('utf8');
  let buffer = '';
  res.on('data', (chunk) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
      const event = JSON.parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
      if (event.type === 'DELETED') store.delete(event.object.metadata.uid);
      else if (event.type !== 'BOOKMARK') store.set(event.object.metadata.uid, event.object);
    }
  });
});

const namespace = process.env.FLOOR_NAMESPACE ?? 'default';
const leases = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
const name = `memory-floor-${process.pid}`;
async function renew() {
  const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  const current = await request('GET', `${leases}/${name}`);
  const lease = current.status === 200 ? current.object : { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { holderIdentity: name, leaseDurationSeconds: 15 } };
  lease.spec.renewTime = now;
  await request(current.status === 200 ? 'PUT' : 'POST', current.status === 200 ? `${leases}/${name}` : leases, lease);
}
await renew();
setInterval(() => void renew().catch(() => {}), 10_000);
process.on('SIGTERM', () => void request('DELETE', `${leases}/${name}`).finally(() => process.exit(0)));
console.log(`floor: ${store.size} objects cached`);
