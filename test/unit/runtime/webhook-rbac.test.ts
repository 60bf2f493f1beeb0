import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry, resource } from '../../../src/handlers/registry.ts';
import { rbacFor, webhookRbac } from '../../../src/manifests/rbac.ts';
import { builtin, defineResource } from '../../../src/schema/resource.ts';
import { conversion, defineVersions } from '../../../src/schema/versions.ts';
import { serveConversion } from '../../../src/handlers/operator-handlers.ts';
import { Type } from '@sinclair/typebox';

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

  it('for a served conversion grants patch on that CRD alone, the Secret, and no webhook configurations', () => {
    const V1 = defineResource({ group: 'rbac.operon.test', version: 'v1', kind: 'Gadget', spec: Type.Object({ n: Type.Number() }) });
    const V2 = defineResource({ group: 'rbac.operon.test', version: 'v2', kind: 'Gadget', spec: Type.Object({ n: Type.String() }) });
    const registry = new Registry();
    serveConversion(defineVersions({ versions: [V1, V2], storage: 'v1', conversions: [conversion(V1, V2, { up: (o) => ({ ...o, spec: o.spec && { n: String(o.spec.n) } }), down: (o) => ({ ...o, spec: o.spec && { n: Number(o.spec.n) } }) })] }), { registry });
    const { cluster, own } = webhookRbac(registry, { name: 'op', namespace: 'ops' });
    assert.deepEqual(cluster, [{ apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['patch'], resourceNames: ['gadgets.rbac.operon.test'] }]);
    assert.deepEqual(own, [
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'update'], resourceNames: ['op-webhook-tls'] },
    ]);
  });
});
