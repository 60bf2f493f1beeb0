/**
 * The Printer's validating webhook on a real API server: a text the Pod could not carry (a NUL,
 * or longer than a Printer carries) is refused at `kubectl apply` with the reason, and a good
 * text is admitted.
 *
 * The shipped Printer CRD states the same rules in its schema, which the API server checks before
 * any webhook, so there the schema answers first. The webhook is for clusters still serving a CRD
 * without those rules: this file installs such a CRD (its own group, so the Printer tests on the
 * same plane are not affected) and registers the operator's own check, `textRefusal` (what `checkText` runs), on it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { textRefusal } from '../../operators/printer/admission.ts';
import { TEXT_MAX_LENGTH } from '../../operators/printer/resource.ts';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { Registry, resource, Type } from '../../src/index.ts';
import { startOperator } from '../../src/testing/index.ts';
import { useCluster } from '../support/cluster.ts';
import { freePort } from '../support/processes.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('printer-admission');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
// The Printer as an older CRD declared it: a text, and no rules about it in the schema.
const printers = resource({ group: 'admission.printer.test.operon.dev', version: 'v1', kind: 'Printer', spec: Type.Object({ text: Type.String() }) }, { registry });
await installCrd(client, printers);
// The same handler the operator registers; the older declaration differs only in its group and schema rules.
printers.validate(({ object }) => textRefusal(object?.spec?.text), { id: 'text', namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } });

const configName = `printer-admission-${ns}`;
after(async () => {
  await cluster.kubectlResult(['delete', 'validatingwebhookconfiguration', configName, '--ignore-not-found']);
});
const port = await freePort();
const run = startOperator(registry, {
  client,
  namespaces: [ns],
  webhooks: { clientConfig: { url: `https://127.0.0.1:${port}` }, host: '127.0.0.1', port, name: configName, certificates: { secret: { namespace: ns, name: 'printer-webhook-tls' } } },
});
after(() => run.stop());
await run.ready;

const printer = (name: string, text: string): string => JSON.stringify({ apiVersion: printers.apiVersion, kind: 'Printer', metadata: { name, namespace: ns }, spec: { text } });

describe('the Printer text webhook', () => {
  it('refuses a NUL at kubectl apply, naming where it is and why', async () => {
    const refused = await cluster.kubectlResult(['apply', '-f', '-'], { input: printer('nul', 'hello\u0000world') });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /admission webhook "text\.printers\.admission\.printer\.test\.operon\.dev" denied the request: spec\.text has a NUL character at position 6/);
  });

  it('refuses a text longer than a Printer carries, naming the limit', async () => {
    const refused = await cluster.kubectlResult(['apply', '-f', '-'], { input: printer('long', 'x'.repeat(TEXT_MAX_LENGTH + 1)) });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, new RegExp(`spec\\.text is ${TEXT_MAX_LENGTH + 1} characters long; a Printer carries at most ${TEXT_MAX_LENGTH}`));
  });

  it('admits a text the Pod can carry', async () => {
    const admitted = await cluster.kubectlResult(['apply', '-f', '-'], { input: printer('fine', 'hello, world') });
    assert.equal(admitted.code, 0, admitted.stderr);
  });
});
