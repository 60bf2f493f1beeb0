/**
 * Admission webhook faults on the CVC operator's supply webhook (`operon run` with
 * `OPERON_WEBHOOK_URL`, so the operator issues its certificates into a Secret and registers the
 * ValidatingWebhookConfiguration itself, failurePolicy `Fail`):
 *
 * - `webhook-kill`: the webhook server SIGKILLed again and again while creates arrive (some of
 *   them whales beyond a coin's supply). No whale may slip in while it is down, every refusal
 *   while down names the webhook, and every good CVC is stored (after the client's retry) and valued.
 * - `webhook-cert-expired`: the Secret's serving certificate replaced by an expired one, then the
 *   CA too, each followed by a restart (an operator coming back after a long outage): the new
 *   process must replace what expired, re-inject the CA bundle, and admit again.
 *
 * The configuration is cluster-wide, so each scenario deletes it (and the Secret) when it ends.
 */
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:net';
import { connect } from 'node:tls';
import { cvcName, cvcSpec, CvcTracker, GROUP_PATH } from '../../bench/harness/cvcs.ts';
import { pricesOf } from '../../bench/harness/cluster.ts';
import { SAMPLE_PRICES } from '../../operators/crypto/price/server.ts';
import { issueCertificate } from '../../src/server/x509.ts';
import type { SupervisedOperator } from './operator.ts';
import { seconds, sleep, type Ctx, type Scenario } from './scenario.ts';
import { check, inSession, type Session } from './session.ts';

const KIND = 'cryptovaluecalculators';
const WEBHOOK = 'supply.cryptovaluecalculators.crypto.tools';
const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';

/** What the API server answered a create. */
type Answer = 'admitted' | 'denied' | 'outage' | 'other';

function classify(status: number, message: string): Answer {
  if (status === 201 || status === 409) return 'admitted';
  if (message.includes(`admission webhook "${WEBHOOK}" denied the request`)) return 'denied';
  if (message.includes(`failed calling webhook "${WEBHOOK}"`)) return 'outage';
  return 'other';
}

/** The message of a Status answer (or the text itself). */
function messageOf(text: string): string {
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    return text;
  }
}

interface WebhookRun {
  operator: SupervisedOperator;
  tracker: CvcTracker;
  port: number;
  collection: string;
  /** Sends one create and classifies the answer. */
  create(body: unknown): Promise<{ answer: Answer; text: string }>;
  /** Resolves with the seconds until the webhook denies a whale again (null after the timeout). */
  serving(from: number): Promise<number | null>;
  /** Probe whales admitted after the webhook first served (each deleted at once): must stay empty. */
  probeSlips: string[];
}

function whale(name: string): unknown {
  return { apiVersion: 'crypto.tools/v1', kind: 'CryptoValueCalculator', metadata: { name }, spec: { coin: 'bitcoin', amount: 30_000_000 } };
}

function good(i: number): unknown {
  return { apiVersion: 'crypto.tools/v1', kind: 'CryptoValueCalculator', metadata: { name: cvcName(i) }, spec: cvcSpec(i) };
}

/** A port free on loopback now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The CVC operator with its webhook on a free loopback port, serving; clean-ups registered. */
async function webhookRun(s: Session): Promise<WebhookRun> {
  const { ctx } = s;
  const port = await freePort();
  const prices = pricesOf(ctx.prices, new Map(), { ...SAMPLE_PRICES });
  const tracker = new CvcTracker(ctx.api, s.namespace, prices);
  await tracker.start();
  s.defer(() => tracker.stop());
  const url = `https://127.0.0.1:${port}`;
  s.defer(() => deleteWebhookObjects(ctx, port));
  const { operator } = await s.operator('operators/crypto/operator.ts', {
    env: { COINGECKO_BASE_URL: ctx.prices.baseUrl, CVC_REFRESH_SECONDS: String(ctx.sizes.refreshSeconds), OPERON_WEBHOOK_URL: url },
  });
  const collection = `${GROUP_PATH}/namespaces/${s.namespace}/${KIND}`;
  const create = async (body: unknown): Promise<{ answer: Answer; text: string }> => {
    const res = await ctx.api.request('POST', collection, body);
    const message = res.status === 201 ? '' : messageOf(res.text);
    return { answer: classify(res.status, message), text: message.slice(0, 400) };
  };
  let probes = 0;
  let started = false;
  const probeSlips: string[] = [];
  const serving = async (from: number): Promise<number | null> => {
    while (performance.now() - from < ctx.sizes.convergeTimeoutMs) {
      const name = `probe-${probes++}`;
      const { answer } = await create(whale(name));
      if (answer === 'denied') return seconds(performance.now() - from);
      if (answer === 'admitted') {
        // Before the first start registered the webhook, nothing refuses a whale; after it, nothing may let one in.
        if (started) probeSlips.push(name);
        await ctx.api.request('DELETE', `${collection}/${name}`);
      }
      await sleep(250);
    }
    return null;
  };
  if ((await serving(performance.now())) === null) throw new Error(`the webhook never denied a whale; see ${operator.options.logFile}`);
  started = true;
  // The probes admitted before it served are gone before anything is counted.
  for (let i = 0; tracker.size > 0; i++) {
    if (i > 150) throw new Error('probe whales admitted before the webhook served were not deleted');
    await sleep(200);
  }
  return { operator, tracker, port, collection, create, serving, probeSlips };
}

/** The configurations pointing at `port`, and the certificate Secrets `operon run` made in `default`. */
async function deleteWebhookObjects(ctx: Ctx, port: number): Promise<void> {
  const configs = await ctx.api.json<{ items: Array<{ metadata: { name: string }; webhooks?: Array<{ clientConfig?: { url?: string } }> }> }>('GET', VWC);
  for (const c of configs.items) {
    if (c.webhooks?.some((w) => w.clientConfig?.url?.includes(`:${port}/`))) await ctx.api.request('DELETE', `${VWC}/${c.metadata.name}`);
  }
  const secret = await certificateSecret(ctx);
  if (secret) await ctx.api.request('DELETE', `/api/v1/namespaces/default/secrets/${secret.metadata.name}`);
}

interface SecretObject {
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string> };
  data: Record<string, string>;
}

async function certificateSecret(ctx: Ctx): Promise<SecretObject | undefined> {
  const list = await ctx.api.json<{ items: SecretObject[] }>('GET', '/api/v1/namespaces/default/secrets');
  return list.items.find((x) => x.metadata.name.endsWith('-webhook-tls') && x.metadata.labels?.['app.kubernetes.io/managed-by'] === 'operon');
}

const decode = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('utf8');
const encode = (text: string): string => Buffer.from(text).toString('base64');

/** The certificate the server at `port` presents. */
function servedCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(new X509Certificate(raw));
    });
    socket.once('error', reject);
  });
}

const webhookKill: Scenario = {
  name: 'webhook-kill',
  title: 'the webhook server SIGKILLed again and again while creates (some beyond the supply) arrive',
  run: (ctx) =>
    inSession(ctx, 'webhook-kill', webhookKill.title, async (s) => {
      const n = ctx.sizes.cvcs;
      const kills = ctx.sizes.webhookKills;
      const run = await webhookRun(s);
      const rssBeforeMiB = run.operator.rssMiB();
      const whales = Math.ceil(n / 10);
      const items = [...Array.from({ length: n }, (_, i) => ({ name: cvcName(i), body: good(i), whale: false })), ...Array.from({ length: whales }, (_, i) => ({ name: `whale-${i}`, body: whale(`whale-${i}`), whale: true }))];
      // Whales spread among the good ones, by a fixed stride.
      items.sort((a, b) => ((Number(/\d+$/.exec(a.name)?.[0]) * 7919 + (a.whale ? 3 : 0)) % 997) - ((Number(/\d+$/.exec(b.name)?.[0]) * 7919 + (b.whale ? 3 : 0)) % 997));
      const counts: Record<Answer, number> = { admitted: 0, denied: 0, outage: 0, other: 0 };
      const outageTexts = new Set<string>();
      const otherTexts: string[] = [];
      const whalesAdmitted: string[] = [];
      const spanMs = kills * 2_000 + 2_000;
      const t0 = performance.now();
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < items.length) {
          const i = next++;
          const item = items[i] as (typeof items)[number];
          // Paced so the creates span every kill.
          await sleep(t0 + (i * spanMs) / items.length - performance.now());
          for (;;) {
            const { answer, text } = await run.create(item.body);
            counts[answer]++;
            if (answer === 'admitted' && item.whale) whalesAdmitted.push(item.name);
            if (answer === 'outage') outageTexts.add(/failed calling webhook "[^"]+"[^:]*/.exec(text)?.[0] ?? text);
            if (answer === 'other') otherTexts.push(text);
            if (answer === 'admitted' || answer === 'denied') break;
            await sleep(200);
          }
        }
      };
      const lanes = Promise.all(Array.from({ length: 8 }, () => lane()));
      const backAfter: number[] = [];
      for (let k = 0; k < kills; k++) {
        await sleep(1_500 + ((k * 997) % 1_000));
        const killedAt = performance.now();
        await run.operator.kill();
        const back = await run.serving(killedAt);
        if (back !== null) backAfter.push(back);
      }
      await lanes;
      const ended = performance.now();
      const valued = await run.tracker.allCorrect(n, ctx.sizes.convergeTimeoutMs);
      const convergeSeconds = valued ? seconds(performance.now() - ended) : null;
      const lost = n - run.tracker.correct;
      return {
        faults: [`${kills} SIGKILLs of the webhook server (the operator process) during ${n + whales} creates over ${seconds(spanMs)} s, ${whales} of them beyond bitcoin's supply; each restarted at once`],
        objects: n,
        convergeSeconds,
        lost,
        rssBeforeMiB,
        checks: [
          check('no whale admitted, even while the webhook was down (failurePolicy Fail)', whalesAdmitted.length === 0 && run.probeSlips.length === 0, [...whalesAdmitted, ...run.probeSlips]),
          check(`every whale denied with the supply message (${whales})`, counts.denied >= whales, counts),
          check('every refusal while down names the webhook', otherTexts.length === 0, otherTexts.slice(0, 3)),
          check('the webhook answered again after every kill', backAfter.length === kills, backAfter),
          check(`every good CVC stored and valued (${n})`, valued && lost === 0, run.tracker.wrong()),
        ],
        extra: { answers: counts, outageMessages: [...outageTexts].slice(0, 3), servingAgainSeconds: backAfter },
      };
    }),
};

const certExpired: Scenario = {
  name: 'webhook-cert-expired',
  title: 'the webhook certificate found expired at start (the serving one, then the CA too)',
  run: (ctx) =>
    inSession(ctx, 'webhook-cert-expired', certExpired.title, async (s) => {
      const run = await webhookRun(s);
      const rssBeforeMiB = run.operator.rssMiB();
      const day = 24 * 3_600_000;
      const past = { notBefore: new Date(Date.now() - 3 * day), notAfter: new Date(Date.now() - day) };
      const phases: Array<{ what: string; backSeconds: number | null; admitted: boolean; served: { validTo: string; expiredServed: boolean }; bundleOk: boolean }> = [];
      let index = 0;
      for (const what of ['serving certificate expired', 'CA and serving certificate expired'] as const) {
        const secret = await certificateSecret(ctx);
        if (!secret) throw new Error('no certificate Secret in default');
        const ca = what === 'serving certificate expired' ? { cert: decode(secret.data['ca.crt']).match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/)?.[0] ?? '', key: decode(secret.data['ca.key']) } : issueCertificate({ commonName: 'operon-webhook-ca', ca: true, ...past });
        const serving = issueCertificate({ commonName: 'operon-webhook', hosts: ['127.0.0.1'], issuer: ca, ...past });
        const data = { ...secret.data, 'tls.crt': encode(serving.cert), 'tls.key': encode(serving.key), ...(what === 'CA and serving certificate expired' ? { 'ca.crt': encode(ca.cert), 'ca.key': encode(ca.key) } : {}) };
        await ctx.api.json('PUT', `/api/v1/namespaces/default/secrets/${secret.metadata.name}`, { ...secret, data });
        const killedAt = performance.now();
        await run.operator.kill();
        const backSeconds = await run.serving(killedAt);
        let admitted = false;
        for (let tries = 0; tries < 20 && !admitted; tries++) {
          admitted = (await run.create(good(index))).answer === 'admitted';
          if (!admitted) await sleep(250);
        }
        index++;
        const cert = await servedCertificate(run.port);
        const stored = await certificateSecret(ctx);
        const configs = await ctx.api.json<{ items: Array<{ webhooks?: Array<{ clientConfig?: { url?: string; caBundle?: string } }> }> }>('GET', VWC);
        const bundle = configs.items.flatMap((c) => c.webhooks ?? []).find((w) => w.clientConfig?.url?.includes(`:${run.port}/`))?.clientConfig?.caBundle;
        phases.push({
          what,
          backSeconds,
          admitted,
          served: { validTo: cert.validTo, expiredServed: new Date(cert.validTo).getTime() < Date.now() },
          bundleOk: bundle !== undefined && stored !== undefined && decode(bundle) === decode(stored.data['ca.crt']) && (what === 'serving certificate expired' || !decode(bundle).includes(ca.cert.trim())),
        });
      }
      const valued = await run.tracker.allCorrect(index, ctx.sizes.convergeTimeoutMs);
      return {
        faults: phases.map((p) => `${p.what} in the Secret, then the operator SIGKILLed and restarted`),
        objects: index,
        convergeSeconds: phases.every((p) => p.backSeconds !== null) ? Math.max(...phases.map((p) => p.backSeconds as number)) : null,
        lost: index - run.tracker.correct,
        rssBeforeMiB,
        checks: [
          ...phases.flatMap((p) => [
            check(`${p.what}: the restarted server serves a valid certificate`, !p.served.expiredServed, p.served),
            check(`${p.what}: the webhook denies a whale again, and a good CVC is admitted`, p.backSeconds !== null && p.admitted, p),
            check(`${p.what}: the configuration's CA bundle is the Secret's${p.what.startsWith('CA') ? ', without the expired CA' : ''}`, p.bundleOk),
          ]),
          check('the CVCs admitted between the faults are valued', valued, run.tracker.wrong()),
          check('no whale admitted while the webhook restarted', run.probeSlips.length === 0, run.probeSlips),
        ],
        extra: { phases },
      };
    }),
};

export const WEBHOOK_SCENARIOS: readonly Scenario[] = [webhookKill, certExpired];
