import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { recordingLogger } from '../../../src/base/logger.ts';
import { HealthServer, parseBindAddress, readyWhen, reflectorCheck, type CheckResult } from '../../../src/server/health.ts';
import type { ReflectorStatus } from '../../../src/watch/reflector.ts';

function get(url: string, method = 'GET'): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('parseBindAddress', () => {
  it('reads host:port with an empty host, IPv4 and bracketed IPv6', () => {
    assert.deepEqual(parseBindAddress(':8081'), { host: undefined, port: 8081 });
    assert.deepEqual(parseBindAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseBindAddress('[::1]:9090'), { host: '::1', port: 9090 });
    assert.throws(() => parseBindAddress('8081'), /host:port/);
    assert.throws(() => parseBindAddress(':70000'), /host:port/);
  });
});

describe('HealthServer', () => {
  const { logger, records } = recordingLogger();
  let watchStatus: CheckResult = { ok: true };
  let resolveSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => (resolveSynced = resolve));
  const server = new HealthServer({
    bindAddress: '127.0.0.1:0',
    checkTimeoutMs: 100,
    logger,
    metrics: { exposition: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'up 1\n' }) },
  });
  server.addHealthCheck('ping', () => true);
  server.addHealthCheck('watch-printers', () => watchStatus);
  server.addReadyCheck('cache-printers', readyWhen(synced, 'the first list of printers'));
  let base = '';

  before(async () => {
    base = (await server.start()).url;
  });
  after(() => server.stop());

  it('answers 200 ok while every health check passes', async () => {
    assert.deepEqual(await get(`${base}/healthz`), { status: 200, body: 'ok\n', type: 'text/plain; charset=utf-8' });
    const verbose = await get(`${base}/healthz?verbose`);
    assert.equal(verbose.body, '[+]ping ok\n[+]watch-printers ok\nhealthz check passed\n');
  });

  it('answers 503 naming the failing check and its last error, and logs the transition once', async () => {
    watchStatus = { ok: false, message: 'watch in ns-a: backing-off, last error Forbidden: printers is forbidden' };
    const first = await get(`${base}/healthz`);
    await get(`${base}/healthz`);
    assert.equal(first.status, 503);
    assert.equal(first.body, '[+]ping ok\n[-]watch-printers failed: watch in ns-a: backing-off, last error Forbidden: printers is forbidden\nhealthz check failed\n');
    assert.equal(records.filter((r) => r.level === 'warn' && r.check === 'watch-printers').length, 1);
    assert.equal((await get(`${base}/healthz?exclude=watch-printers`)).status, 200);
    assert.equal((await get(`${base}/healthz/ping`)).status, 200);
    assert.equal((await get(`${base}/healthz/watch-printers`)).status, 503);
    assert.equal((await get(`${base}/healthz/nope`)).status, 404);
    watchStatus = { ok: true };
    assert.equal((await get(`${base}/healthz`)).status, 200);
    assert.equal(records.filter((r) => r.level === 'info' && r.check === 'watch-printers').length, 1);
  });

  it('fails a check that throws or does not answer in time', async () => {
    const local = new HealthServer({ bindAddress: '127.0.0.1:0', checkTimeoutMs: 50 });
    local.addHealthCheck('throws', () => {
      throw new Error('lease lost');
    });
    local.addHealthCheck('hangs', () => new Promise<boolean>(() => {}));
    local.addHealthCheck('async-ok', async () => ({ ok: true }));
    const { url } = await local.start();
    try {
      const res = await get(`${url}/healthz`);
      assert.equal(res.status, 503);
      assert.match(res.body, /\[-\]throws failed: Error: lease lost/);
      assert.match(res.body, /\[-\]hangs failed: no answer within 50 ms/);
      assert.match(res.body, /\[\+\]async-ok ok/);
    } finally {
      await local.stop();
    }
  });

  it('answers /readyz 503 until the caches are synced, then 200', async () => {
    const waiting = await get(`${base}/readyz`);
    assert.equal(waiting.status, 503);
    assert.match(waiting.body, /\[-\]cache-printers failed: waiting for the first list of printers/);
    resolveSynced();
    await synced;
    assert.deepEqual(await get(`${base}/readyz`), { status: 200, body: 'ok\n', type: 'text/plain; charset=utf-8' });
  });

  it('serves /metrics from the metrics source; 404 elsewhere; 405 for other methods; HEAD without body', async () => {
    assert.deepEqual(await get(`${base}/metrics`), { status: 200, body: 'up 1\n', type: 'text/plain; version=0.0.4; charset=utf-8' });
    assert.equal((await get(`${base}/`)).status, 404);
    assert.equal((await get(`${base}/healthz`, 'POST')).status, 405);
    assert.deepEqual(await get(`${base}/healthz`, 'HEAD'), { status: 200, body: '', type: 'text/plain; charset=utf-8' });
  });

  it('serves no /metrics without a metrics source, and 200 with no checks', async () => {
    const bare = new HealthServer({ bindAddress: '127.0.0.1:0' });
    const { url } = await bare.start();
    try {
      assert.equal((await get(`${url}/metrics`)).status, 404);
      assert.equal((await get(`${url}/healthz`)).status, 200);
      assert.equal((await get(`${url}/readyz`)).status, 200);
    } finally {
      await bare.stop();
    }
  });

  it('with probes off serves only /metrics (a metrics server on a port of its own)', async () => {
    const scrape = new HealthServer({ bindAddress: '127.0.0.1:0', probes: false, metrics: { exposition: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'up 1\n' }) } });
    const { url } = await scrape.start();
    try {
      assert.equal((await get(`${url}/metrics`)).body, 'up 1\n');
      assert.deepEqual(await get(`${url}/healthz`), { status: 404, body: 'not found; try /metrics\n', type: 'text/plain; charset=utf-8' });
      assert.equal((await get(`${url}/readyz`)).status, 404);
    } finally {
      await scrape.stop();
    }
  });

  it('refuses duplicate and URL-unsafe check names', () => {
    assert.throws(() => server.addHealthCheck('ping', () => true), /already registered/);
    assert.throws(() => server.addHealthCheck('a/b', () => true), /URL path segment/);
  });
});

describe('reflectorCheck and readyWhen', () => {
  it('names each unhealthy watch with its phase and last error', () => {
    const status: ReflectorStatus = {
      healthy: false,
      current: false,
      watches: [
        { phase: 'watching', relists: 0, reconnects: 0, healthy: true, current: true, namespace: 'ns-ok' },
        { phase: 'backing-off', relists: 0, reconnects: 3, healthy: false, current: false, namespace: 'ns-a', lastError: { kind: 'Forbidden', message: 'printers is forbidden', at: 0 } },
      ],
    };
    assert.deepEqual(reflectorCheck({ status: () => status })(), { ok: false, message: 'watch in ns-a: backing-off, last error Forbidden: printers is forbidden' });
    assert.deepEqual(reflectorCheck({ status: () => ({ healthy: true, current: true, watches: [] }) })(), { ok: true, message: '0 watch(es) healthy' });
  });

  it('readyWhen reports a rejection', async () => {
    const failed = Promise.reject(new Error('CRD missing'));
    const check = readyWhen(failed, 'the first list');
    await failed.catch(() => {});
    assert.deepEqual(check(), { ok: false, message: 'the first list failed: CRD missing' });
  });
});

describe('HealthServer livenessPath', () => {
  it("answers kopf's --liveness path as /healthz, and still serves /healthz", async () => {
    let healthy = true;
    const server = new HealthServer({ bindAddress: '127.0.0.1:0', livenessPath: '/alive' });
    server.addHealthCheck('watch', () => (healthy ? true : { ok: false, message: 'watch down' }));
    const { url } = await server.start();
    try {
      assert.equal((await get(`${url}/alive`)).status, 200);
      assert.equal((await get(`${url}/healthz`)).status, 200);
      healthy = false;
      const failing = await get(`${url}/alive`);
      assert.equal(failing.status, 503);
      assert.match(failing.body, /watch down/);
      assert.equal((await get(`${url}/other`)).status, 404);
    } finally {
      await server.stop();
    }
  });
});
