import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { planCertificates } from '../../../src/server/certificates.ts';
import { derInteger, issueCertificate } from '../../../src/server/x509.ts';

const day = 24 * 3_600_000;
const t0 = new Date('2026-12-05T12:00:00Z');
const later = (ms: number): Date => new Date(t0.getTime() + ms);
const policy = { hosts: ['127.0.0.1', 'webhooks.ops.svc'], caLifetimeMs: 300 * day, servingLifetimeMs: 90 * day, renewFraction: 1 / 3 };

describe('issueCertificate', () => {
  it('makes a CA and a serving certificate that Node verifies, naming IPs and DNS names', () => {
    const ca = issueCertificate({ commonName: 'ca', ca: true, notBefore: t0, notAfter: later(day) });
    const serving = issueCertificate({ commonName: 'w', hosts: ['127.0.0.1', '::1', 'a.b.svc'], issuer: ca, notBefore: t0, notAfter: later(day) });
    const caCert = new X509Certificate(ca.cert);
    const cert = new X509Certificate(serving.cert);
    assert.equal(caCert.ca, true);
    assert.equal(cert.ca, false);
    assert.ok(caCert.verify(caCert.publicKey));
    assert.ok(cert.verify(caCert.publicKey));
    assert.ok(cert.checkIssued(caCert));
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkHost('a.b.svc'), 'a.b.svc');
    assert.equal(cert.checkHost('other.svc'), undefined);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(new Date(cert.validTo).getTime(), later(day).getTime());
  });
});

describe('planCertificates', () => {
  it('issues a CA and a serving certificate for an empty Secret', () => {
    const data = planCertificates({}, t0, policy);
    assert.ok(data?.['tls.crt'] && data['ca.crt'] && data['ca.key'] && data['tls.key']);
    assert.ok(new X509Certificate(data['tls.crt']).verify(new X509Certificate(data['ca.crt']).publicKey));
  });

  it('keeps certificates with more than a third of their life left', () => {
    const data = planCertificates({}, t0, policy) ?? {};
    assert.equal(planCertificates(data, later(59 * day), policy), undefined);
  });

  it('renews the serving certificate, not the CA, when a third of its life is left', () => {
    const data = planCertificates({}, t0, policy) ?? {};
    const next = planCertificates(data, later(61 * day), policy);
    assert.ok(next);
    assert.notEqual(next['tls.crt'], data['tls.crt']);
    assert.equal(next['ca.crt'], data['ca.crt']);
  });

  it('renews when a required host is missing', () => {
    const data = planCertificates({}, t0, policy) ?? {};
    const next = planCertificates(data, t0, { ...policy, hosts: [...policy.hosts, '10.0.0.1'] });
    assert.equal(new X509Certificate(next?.['tls.crt'] ?? '').checkIP('10.0.0.1'), '10.0.0.1');
  });

  it('rotates the CA and keeps the previous one in the bundle while it is valid', () => {
    const data = planCertificates({}, t0, policy) ?? {};
    const next = planCertificates(data, later(201 * day), policy);
    const bundle = next?.['ca.crt'] ?? '';
    assert.equal(bundle.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.ok(bundle.endsWith(data['ca.crt'] ?? 'missing'));
    assert.notEqual(next?.['ca.key'], data['ca.key']);
  });

  it('replaces material it cannot parse', () => {
    assert.ok(planCertificates({ 'tls.crt': 'garbage', 'tls.key': 'x', 'ca.crt': 'y', 'ca.key': 'z' }, t0, policy));
  });
});

describe('derInteger', () => {
  it('writes the one minimal encoding (regression: a random serial starting with 0 made a certificate OpenSSL refused)', () => {
    assert.deepEqual([...derInteger(Buffer.from([0x00, 0x10, 0x20]))], [0x02, 0x02, 0x10, 0x20]);
    assert.deepEqual([...derInteger(Buffer.from([0x00, 0x00, 0x90]))], [0x02, 0x02, 0x00, 0x90]);
    assert.deepEqual([...derInteger(Buffer.from([0x80]))], [0x02, 0x02, 0x00, 0x80]);
    assert.deepEqual([...derInteger(Buffer.from([0x00]))], [0x02, 0x01, 0x00]);
    assert.deepEqual([...derInteger(Buffer.from([0x02]))], [0x02, 0x01, 0x02]);
  });
});
