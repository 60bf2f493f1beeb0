import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { describe, it, type TestContext } from 'node:test';
import { systemClock } from '../../../src/base/clock.ts';
import { Http1Error, Http1Pool, type Http1PoolOptions, type Http1Request } from '../../../src/client/http1.ts';
import { listen, selfSignedCert, tempDir } from './fixtures.ts';

/** A TCP server whose answers the test writes byte for byte; it records what it received. */
async function rawServer(t: TestContext, answer: (request: string, socket: net.Socket, index: number) => void): Promise<{ port: number; requests: string[]; connections: () => number }> {
  const requests: string[] = [];
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let pending = '';
    socket.on('data', (data) => {
      pending += data.toString('latin1');
      // One request at a time: the head, then Content-Length bytes of body.
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(pending.slice(0, end))?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        const request = pending.slice(0, end + 4 + length);
        pending = pending.slice(end + 4 + length);
        requests.push(request);
        answer(request, socket, requests.length - 1);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, requests, connections: () => connections };
}

function pool(t: TestContext, port: number, options: Partial<Http1PoolOptions> = {}): Http1Pool {
  const p = new Http1Pool({ isHttps: false, host: '127.0.0.1', port, servername: undefined, rejectUnauthorized: true }, { maxSockets: 4, idleSocketMs: 30_000, clock: systemClock, ...options });
  t.after(() => p.close());
  return p;
}

const get: Http1Request = { method: 'GET', path: '/x', headers: {}, body: undefined };
const ok = (body: string): string => `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const chunked = (...parts: string[]): string => `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('')}0\r\n\r\n`;

/** Writes `text` one byte per write, with a turn of the event loop between, so every split position is seen. */
async function dribble(socket: net.Socket, text: string): Promise<void> {
  for (const byte of Buffer.from(text)) {
    socket.write(Buffer.of(byte));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('Http1Pool', () => {
  it('sends one well-formed request and reads a Content-Length answer, reusing the connection', async (t) => {
    const server = await rawServer(t, (_req, socket, i) => socket.write(ok(`{"n":${i},"text":"é"}`)));
    const p = pool(t, server.port);
    const first = await p.send({ method: 'PATCH', path: '/api/v1/x?y=1', headers: { 'Content-Type': 'application/merge-patch+json' }, body: '{"a":"é"}' }).response;
    assert.deepEqual([first.status, first.body, first.headers['content-type']], [200, '{"n":0,"text":"é"}', 'application/json']);
    const second = await p.send(get).response;
    assert.equal(second.body, '{"n":1,"text":"é"}');
    assert.equal(server.connections(), 1);
    assert.equal(server.requests[0], `PATCH /api/v1/x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/merge-patch+json\r\nContent-Length: 10\r\n\r\n{"a":"é"}`.replace('é', Buffer.from('é').toString('latin1')));
  });

  it('reads chunked and Content-Length answers split at every byte', async (t) => {
    const answers = [chunked('{"items":', '[1,2,3]', '}'), ok('{"done":"ü"}'), `HTTP/1.1 100 Continue\r\n\r\n${ok('{}')}`, 'HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n'];
    const server = await rawServer(t, (_req, socket, i) => void dribble(socket, answers[i] as string));
    const p = pool(t, server.port);
    assert.equal((await p.send(get).response).body, '{"items":[1,2,3]}');
    assert.equal((await p.send(get).response).body, '{"done":"ü"}');
    assert.deepEqual([(await p.send(get).response).status], [200]);
    const empty = await p.send(get).response;
    assert.deepEqual([empty.status, empty.body, empty.headers['x-a']], [204, '', '1']);
    assert.equal(server.connections(), 1);
  });

  it('reads chunk extensions and trailers, and joins repeated headers', async (t) => {
    const server = await rawServer(t, (_req, socket) =>
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nWarning: a\r\nWarning: b\r\nSet-Cookie: c=1\r\nSet-Cookie: d=2\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n'),
    );
    const res = await pool(t, server.port).send(get).response;
    assert.deepEqual([res.body, res.headers['warning'], res.headers['set-cookie']], ['abc', 'a, b', ['c=1', 'd=2']]);
  });

  it('closes a connection the server asked to close, and reads an answer delimited by the close', async (t) => {
    const server = await rawServer(t, (_req, socket, i) => {
      if (i === 0) socket.write(`HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi`);
      else socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
    });
    const p = pool(t, server.port);
    assert.equal((await p.send(get).response).body, 'hi');
    assert.equal((await p.send(get).response).body, 'until the end');
    assert.equal(server.connections(), 2);
  });

  it('fails a request whose connection closes mid-answer, as sent, and does not reuse the connection', async (t) => {
    const server = await rawServer(t, (_req, socket, i) => {
      if (i === 0) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      else socket.write(ok('fine'));
    });
    const p = pool(t, server.port);
    await assert.rejects(p.send(get).response, (err: unknown) => err instanceof Http1Error && err.requestSent && /hang up|closed/.test(err.message));
    assert.equal((await p.send(get).response).body, 'fine');
    assert.equal(server.connections(), 2);
  });

  it('fails a refused connection as not sent', async (t) => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    await assert.rejects(pool(t, port).send(get).response, (err: unknown) => err instanceof Http1Error && !err.requestSent && err.code === 'ECONNREFUSED');
  });

  it('refuses a request that could split the stream before connecting', async (t) => {
    const server = await rawServer(t, (_req, socket) => socket.write(ok('{}')));
    const p = pool(t, server.port);
    const bads: Http1Request[] = [
      { ...get, path: '/x HTTP/1.1\r\nX: y' },
      { ...get, headers: { 'X-A': 'a\r\nInjected: 1' } },
      { ...get, headers: { 'X A': 'a' } },
      { ...get, method: 'GET /' },
    ];
    for (const bad of bads) {
      await assert.rejects(p.send(bad).response, (err: unknown) => err instanceof Http1Error && !err.requestSent);
    }
    assert.equal(server.connections(), 0);
  });

  it('keeps at most maxSockets connections and serves waiting requests in order', async (t) => {
    const held: net.Socket[] = [];
    const server = await rawServer(t, (req, socket) => {
      const n = /GET \/(\d+)/.exec(req)?.[1] ?? '?';
      if (held.length < 2 && n !== '?' && Number(n) < 2) held.push(socket);
      else socket.write(ok(n));
      if (held.length === 2 && Number(n) < 2) for (const s of held.splice(0)) s.write(ok('held'));
    });
    const p = pool(t, server.port, { maxSockets: 2 });
    const bodies = await Promise.all([0, 1, 2, 3, 4].map((i) => p.send({ ...get, path: `/${i}` }).response.then((r) => r.body)));
    assert.deepEqual(bodies, ['held', 'held', '2', '3', '4']);
    assert.equal(server.connections(), 2);
  });

  it('hands a connection only to a request with the same TLS context (client certificate)', async (t) => {
    let first: net.Socket | undefined;
    const server = await rawServer(t, (req, socket) => {
      if (req.startsWith('GET /alice') && first === undefined) first = socket;
      else socket.write(ok(req.split(' ')[1] ?? ''));
    });
    const p = pool(t, server.port, { maxSockets: 1 });
    const [alice, bob] = [tls.createSecureContext(), tls.createSecureContext()];
    const a = p.send({ ...get, path: '/alice', secureContext: alice });
    const b = p.send({ ...get, path: '/bob', secureContext: bob });
    await new Promise((resolve) => setTimeout(resolve, 50));
    first?.write(ok('/alice'));
    assert.deepEqual([(await a.response).body, (await b.response).body], ['/alice', '/bob']);
    // Alice's connection was closed rather than lent to Bob.
    assert.equal(server.connections(), 2);
  });

  it('resumes the TLS session of an earlier connection with the same context, never with another', async (t) => {
    const { cert, key } = selfSignedCert(tempDir(t));
    // Every answer closes its connection, so each request is a new handshake.
    const resumed: boolean[] = [];
    const server = tls.createServer({ cert, key }, (socket) => {
      resumed.push(socket.isSessionReused());
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'));
    });
    const port = await listen(t, server);
    const p = new Http1Pool({ isHttps: true, host: '127.0.0.1', port, servername: undefined, rejectUnauthorized: true }, { maxSockets: 1, idleSocketMs: 30_000, clock: systemClock });
    t.after(() => p.close());
    const [alice, bob] = [tls.createSecureContext({ ca: cert }), tls.createSecureContext({ ca: cert })];
    for (const context of [alice, alice, alice, bob, bob]) assert.equal((await p.send({ ...get, secureContext: context }).response).body, 'ok');
    // Alice's second and third connections resumed her first's session; Bob's first did not get hers.
    assert.deepEqual(resumed, [false, true, true, false, true]);
  });

  it('close fails running and waiting requests, and a later request opens a new connection', async (t) => {
    let arrived: () => void = () => {};
    const first = new Promise<void>((resolve) => (arrived = resolve));
    const server = await rawServer(t, (_req, socket, i) => {
      if (i === 0) arrived(); // and never answered
      else socket.write(ok('again'));
    });
    const p = pool(t, server.port, { maxSockets: 1 });
    const running = p.send(get).response;
    const waiting = p.send(get).response;
    await first;
    const failed = Promise.all([
      assert.rejects(running, (err: unknown) => err instanceof Http1Error && err.requestSent),
      assert.rejects(waiting, (err: unknown) => err instanceof Http1Error && !err.requestSent && /closed/.test(err.message)),
    ]);
    p.close();
    await failed;
    assert.equal((await p.send(get).response).body, 'again');
    assert.equal(server.connections(), 2);
  });

  it('aborts: the request fails with the reason, its connection is destroyed, a queued one never goes out', async (t) => {
    const server = await rawServer(t, () => {});
    const p = pool(t, server.port, { maxSockets: 1 });
    const running = p.send(get);
    const queued = p.send({ ...get, path: '/queued' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    queued.abort(new Error('not wanted'));
    running.abort(new Error('too slow'));
    await assert.rejects(running.response, /too slow/);
    await assert.rejects(queued.response, /not wanted/);
    assert.equal(running.requestSent, true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(server.requests.map((r) => r.split(' ')[1]), ['/x']);
    assert.equal(p.size, 0);
  });

  it('closes connections idle for longer than idleSocketMs', async (t) => {
    const server = await rawServer(t, (_req, socket) => socket.write(ok('{}')));
    const p = pool(t, server.port, { idleSocketMs: 100 });
    await p.send(get).response;
    assert.equal(p.size, 1);
    for (let i = 0; i < 100 && p.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(p.size, 0);
    await p.send(get).response;
    assert.equal(server.connections(), 2);
  });

  it('lets a program whose last request is done exit, though its connection stays pooled', { timeout: 30_000 }, async (t) => {
    const server = await rawServer(t, (_req, socket) => socket.write(ok('{"ok":true}')));
    const module = new URL('../../../src/client/http1.ts', import.meta.url).href;
    const clock = new URL('../../../src/base/clock.ts', import.meta.url).href;
    const script = `
      const { Http1Pool } = await import(${JSON.stringify(module)});
      const { systemClock } = await import(${JSON.stringify(clock)});
      const pool = new Http1Pool({ isHttps: false, host: '127.0.0.1', port: ${server.port}, servername: undefined, rejectUnauthorized: true }, { maxSockets: 1, idleSocketMs: 600000, clock: systemClock });
      console.log((await pool.send({ method: 'GET', path: '/', headers: {}, body: undefined }).response).body);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill());
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.deepEqual([code, out.trim()], [0, '{"ok":true}']);
  });

  it('never reuses a connection that outlived idleSocketMs, even when no timer could run meanwhile', async (t) => {
    // A blocked event loop: time passes, timers do not fire.
    let now = 0;
    const frozen = { now: () => now, setTimer: () => () => {} };
    const server = await rawServer(t, (_req, socket) => socket.write(ok('{}')));
    const p = pool(t, server.port, { clock: frozen, idleSocketMs: 1_000 });
    await p.send(get).response;
    now += 999;
    await p.send(get).response;
    assert.equal(server.connections(), 1);
    now += 1_000;
    await p.send(get).response;
    assert.equal(server.connections(), 2);
  });

  it('drops a connection the server sent bytes on unasked', async (t) => {
    const server = await rawServer(t, (_req, socket) => socket.write(`${ok('{}')}HTTP/1.1 200 OK\r\n`));
    const p = pool(t, server.port);
    await p.send(get).response;
    await p.send(get).response;
    assert.equal(server.connections(), 2);
  });

  it('fails a malformed answer without hanging', async (t) => {
    const server = await rawServer(t, (_req, socket) => socket.write('SMTP ready\r\n\r\n'));
    await assert.rejects(pool(t, server.port).send(get).response, (err: unknown) => err instanceof Http1Error && /malformed status line/.test(err.message));
  });
});
