import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type tls from 'node:tls';
import { ManualClock } from '../../../src/base/clock.ts';
import { ExecCredentialCache, ExecCredentials, type Credential, type CredentialProvider } from '../../../src/client/credentials.ts';
import { ApiError, TransportError } from '../../../src/client/errors.ts';
import type { ClusterConfig } from '../../../src/client/kubeconfig.ts';
import { Transport } from '../../../src/client/transport.ts';
import { listen, script, selfSignedCert, tempDir } from './fixtures.ts';

function config(server: string, extra: Partial<ClusterConfig> = {}): ClusterConfig {
  return { server, insecureSkipTlsVerify: false, namespace: 'default', auth: { type: 'none' }, source: 'test', ...extra };
}

/** Resolves when the server side of the next accepted connection closes. */
function nextSocketClosed(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.once('connection', (socket: net.Socket) => socket.once('close', () => resolve())));
}

describe('transport', () => {
  it('reuses one keep-alive connection for consecutive requests', async (t) => {
    let connections = 0;
    const server = http.createServer((req, res) => res.end(JSON.stringify({ path: req.url })));
    server.on('connection', () => connections++);
    const port = await listen(t, server);
    const transport = new Transport(config(`http://127.0.0.1:${port}`));
    t.after(() => transport.close());
    for (let i = 0; i < 3; i++) {
      const res = await transport.request({ method: 'GET', path: `/api/v1/pods?i=${i}` });
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.body), { path: `/api/v1/pods?i=${i}` });
    }
    assert.equal(connections, 1);
  });

  it('prepends the server URL path prefix and sends the bearer token', async (t) => {
    let seen: http.IncomingHttpHeaders | undefined;
    let url: string | undefined;
    const server = http.createServer((req, res) => {
      seen = req.headers;
      url = req.url;
      res.end('{}');
    });
    const port = await listen(t, server);
    const transport = new Transport(config(`http://127.0.0.1:${port}/k8s/clusters/c-1/`, { auth: { type: 'token', token: 'abc' } }));
    t.after(() => transport.close());
    await transport.request({ method: 'GET', path: '/api/v1/namespaces' });
    assert.equal(url, '/k8s/clusters/c-1/api/v1/namespaces');
    assert.equal(seen?.['authorization'], 'Bearer abc');
    assert.match(String(seen?.['user-agent']), /^operon\//);
  });

  it('times out a request that gets no answer and destroys its socket', async (t) => {
    const server = http.createServer(() => {});
    const port = await listen(t, server);
    const closed = nextSocketClosed(server);
    const transport = new Transport(config(`http://127.0.0.1:${port}`));
    t.after(() => transport.close());
    await assert.rejects(
      transport.request({ method: 'GET', path: '/slow', timeoutMs: 100, description: { verb: 'get', resource: 'pods', name: 'a', namespace: 'x' } }),
      (err: unknown) => err instanceof TransportError && /get pods a in namespace x: no complete answer within 100 ms/.test(err.message) && err.requestSent && err.request?.verb === 'get',
    );
    await closed;
  });

  it('reads a body sent in many pieces (a character cut between them), and fails on a body that stalls or is cut short', async (t) => {
    const server = http.createServer((req, res) => {
      if (req.url === '/pieces') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const euro = Buffer.from('"€"');
        res.write(euro.subarray(0, 2));
        setImmediate(() => res.end(euro.subarray(2)));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      if (req.url === '/stall') {
        res.write('{"partial":');
      } else {
        res.write('{"partial":');
        setImmediate(() => res.destroy());
      }
    });
    const port = await listen(t, server);
    const transport = new Transport(config(`http://127.0.0.1:${port}`));
    t.after(() => transport.close());
    assert.equal((await transport.request({ method: 'GET', path: '/pieces' })).body, '"€"');
    await assert.rejects(
      transport.request({ method: 'GET', path: '/stall', timeoutMs: 100 }),
      (err: unknown) => err instanceof TransportError && /no complete answer within 100 ms/.test(err.message) && err.requestSent,
    );
    await assert.rejects(transport.request({ method: 'GET', path: '/cut' }), (err: unknown) => err instanceof TransportError && err.requestSent);
  });

  it('rejects with the abort reason at once and destroys the socket', async (t) => {
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const server = http.createServer(() => arrived());
    const port = await listen(t, server);
    const closed = nextSocketClosed(server);
    const transport = new Transport(config(`http://127.0.0.1:${port}`));
    t.after(() => transport.close());
    const controller = new AbortController();
    const pending = transport.request({ method: 'GET', path: '/hang', signal: controller.signal });
    await reached;
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await closed;
  });

  it('reports a refused connection as not sent', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const transport = new Transport(config(`http://127.0.0.1:${port}`));
    await assert.rejects(transport.request({ method: 'POST', path: '/x', body: '{}' }), (err: unknown) => err instanceof TransportError && err.requestSent === false && /ECONNREFUSED/.test(err.message));
    transport.close();
  });

  it('answers a 401 by re-running the exec plugin and retrying exactly once', async (t) => {
    const dir = tempDir(t);
    const count = `${dir}/count`;
    const command = script(
      dir,
      'plugin.sh',
      `n=$(cat "${count}" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > "${count}"\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-%s"}}' "$n"`,
    );
    const auths: string[] = [];
    let accept = 'Bearer tok-2';
    const server = http.createServer((req, res) => {
      auths.push(String(req.headers['authorization']));
      res.statusCode = req.headers['authorization'] === accept ? 200 : 401;
      res.end(res.statusCode === 200 ? '{"ok":true}' : '{"kind":"Status","code":401,"reason":"Unauthorized"}');
    });
    const port = await listen(t, server);
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command, args: [], env: [], provideClusterInfo: false };
    const credentials = new ExecCredentials(exec, { clock: new ManualClock(), cache: new ExecCredentialCache() });
    const transport = new Transport(config(`http://127.0.0.1:${port}`), { credentials });
    t.after(() => transport.close());
    const ok = await transport.request({ method: 'GET', path: '/a' });
    assert.equal(ok.status, 200);
    assert.deepEqual(auths, ['Bearer tok-1', 'Bearer tok-2']);

    accept = 'never';
    auths.length = 0;
    const denied = await transport.request({ method: 'GET', path: '/b' });
    assert.equal(denied.status, 401);
    assert.deepEqual(auths, ['Bearer tok-2', 'Bearer tok-3']);
  });

  it('does not retry a 401 with a static token', async (t) => {
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests++;
      res.statusCode = 401;
      res.end();
    });
    const port = await listen(t, server);
    const transport = new Transport(config(`http://127.0.0.1:${port}`, { auth: { type: 'token', token: 'x' } }));
    t.after(() => transport.close());
    assert.equal((await transport.request({ method: 'GET', path: '/' })).status, 401);
    assert.equal(requests, 1);
  });

  describe('streams', () => {
    it('yields lines split across writes and ends when the server closes the response', async (t) => {
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"type":"ADDED",');
        setTimeout(() => res.write('"object":{}}\n{"type":"DELETED","object":{}}\n'), 10);
        setTimeout(() => res.end('{"type":"BOOKMARK","object":{}}\n'), 20);
      });
      const port = await listen(t, server);
      const transport = new Transport(config(`http://127.0.0.1:${port}`));
      t.after(() => transport.close());
      const { status, lines } = await transport.stream({ method: 'GET', path: '/watch' });
      assert.equal(status, 200);
      const got: string[] = [];
      for await (const line of lines) got.push(line);
      assert.deepEqual(got, ['{"type":"ADDED","object":{}}', '{"type":"DELETED","object":{}}', '{"type":"BOOKMARK","object":{}}']);
    });

    it('stops at once when aborted, with the abort reason, and destroys the socket', async (t) => {
      const server = http.createServer((_req, res) => {
        res.writeHead(200);
        res.write('{"n":1}\n');
      });
      const port = await listen(t, server);
      const closed = nextSocketClosed(server);
      const transport = new Transport(config(`http://127.0.0.1:${port}`));
      t.after(() => transport.close());
      const controller = new AbortController();
      const { lines } = await transport.stream({ method: 'GET', path: '/watch', signal: controller.signal });
      const got: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const line of lines) {
            got.push(line);
            controller.abort();
          }
        })(),
        { name: 'AbortError' },
      );
      assert.deepEqual(got, ['{"n":1}']);
      await closed;
    });

    it('throws a TransportError when the connection breaks mid-stream', async (t) => {
      const server = http.createServer((req, res) => {
        res.writeHead(200);
        res.write('{"n":1}\n');
        setTimeout(() => req.socket.destroy(), 10);
      });
      const port = await listen(t, server);
      const transport = new Transport(config(`http://127.0.0.1:${port}`));
      t.after(() => transport.close());
      const { lines } = await transport.stream({ method: 'GET', path: '/watch' });
      const got: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const line of lines) got.push(line);
        })(),
        TransportError,
      );
      assert.deepEqual(got, ['{"n":1}']);
    });

    it('ends a stream that stays silent longer than the idle timeout', async (t) => {
      const server = http.createServer((_req, res) => {
        res.writeHead(200);
        res.write('{"n":1}\n');
      });
      const port = await listen(t, server);
      const transport = new Transport(config(`http://127.0.0.1:${port}`));
      t.after(() => transport.close());
      const { lines } = await transport.stream({ method: 'GET', path: '/watch', idleTimeoutMs: 100 });
      await assert.rejects(
        (async () => {
          for await (const _line of lines) {
            // consume
          }
        })(),
        /no data for 100 ms/,
      );
    });

    it('counts the idle timeout from the last data received, however long the stream has been open', async (t) => {
      let respond: http.ServerResponse | undefined;
      const server = http.createServer((_req, res) => {
        res.writeHead(200);
        res.write('{"n":1}\n');
        respond = res;
      });
      const port = await listen(t, server);
      const clock = new ManualClock();
      const transport = new Transport(config(`http://127.0.0.1:${port}`), { clock });
      t.after(() => transport.close());
      const { lines } = await transport.stream({ method: 'GET', path: '/watch', idleTimeoutMs: 1_000 });
      const it = lines[Symbol.asyncIterator]();
      assert.deepEqual(await it.next(), { value: '{"n":1}', done: false });
      await clock.advance(900);
      respond?.write('{"n":2}\n');
      assert.deepEqual(await it.next(), { value: '{"n":2}', done: false });
      await clock.advance(900); // 1,800 ms since the stream opened, 900 since the last data
      respond?.write('{"n":3}\n');
      assert.deepEqual(await it.next(), { value: '{"n":3}', done: false });
      const silent = it.next();
      await clock.advance(1_000);
      await assert.rejects(silent, /no data for 1000 ms/);
    });

    it('turns a non-2xx answer into the typed ApiError', async (t) => {
      const server = http.createServer((_req, res) => {
        res.writeHead(410, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (2)' }));
      });
      const port = await listen(t, server);
      const transport = new Transport(config(`http://127.0.0.1:${port}`));
      t.after(() => transport.close());
      await assert.rejects(
        transport.stream({ method: 'GET', path: '/watch', description: { verb: 'watch', resource: 'pods' } }),
        (err: unknown) => err instanceof ApiError && err.kind === 'Expired' && err.request?.verb === 'watch',
      );
    });
  });

  describe('TLS and proxies', () => {
    it('verifies the server against the configured CA, and fails before sending with a wrong one', async (t) => {
      const dir = tempDir(t);
      const { cert, key } = selfSignedCert(dir);
      const server = https.createServer({ cert, key }, (_req, res) => res.end('{"tls":true}'));
      const port = await listen(t, server);
      const good = new Transport(config(`https://127.0.0.1:${port}`, { ca: cert }));
      t.after(() => good.close());
      assert.equal((await good.request({ method: 'GET', path: '/' })).body, '{"tls":true}');
      const bad = new Transport(config(`https://127.0.0.1:${port}`));
      t.after(() => bad.close());
      await assert.rejects(bad.request({ method: 'POST', path: '/', body: '{}' }), (err: unknown) => err instanceof TransportError && err.requestSent === false);
      const skip = new Transport(config(`https://127.0.0.1:${port}`, { insecureSkipTlsVerify: true }));
      t.after(() => skip.close());
      assert.equal((await skip.request({ method: 'GET', path: '/' })).status, 200);
    });

    it('presents the client certificate over one pooled connection, and connects again only for another certificate', async (t) => {
      const dir = tempDir(t);
      const certs = ['server', 'alice', 'bob'].map((name) => {
        mkdirSync(join(dir, name));
        return selfSignedCert(join(dir, name));
      });
      const [server, alice, bob] = certs as [(typeof certs)[0], (typeof certs)[0], (typeof certs)[0]];
      let connections = 0;
      const api = https.createServer({ ...server, requestCert: true, rejectUnauthorized: true, ca: [alice.cert, bob.cert] }, (req, res) => {
        res.end(JSON.stringify({ peer: (req.socket as tls.TLSSocket).getPeerCertificate().fingerprint256 }));
      });
      api.on('secureConnection', () => connections++);
      const port = await listen(t, api);
      let current: Credential = { clientCert: alice.cert, clientKey: alice.key };
      const credentials: CredentialProvider = { get: () => Promise.resolve(current), invalidate: () => {}, refreshable: true };
      const transport = new Transport(config(`https://127.0.0.1:${port}`, { ca: server.cert }), { credentials });
      t.after(() => transport.close());
      const peer = async (): Promise<string> => JSON.parse((await transport.request({ method: 'GET', path: '/' })).body).peer;
      const aliceSeen = await peer();
      assert.equal(await peer(), aliceSeen);
      // A refreshed credential with the same certificate (new Buffers) keeps the pooled connection.
      current = { clientCert: Buffer.from(alice.cert), clientKey: Buffer.from(alice.key) };
      assert.equal(await peer(), aliceSeen);
      assert.equal(connections, 1);
      current = { clientCert: bob.cert, clientKey: bob.key };
      const bobSeen = await peer();
      assert.notEqual(bobSeen, aliceSeen);
      assert.equal(connections, 2);
      // Watches go through Node's agent: its pool keys name the connection, not the PEM texts.
      const { lines } = await transport.stream({ method: 'GET', path: '/' });
      for await (const line of lines) assert.equal(JSON.parse(line).peer, bobSeen);
      const keys = [...Object.keys(transport.agent.freeSockets), ...Object.keys(transport.agent.sockets)];
      assert.equal(keys.length, 1);
      for (const key of keys) {
        assert.ok(key.length < 100 && !key.includes('BEGIN'), key);
      }
    });

    it('tunnels TLS through an HTTP CONNECT proxy, keeping the tunnel alive between requests', async (t) => {
      const dir = tempDir(t);
      const { cert, key } = selfSignedCert(dir);
      const api = https.createServer({ cert, key }, (req, res) => res.end(JSON.stringify({ url: req.url, host: req.headers.host })));
      const apiPort = await listen(t, api);
      const connects: Array<{ target: string | undefined; auth: string | undefined }> = [];
      const proxy = http.createServer((_req, res) => {
        res.statusCode = 405;
        res.end();
      });
      proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
        connects.push({ target: req.url, auth: req.headers['proxy-authorization'] });
        const [host, port] = String(req.url).split(':');
        const upstream = net.connect(Number(port), host, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      });
      const proxyPort = await listen(t, proxy);
      const transport = new Transport(config(`https://localhost:${apiPort}`, { ca: cert, proxyUrl: `http://user:p%40ss@127.0.0.1:${proxyPort}` }));
      t.after(() => transport.close());
      const first = await transport.request({ method: 'GET', path: '/api/v1/pods' });
      const second = await transport.request({ method: 'GET', path: '/version' });
      assert.deepEqual(JSON.parse(first.body), { url: '/api/v1/pods', host: `localhost:${apiPort}` });
      assert.equal(JSON.parse(second.body).url, '/version');
      assert.deepEqual(connects, [{ target: `localhost:${apiPort}`, auth: `Basic ${Buffer.from('user:p@ss').toString('base64')}` }]);
    });

    it('reports a proxy that refuses the tunnel as a connection failure before sending', async (t) => {
      const proxy = http.createServer();
      proxy.on('connect', (_req: http.IncomingMessage, client: net.Socket) => {
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      });
      const proxyPort = await listen(t, proxy);
      const transport = new Transport(config('https://127.0.0.1:1', { proxyUrl: `http://127.0.0.1:${proxyPort}` }));
      t.after(() => transport.close());
      await assert.rejects(
        transport.request({ method: 'POST', path: '/x', body: '{}' }),
        (err: unknown) => err instanceof TransportError && err.requestSent === false && /refused to tunnel to 127\.0\.0\.1:1: HTTP 407/.test(err.message),
      );
    });

    it('refuses proxy schemes it cannot tunnel through', () => {
      assert.throws(() => new Transport(config('https://k', { proxyUrl: 'socks5://p:1080' })), /only http:\/\/ proxies/);
    });
  });
});
