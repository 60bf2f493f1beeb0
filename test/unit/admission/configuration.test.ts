import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { webhookConfigurations, webhookName, webhookPath } from '../../../src/admission/configuration.ts';
import { normalizeAdmission } from '../../../src/admission/options.ts';

const pods = { group: '', version: 'v1', plural: 'pods', namespaced: true };
const cvcs = { group: 'crypto.tools', version: 'v1', plural: 'cryptovaluecalculators', namespaced: true };
const supply = normalizeAdmission('validate', () => undefined, { id: 'supply', namespaceSelector: { matchLabels: { team: 'a' } }, matchConditions: [{ name: 'not-system', expression: "!request.userInfo.username.startsWith('system:')" }] });
const limits = normalizeAdmission('mutate', () => undefined, { id: 'Pod Limits', failurePolicy: 'Ignore', subresources: ['status'] });

describe('webhook configurations', () => {
  it('derives paths and DNS names from the resource and the id', () => {
    assert.equal(webhookPath(pods, limits), '/mutate/core/v1/pods/Pod%20Limits');
    assert.equal(webhookName(pods, limits), 'pod-limits.pods.core');
    assert.equal(webhookName(cvcs, supply), 'supply.cryptovaluecalculators.crypto.tools');
  });

  it('builds one configuration per kind with url client configs, rules and pushed-down filters', () => {
    const [validating, mutating] = webhookConfigurations([{ resource: cvcs, spec: supply }, { resource: pods, spec: limits }], { name: 'crypto', clientConfig: { url: 'https://127.0.0.1:9443/' }, caBundle: 'PEM' });
    assert.equal(validating?.kind, 'ValidatingWebhookConfiguration');
    assert.deepEqual((validating as unknown as { webhooks: unknown[] }).webhooks, [
      {
        name: 'supply.cryptovaluecalculators.crypto.tools',
        clientConfig: { url: 'https://127.0.0.1:9443/validate/crypto.tools/v1/cryptovaluecalculators/supply', caBundle: Buffer.from('PEM').toString('base64') },
        rules: [{ apiGroups: ['crypto.tools'], apiVersions: ['v1'], resources: ['cryptovaluecalculators'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }],
        failurePolicy: 'Fail',
        matchPolicy: 'Equivalent',
        sideEffects: 'None',
        timeoutSeconds: 10,
        admissionReviewVersions: ['v1'],
        namespaceSelector: { matchLabels: { team: 'a' } },
        matchConditions: [{ name: 'not-system', expression: "!request.userInfo.username.startsWith('system:')" }],
      },
    ]);
    const hook = (mutating as unknown as { webhooks: Array<Record<string, unknown>> }).webhooks[0];
    assert.deepEqual(hook?.['rules'], [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods', 'pods/status'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }]);
    assert.equal(hook?.['reinvocationPolicy'], 'Never');
    assert.equal(hook?.['failurePolicy'], 'Ignore');
  });

  it('points at a Service, without caBundle for a CA injector, with its annotations', () => {
    const [validating] = webhookConfigurations([{ resource: cvcs, spec: supply }], { name: 'crypto', clientConfig: { service: { namespace: 'ops', name: 'crypto-webhooks' } }, annotations: { 'cert-manager.io/inject-ca-from': 'ops/crypto-webhooks' } });
    assert.deepEqual(validating?.metadata?.annotations, { 'cert-manager.io/inject-ca-from': 'ops/crypto-webhooks' });
    const hook = (validating as unknown as { webhooks: Array<{ clientConfig: unknown }> }).webhooks[0];
    assert.deepEqual(hook?.clientConfig, { service: { namespace: 'ops', name: 'crypto-webhooks', port: 443, path: '/validate/crypto.tools/v1/cryptovaluecalculators/supply' } });
  });

  it('leaves out a kind with no handlers', () => {
    assert.deepEqual(webhookConfigurations([{ resource: pods, spec: limits }], { name: 'x', clientConfig: { url: 'https://h' } }).map((o) => o.kind), ['MutatingWebhookConfiguration']);
  });
});
