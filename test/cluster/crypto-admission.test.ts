/**
 * The CVC's supply webhook on a real API server: an amount beyond the coin's supply is refused
 * at `kubectl apply` with a message naming the limit, and an object stored before the webhook
 * existed stays, and stays editable. The handler is the operator's own (`checkSupply`); an
 * operator serving one namespace answers for that namespace only.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { checkSupply } from '../../operators/crypto/supply.ts';
import { CryptoValueCalculator } from '../../operators/crypto/resource.ts';
import { Registry, resource } from '../../src/index.ts';
import { startOperator } from '../../src/testing/index.ts';
import { useCluster } from '../support/cluster.ts';
import { useCvcCrd } from '../support/cvc-crd.ts';
import { freePort } from '../support/processes.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('crypto-admission');
const elsewhere = await cluster.namespace('crypto-admission-other');
await useCvcCrd(cluster);
const configName = `crypto-admission-${ns}`;
after(async () => {
  await cluster.kubectlResult(['delete', 'validatingwebhookconfiguration', configName, '--ignore-not-found']);
});

const cvc = (name: string, coin: string, amount: number, labels: Record<string, string> = {}, namespace = ns): string =>
  JSON.stringify({ apiVersion: 'crypto.tools/v1', kind: 'CryptoValueCalculator', metadata: { name, namespace, labels }, spec: { coin, amount } });

describe('the CVC supply webhook', () => {
  it('refuses an amount beyond the supply at kubectl apply, naming the limit, and leaves stored objects editable', async () => {
    // Stored before the webhook existed: today's behaviour must not change for it.
    await cluster.kubectl(['apply', '-f', '-'], { input: cvc('legacy', 'bitcoin', 30_000_000) });

    const registry = new Registry();
    resource(CryptoValueCalculator, { registry }).validate(checkSupply, { id: 'supply' });
    const port = await freePort();
    const run = startOperator(registry, {
      kubeconfig: cluster.kubeconfig,
      namespaces: [ns],
      webhooks: { clientConfig: { url: `https://127.0.0.1:${port}` }, host: '127.0.0.1', port, name: configName, certificates: { secret: { namespace: ns, name: 'crypto-webhook-tls' } } },
    });
    after(() => run.stop());
    await run.ready;

    const refused = await cluster.kubectlResult(['apply', '-f', '-'], { input: cvc('whale', 'bitcoin', 30_000_000) });
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /admission webhook "supply\.cryptovaluecalculators\.crypto\.tools" denied the request: spec\.amount 30000000 is more than the supply of bitcoin \(21000000 coins can exist\)/,
    );

    // The operator serves `ns` only: its webhook does not answer for another namespace.
    const other = await cluster.kubectlResult(['apply', '-f', '-'], { input: cvc('whale', 'bitcoin', 30_000_000, {}, elsewhere) });
    assert.equal(other.code, 0, other.stderr);

    const fits = await cluster.kubectlResult(['apply', '-f', '-'], { input: cvc('holder', 'bitcoin', 21_000_000) });
    assert.equal(fits.code, 0, fits.stderr);

    const relabelled = await cluster.kubectlResult(['apply', '-f', '-'], { input: cvc('legacy', 'bitcoin', 30_000_000, { team: 'a' }) });
    assert.equal(relabelled.code, 0, relabelled.stderr);
    const raised = await cluster.kubectlResult(['apply', '-f', '-'], { input: cvc('legacy', 'bitcoin', 40_000_000, { team: 'a' }) });
    assert.match(raised.stderr, /more than the supply of bitcoin/);
  });
});
