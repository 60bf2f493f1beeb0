import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry, resource } from '../../../src/handlers/registry.ts';
import { rbacFor, webhookRbac } from '../../../src/runtime/rbac.ts';
import { builtin } from '../../../src/schema/resource.ts';

describe('webhookRbac', () => {
  it('grants nothing without admission handlers', () => {
    const registry = new Registry();
    resource(builtin('v1', 'Pod'), { registry }).onEvent(() => undefined);
    assert.deepEqual(webhookRbac(registry, { name: 'op', namespace: 'ops' }), { cluster: [], own: [] });
  });

  it('grants the named Secret and configurations, and create, and no watch on an admission-only resource', () => {
    const registry = new Registry();
    resource(builtin('v1', 'Pod'), { registry }).validate(() => undefined);
    const objects = rbacFor(registry, { name: 'op', namespace: 'ops', leaderElection: false });
    const rules = (kind: string, name: string): unknown =>
      (objects.find((o) => o.kind === kind && o.metadata?.name === name) as { rules?: unknown } | undefined)?.rules;
    assert.deepEqual(rules('Role', 'op-webhooks'), [
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'update'], resourceNames: ['op-webhook-tls'] },
    ]);
    assert.deepEqual(rules('ClusterRole', 'op'), [
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'], verbs: ['create'] },
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'], verbs: ['patch'], resourceNames: ['op'] },
    ]);
  });
});
