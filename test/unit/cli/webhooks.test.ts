import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { parseCommand } from '../../../src/cli/args.ts';

/** What `operon webhooks <argv>` prints, through the command line's own parsing. */
async function webhooksCommand(argv: string[]): Promise<string> {
  const cmd = parseCommand(['webhooks', ...argv], { isTty: false, production: false });
  if (cmd.command !== 'invoke') throw new Error(cmd.command === 'usage' ? cmd.message : cmd.command);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    await cmd.run();
  } finally {
    process.stdout.write = write;
  }
  return out;
}

const index = pathToFileURL(fileURLToPath(new URL('../../../src/index.ts', import.meta.url))).href;
const dir = mkdtempSync(join(tmpdir(), 'operon-webhooks-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'gadgets.ts');
writeFileSync(
  file,
  `import { resource, Type, Operator, Registry } from ${JSON.stringify(index)};
const registry = new Registry();
resource({ group: 'cli.operon.dev', version: 'v1', kind: 'Gadget', spec: Type.Object({}) }, { registry }).validate(() => undefined, { id: 'check' });
export const operator = new Operator({ registry });`,
);

describe('operon webhooks', () => {
  it('prints a Service and the configuration pointing at it', async () => {
    const docs = YAML.parseAllDocuments(await webhooksCommand([file, '--name', 'gadgets', '--namespace', 'ops'])).map((d) => d.toJS() as { kind: string; webhooks?: Array<{ clientConfig: unknown }> });
    assert.deepEqual(docs.map((d) => d.kind), ['Service', 'ValidatingWebhookConfiguration']);
    assert.deepEqual(docs[1]?.webhooks?.[0]?.clientConfig, { service: { namespace: 'ops', name: 'gadgets-webhooks', port: 443, path: '/validate/cli.operon.dev/v1/gadgets/check' } });
  });

  it('with --cert-manager adds an Issuer, a Certificate for the Service names, and the CA injection annotation', async () => {
    const docs = YAML.parseAllDocuments(await webhooksCommand([file, '--name', 'gadgets', '--namespace', 'ops', '--cert-manager'])).map((d) => d.toJS() as { kind: string; metadata: { annotations?: Record<string, string> }; spec?: { dnsNames?: string[]; secretName?: string } });
    assert.deepEqual(docs.map((d) => d.kind), ['Service', 'Issuer', 'Certificate', 'ValidatingWebhookConfiguration']);
    assert.deepEqual(docs[2]?.spec?.dnsNames, ['gadgets-webhooks.ops.svc', 'gadgets-webhooks.ops.svc.cluster.local']);
    assert.equal(docs[2]?.spec?.secretName, 'gadgets-webhook-tls');
    assert.deepEqual(docs[3]?.metadata.annotations, { 'cert-manager.io/inject-ca-from': 'ops/gadgets-webhooks' });
  });

  it('refuses missing arguments with the usage', async () => {
    await assert.rejects(webhooksCommand([file]), /give the operator files, --name and --namespace/);
  });
});

describe('webhooksFromEnv', () => {
  it('reads nothing when unset', async () => {
    const { webhooksFromEnv } = await import('../../../src/cli/webhook-env.ts');
    assert.equal(webhooksFromEnv({}), undefined);
  });
  it('serves a loopback URL on its host and port', async () => {
    const { webhooksFromEnv } = await import('../../../src/cli/webhook-env.ts');
    assert.deepEqual(webhooksFromEnv({ OPERON_WEBHOOK_URL: 'https://127.0.0.1:9444' }), { clientConfig: { url: 'https://127.0.0.1:9444' }, port: 9444, host: '127.0.0.1' });
  });
  it('points at a Service, with cert-manager certificates from a directory', async () => {
    const { webhooksFromEnv } = await import('../../../src/cli/webhook-env.ts');
    assert.deepEqual(webhooksFromEnv({ OPERON_WEBHOOK_SERVICE: 'ops/crypto-webhooks', OPERON_WEBHOOK_CERT_DIR: '/certs' }), {
      clientConfig: { service: { namespace: 'ops', name: 'crypto-webhooks' } },
      certificates: { directory: '/certs' },
    });
  });
  it('names the configurations and the Secret as operon rbac --name granted', async () => {
    const { webhooksFromEnv } = await import('../../../src/cli/webhook-env.ts');
    assert.deepEqual(webhooksFromEnv({ OPERON_WEBHOOK_SERVICE: 'ops/crypto-webhooks', OPERON_WEBHOOK_NAME: 'crypto-operator' }), {
      clientConfig: { service: { namespace: 'ops', name: 'crypto-webhooks' } },
      name: 'crypto-operator',
    });
    assert.throws(() => webhooksFromEnv({ OPERON_WEBHOOK_SERVICE: 'ops/x', OPERON_WEBHOOK_NAME: 'Crypto_Op' }), /OPERON_WEBHOOK_NAME=Crypto_Op is not a Kubernetes object name/);
  });
  it('leaves the CRDs alone with OPERON_WEBHOOK_PATCH_CRDS=false', async () => {
    const { webhooksFromEnv } = await import('../../../src/cli/webhook-env.ts');
    assert.equal(webhooksFromEnv({ OPERON_WEBHOOK_URL: 'https://127.0.0.1:9443', OPERON_WEBHOOK_PATCH_CRDS: 'false' })?.patchCrds, false);
    assert.equal(webhooksFromEnv({ OPERON_WEBHOOK_URL: 'https://127.0.0.1:9443' })?.patchCrds, undefined);
    assert.throws(() => webhooksFromEnv({ OPERON_WEBHOOK_URL: 'https://127.0.0.1:9443', OPERON_WEBHOOK_PATCH_CRDS: 'no' }), /OPERON_WEBHOOK_PATCH_CRDS=no is not true or false/);
  });
  it('refuses a malformed value with the fix', async () => {
    const { webhooksFromEnv } = await import('../../../src/cli/webhook-env.ts');
    assert.throws(() => webhooksFromEnv({ OPERON_WEBHOOK_SERVICE: 'crypto' }), /is not <namespace>\/<name>; use e.g. ops\/crypto-webhooks/);
    assert.throws(() => webhooksFromEnv({ OPERON_WEBHOOK_URL: 'http://x' }), /is not an https base URL/);
  });
});
