/**
 * The webhook server's CA and serving certificate, kept in one Secret so every replica serves the
 * same certificate and the configurations carry one CA bundle (kopf's self-signed mode, made
 * shareable; controller-runtime leaves this to cert-manager).
 *
 * The decision is pure ({@link planCertificates}: Secret data and the clock in, what to issue out);
 * {@link CertificateStore} reads and writes the Secret.
 *
 * Guarantees:
 * - A serving certificate is replaced when less than `renewFraction` of its lifetime is left, when
 *   it does not name every required host, or when the CA did not sign it; the CA likewise by its
 *   own lifetime. The CA bundle (`ca.crt`) keeps the previous CA while it is valid, so a replica
 *   still serving a certificate of the old CA is trusted until it picks up the new one.
 * - Writes are compare-and-swap (create, or replace with the read resourceVersion): when two
 *   replicas rotate at once, one wins and the other adopts its result on the next read.
 */
import { X509Certificate } from 'node:crypto';
import type { KubeClient } from '../client/client.ts';
import { isApiError } from '../client/errors.ts';
import type { KubeObject, ResourceRef } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { issueCertificate, type CertificatePair } from './x509.ts';

/** What the webhook server serves and what the configurations trust. */
export interface ServingMaterial {
  serving: CertificatePair;
  /** PEM of every CA a replica's certificate may be signed by (current first). */
  caBundle: string;
}

/** Lifetimes and renewal of managed certificates. */
export interface CertificatePolicy {
  /** DNS names and IPs the serving certificate must name. */
  hosts: readonly string[];
  /** Default: {@link defaults}.webhooks.caLifetimeMs. */
  caLifetimeMs?: number;
  /** Default: {@link defaults}.webhooks.servingLifetimeMs. */
  servingLifetimeMs?: number;
  /** Default: {@link defaults}.webhooks.renewFraction. */
  renewFraction?: number;
}

/** The Secret's data, decoded: `tls.crt`, `tls.key`, `ca.crt` (bundle), `ca.key`. */
export type CertificateData = Partial<Record<'tls.crt' | 'tls.key' | 'ca.crt' | 'ca.key', string>>;

/**
 * New Secret data when something must be issued, else `undefined`.
 *
 * @example
 * ```ts
 * planCertificates({}, new Date(), { hosts: ['127.0.0.1'] }); // a fresh CA and serving certificate
 * ```
 */
export function planCertificates(data: CertificateData, now: Date, policy: CertificatePolicy): CertificateData | undefined {
  const caLifetime = policy.caLifetimeMs ?? defaults.webhooks.caLifetimeMs;
  const servingLifetime = policy.servingLifetimeMs ?? defaults.webhooks.servingLifetimeMs;
  const fraction = policy.renewFraction ?? defaults.webhooks.renewFraction;
  const ca = parse(data['ca.crt'], data['ca.key']);
  const caCurrent = ca && fresh(ca.cert, now, fraction) ? ca : undefined;
  const nextCa: CertificatePair = caCurrent ? { cert: caCurrent.pem, key: caCurrent.key } : issueCertificate({ commonName: 'operon-webhook-ca', ca: true, notBefore: backdated(now), notAfter: new Date(now.getTime() + caLifetime) });
  const serving = parse(data['tls.crt'], data['tls.key']);
  const caCert = new X509Certificate(nextCa.cert);
  const servingOk =
    caCurrent !== undefined &&
    serving !== undefined &&
    fresh(serving.cert, now, fraction) &&
    serving.cert.checkIssued(caCert) &&
    serving.cert.verify(caCert.publicKey) &&
    policy.hosts.every((host) => names(serving.cert, host));
  if (servingOk) return undefined;
  const issued = issueCertificate({
    commonName: 'operon-webhook',
    hosts: policy.hosts,
    issuer: nextCa,
    notBefore: backdated(now),
    notAfter: new Date(now.getTime() + servingLifetime),
  });
  // The previous CA stays trusted while it is valid: other replicas may still serve its certificates.
  const previous = ca && !caCurrent && new Date(ca.cert.validTo) > now ? [ca.pem] : [];
  const bundle = caCurrent ? (data['ca.crt'] ?? nextCa.cert) : [nextCa.cert, ...previous].join('');
  return { 'tls.crt': issued.cert, 'tls.key': issued.key, 'ca.crt': bundle, 'ca.key': nextCa.key };
}

function backdated(now: Date): Date {
  // Replicas with a slightly slow clock must accept a certificate issued a moment ago.
  return new Date(now.getTime() - 60_000);
}

function parse(cert: string | undefined, key: string | undefined): { cert: X509Certificate; pem: string; key: string } | undefined {
  if (!cert || !key) return undefined;
  try {
    // The first certificate of a bundle is the current one.
    const first = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/.exec(cert)?.[0] ?? cert;
    return { cert: new X509Certificate(first), pem: first, key };
  } catch {
    return undefined;
  }
}

function fresh(cert: X509Certificate, now: Date, fraction: number): boolean {
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  return now.getTime() >= from && to - now.getTime() > (to - from) * fraction;
}

function names(cert: X509Certificate, host: string): boolean {
  return /^[\d.]+$|:/.test(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
}

const secrets: ResourceRef = { group: '', version: 'v1', plural: 'secrets', namespaced: true };

/**
 * Reads and rotates the certificate Secret.
 *
 * @example
 * ```ts
 * const store = new CertificateStore(client, { namespace: 'ops', name: 'crypto-webhook-tls' }, { hosts: ['crypto-webhooks.ops.svc'] });
 * const { serving, caBundle } = await store.ensure(new Date());
 * ```
 */
export class CertificateStore {
  readonly #client: KubeClient;
  readonly #namespace: string;
  readonly #name: string;
  readonly #policy: CertificatePolicy;

  constructor(client: KubeClient, secret: { namespace: string; name: string }, policy: CertificatePolicy) {
    this.#client = client;
    this.#namespace = secret.namespace;
    this.#name = secret.name;
    this.#policy = policy;
  }

  /**
   * The current material, issuing and storing new certificates first when {@link planCertificates} says so.
   *
   * @example
   * ```ts
   * const { serving, caBundle } = await store.ensure(new Date());
   * ```
   */
  async ensure(now: Date): Promise<ServingMaterial> {
    for (let attempt = 0; ; attempt++) {
      const stored = await this.#read();
      const data = stored ? decode(stored) : {};
      const next = planCertificates(data, now, this.#policy);
      const chosen = next ?? data;
      if (!next) return material(chosen);
      try {
        const body = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: this.#name, namespace: this.#namespace, labels: { 'app.kubernetes.io/managed-by': 'operon' }, ...(stored ? { resourceVersion: stored.metadata?.resourceVersion } : {}) }, data: encode(next) };
        if (stored) await this.#client.replace(secrets, body as KubeObject);
        else await this.#client.create(secrets, body as KubeObject);
        return material(next);
      } catch (error) {
        // Another replica wrote first: adopt what it stored.
        if (attempt < 3 && (isApiError(error, 'Conflict') || isApiError(error, 'AlreadyExists'))) continue;
        throw error;
      }
    }
  }

  async #read(): Promise<KubeObject | undefined> {
    try {
      return await this.#client.get(secrets, this.#name, { namespace: this.#namespace });
    } catch (error) {
      if (isApiError(error, 'NotFound')) return undefined;
      throw error;
    }
  }
}

function material(data: CertificateData): ServingMaterial {
  return { serving: { cert: data['tls.crt'] ?? '', key: data['tls.key'] ?? '' }, caBundle: data['ca.crt'] ?? '' };
}

function decode(secret: KubeObject): CertificateData {
  const data = (secret as { data?: Record<string, string> }).data ?? {};
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) as CertificateData;
}

function encode(data: CertificateData): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v ?? '').toString('base64')]));
}
