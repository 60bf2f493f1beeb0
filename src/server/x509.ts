/**
 * X.509 certificates for the webhook server, made with `node:crypto` alone: ECDSA P-256 keys,
 * a CA certificate and a serving certificate signed by it, as PEM.
 *
 * Why no library: Node 24 parses and verifies certificates (`X509Certificate`) but cannot build
 * them. A certificate is a short DER structure, and the few fields a webhook needs (validity,
 * basicConstraints, keyUsage, extKeyUsage serverAuth, subjectAltName, key identifiers) fit in the
 * small encoder below; `@peculiar/x509` (with pkijs, asn1js, tslib, reflect-metadata) or
 * `node-forge` (1.6 MB of RSA-first code) would cost more to load than this file does. Every
 * certificate made here is checked in the unit tests by Node's own parser and verifier.
 *
 * Guarantees: serials are 128 random bits (positive); `notBefore` is one minute in the past so a
 * replica whose clock lags slightly still accepts a fresh certificate; SANs carry IP addresses as
 * iPAddress entries (the API server checks the URL host against them) and names as dNSName.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject, createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

/** A certificate and its private key, both PEM. */
export interface CertificatePair {
  cert: string;
  key: string;
}

/** Options of {@link issueCertificate}. */
export interface IssueOptions {
  commonName: string;
  /** DNS names and IP addresses the certificate is valid for (serving certificates). */
  hosts?: readonly string[];
  notBefore: Date;
  notAfter: Date;
  /** Makes a CA certificate (may sign others) instead of a serving certificate. */
  ca?: boolean;
  /** The signer; absent for a self-signed CA. */
  issuer?: CertificatePair;
}

/**
 * A new key pair and a certificate for it, signed by `issuer` (or self-signed).
 *
 * @example
 * ```ts
 * const ca = issueCertificate({ commonName: 'operon-ca', ca: true, notBefore, notAfter });
 * const serving = issueCertificate({ commonName: 'webhooks', hosts: ['127.0.0.1'], issuer: ca, notBefore, notAfter });
 * ```
 */
export function issueCertificate(options: IssueOptions): CertificatePair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const signerKey: KeyObject = options.issuer ? createPrivateKey(options.issuer.key) : privateKey;
  const issuerCert = options.issuer ? new X509Certificate(options.issuer.cert) : undefined;
  const subject = name(options.commonName);
  const issuerName = issuerCert ? issuerNameDer(issuerCert) : subject;
  const keyId = createHash('sha1').update(subjectPublicKeyBits(spki)).digest();
  const issuerKeyId = issuerCert ? createHash('sha1').update(subjectPublicKeyBits(issuerCert.publicKey.export({ type: 'spki', format: 'der' }))).digest() : keyId;

  const extensions = [
    extension('2.5.29.19', true, seq(...(options.ca ? [Buffer.from([0x01, 0x01, 0xff])] : []))),
    // keyUsage: CA → digitalSignature, keyCertSign, cRLSign; serving → digitalSignature (ECDHE signs).
    extension('2.5.29.15', true, options.ca ? Buffer.from([0x03, 0x02, 0x01, 0x86]) : Buffer.from([0x03, 0x02, 0x07, 0x80])),
    extension('2.5.29.14', false, tlv(0x04, keyId)),
    extension('2.5.29.35', false, seq(tlv(0x80, issuerKeyId))),
  ];
  if (!options.ca) {
    extensions.push(extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))));
    const names = (options.hosts ?? []).map((host) => (isIP(host) ? tlv(0x87, ipBytes(host)) : tlv(0x82, Buffer.from(host, 'ascii'))));
    if (names.length > 0) extensions.push(extension('2.5.29.17', false, seq(...names)));
  }
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  const algorithm = seq(oid('1.2.840.10045.4.3.2')); // ecdsa-with-SHA256
  const tbs = seq(
    tlv(0xa0, derInteger(Buffer.from([2]))),
    derInteger(serial),
    algorithm,
    issuerName,
    seq(time(options.notBefore), time(options.notAfter)),
    subject,
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, signerKey);
  const der = seq(tbs, algorithm, bitString(signature));
  return { cert: pem('CERTIFICATE', der), key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

function seq(...parts: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(parts));
}

/**
 * A DER INTEGER of the unsigned big-endian `value`, in its one valid (minimal) encoding: leading
 * zero bytes dropped, one put back where the top bit would make it negative. A random serial
 * whose first byte happened to be 0 was once written as is, which OpenSSL refuses ("illegal
 * padding"): about one certificate in 256.
 *
 * @example
 * ```ts
 * derInteger(Buffer.from([0x00, 0x10])); // 02 01 10
 * derInteger(Buffer.from([0x80]));       // 02 02 00 80
 * ```
 */
export function derInteger(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const digits = value.subarray(start);
  return tlv(0x02, (digits[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), digits]) : digits);
}


function bitString(value: Buffer): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), value]));
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [a * 40 + b];
  for (const part of rest) {
    const chunk: number[] = [part & 0x7f];
    for (let v = part >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function name(commonName: string): Buffer {
  return seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  // RFC 5280: UTCTime through 2049, GeneralizedTime after.
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), tlv(0x04, value));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

/** The issuer's subject, re-encoded from the CN (the only attribute Operon's CAs have). */
function issuerNameDer(issuer: X509Certificate): Buffer {
  const cn = /CN=([^\n]*)/.exec(issuer.subject)?.[1] ?? '';
  return name(cn);
}

/** The key bits inside a DER SubjectPublicKeyInfo (RFC 5280 key identifier method 1). */
function subjectPublicKeyBits(spki: Buffer): Buffer {
  // SEQ { SEQ algorithm, BIT STRING key }: skip the outer header and the algorithm.
  const outerHeader = headerLength(spki, 0);
  const algStart = outerHeader;
  const algEnd = algStart + headerLength(spki, algStart) + contentLength(spki, algStart);
  const bitHeader = headerLength(spki, algEnd);
  return spki.subarray(algEnd + bitHeader + 1, algEnd + bitHeader + contentLength(spki, algEnd));
}

function headerLength(der: Buffer, at: number): number {
  const first = der[at + 1] as number;
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}

function contentLength(der: Buffer, at: number): number {
  const first = der[at + 1] as number;
  if (first < 0x80) return first;
  let n = 0;
  for (let i = 0; i < (first & 0x7f); i++) n = n * 256 + (der[at + 2 + i] as number);
  return n;
}
