import assert from 'node:assert/strict';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { after, describe, it } from 'node:test';
import { recordingLogger } from '../../../src/base/logger.ts';
import { MalformedReviewError } from '../../../src/admission/types.ts';
import { WebhookServer } from '../../../src/server/webhooks.ts';
import { issueCertificate } from '../../../src/server/x509.ts';

const now = new Date();
const notAfter = new Date(now.getTime() + 3_600_000);
const ca = issueCertificate({ commonName: 'ca', ca: true, notBefore: now, notAfter });
const serving = (): ReturnType<typeof issueCertificate> => issueCertificate({ commonName: 'w', hosts: ['127.0.0.1'], issuer: ca, notBefore: new Date(now.getTime() - 60_000), notAfter });

const { logger, records: logs } = recordingLogger();
const server = new WebhookServer({ certificate: serving(), port: 0, host: '127.0.0.1', maxBodyBytes: 1024, logger });
server.route('/echo', async (body) => ({ got: body }));
server.route('/bad', async () => {
  throw new MalformedReviewError('the AdmissionReview has no request');
});
const port = await server.listen();
after(() => server.stop());

function post(path: string, body: string, method = 'POST'): Promise<{ status: number; body: string; cert: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, ca: ca.cert, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      const cert = (res.socket as TLSSocket).getPeerX509Certificate()?.serialNumber ?? '';
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, cert }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('WebhookServer', () => {
  it('answers a route with its JSON reply over TLS the CA verifies', async () => {
    const res = await post('/echo', '{"a":1}');
    assert.deepEqual([res.status, JSON.parse(res.body)], [200, { got: { a: 1 } }]);
  });

  const refusals: Array<[string, string, string, string, number, RegExp]> = [
    ['a body over the limit', '/echo', 'POST', JSON.stringify({ pad: 'x'.repeat(2048) }), 400, /over 1024 bytes/],
    ['a body far over the limit, still answered', '/echo', 'POST', 'x'.repeat(4 * 1024 * 1024), 400, /over 1024 bytes/],
    ['a body that is not JSON', '/echo', 'POST', '{', 400, /not JSON/],
    ['a malformed review', '/bad', 'POST', '{}', 400, /has no request/],
    ['an unknown path', '/nope', 'POST', '{}', 404, /no webhook is served at \/nope/],
    ['a GET', '/echo', 'GET', '', 405, /take POST/],
  ];
  for (const [name, path, method, body, status, message] of refusals) {
    it(`refuses ${name} with ${status} and a reason`, async () => {
      const res = await post(path, body, method);
      assert.equal(res.status, status);
      assert.match((JSON.parse(res.body) as { message: string }).message, message);
    });
  }

  it('logs each 400', () => {
    assert.ok(logs.some((l) => /over 1024 bytes/.test(l.msg)));
  });

  it('serves a new certificate to new connections after setCertificate', async () => {
    const before = (await post('/echo', '{}')).cert;
    server.setCertificate(serving());
    const afterSwap = (await post('/echo', '{}')).cert;
    assert.notEqual(afterSwap, before);
  });
});

describe('WebhookServer.listen', () => {
  it('names the address and the fix when the port is taken', async () => {
    const second = new WebhookServer({ certificate: serving(), port, host: '127.0.0.1' });
    await assert.rejects(second.listen(), /the webhook server cannot listen on 127\.0\.0\.1:\d+: the address is in use .*choose another port with webhooks\.port or OPERON_WEBHOOK_PORT/);
  });
});
