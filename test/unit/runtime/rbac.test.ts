import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../src/client/types.ts';
import { builtin, Registry, resource, Type } from '../../../src/index.ts';
import { mergeRules, rbacFor, registryRules, type RbacRule } from '../../../src/manifests/rbac.ts';
import { addShardAssignment } from '../../../src/runtime/shard-assignment.ts';

function printerRegistry(): Registry {
  const registry = new Registry();
  const printers = resource(
    { group: 'demo.operon.dev', version: 'v1', kind: 'Printer', spec: Type.Object({ text: Type.String() }), status: Type.Object({ pod: Type.Optional(Type.String()) }) },
    { registry },
  );
  printers.onCreate(async () => {});
  printers.owns(builtin('v1', 'Pod'));
  return registry;
}

function mutating(): Registry {
  const registry = printerRegistry();
  resource(builtin('v1', 'Pod'), { registry }).mutate(() => {}, { id: 'any' });
  return registry;
}

type Role = KubeObject & { rules: RbacRule[] };
const rulesOf = (objects: KubeObject[], kind: string, namespace?: string, name?: string): RbacRule[] =>
  (objects.find((o) => o.kind === kind && o.metadata?.namespace === namespace && (name === undefined || o.metadata?.name === name)) as Role | undefined)?.rules ?? [];

describe('RBAC derived from a registry', () => {
  it('grants a handled resource get/list/watch/patch, status patch, and finalizers update when it owns something', () => {
    const rules = registryRules(printerRegistry()).map((s) => s.rule);
    assert.deepEqual(rules, [
      { apiGroups: ['demo.operon.dev'], resources: ['printers'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: ['demo.operon.dev'], resources: ['printers/status'], verbs: ['patch'] },
      { apiGroups: ['demo.operon.dev'], resources: ['printers/finalizers'], verbs: ['update'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
    ]);
  });

  it('with sharding adds list and delete on Leases in the Lease Role, and changes nothing else', () => {
    const plain = rbacFor(printerRegistry(), { name: 'printer', namespace: 'ops' });
    const sharded = rbacFor(printerRegistry(), { name: 'printer', namespace: 'ops', sharding: true });
    assert.deepEqual(rulesOf(sharded, 'Role', 'ops', 'printer-leader-election'), [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'create', 'update', 'delete'] }]);
    const others = (objects: KubeObject[]) => objects.filter((o) => o.metadata?.name !== 'printer-leader-election');
    assert.deepEqual(others(sharded), others(plain));
    // The labels are patched: patch on the handled and the owned resource is already granted.
    const cluster = rulesOf(sharded, 'ClusterRole');
    assert.ok(cluster.some((r) => r.resources.includes('printers') && r.verbs.includes('patch')));
    assert.ok(cluster.some((r) => r.resources.includes('pods') && r.verbs.includes('patch')));
  });

  it("with sharding's assignment webhook grants exactly what any mutate handler's webhook needs", () => {
    const registry = printerRegistry();
    addShardAssignment(registry, 'printers', () => undefined);
    const objects = rbacFor(registry, { name: 'printer', namespace: 'ops', sharding: true });
    const cluster = rulesOf(objects, 'ClusterRole');
    assert.ok(cluster.some((r) => r.resources.includes('mutatingwebhookconfigurations') && r.verbs.includes('create')));
    assert.ok(cluster.some((r) => r.resources.includes('mutatingwebhookconfigurations') && r.verbs.includes('patch') && r.resourceNames?.includes('printer')));
    assert.deepEqual(rulesOf(objects, 'Role', 'ops', 'printer-webhooks'), rulesOf(rbacFor(mutating(), { name: 'printer', namespace: 'ops' }), 'Role', 'ops', 'printer-webhooks'));
  });

  it('asks no status permission of a resource without status and no finalizers permission without owned resources', () => {
    const registry = new Registry();
    resource({ group: 'x.operon.dev', version: 'v1', kind: 'Plain', spec: Type.Object({}) }, { registry }).onCreate(async () => {});
    assert.deepEqual(
      registryRules(registry).map((s) => s.rule),
      [{ apiGroups: ['x.operon.dev'], resources: ['plains'], verbs: ['get', 'list', 'watch', 'patch'] }],
    );
  });

  it('unites the verbs of a resource that is both handled and owned', () => {
    const registry = new Registry();
    const a = resource({ group: 'x.operon.dev', version: 'v1', kind: 'Parent', spec: Type.Object({}) }, { registry });
    const b = resource({ group: 'x.operon.dev', version: 'v1', kind: 'Child', spec: Type.Object({}) }, { registry });
    a.onCreate(async () => {});
    b.onCreate(async () => {});
    a.owns(b);
    const child = registryRules(registry).find((s) => s.rule.resources[0] === b.plural);
    assert.deepEqual(child?.rule.verbs, ['get', 'list', 'watch', 'create', 'patch']);
  });

  it('grants a related resource (watches) only get/list/watch: the mapping reads it, never writes it', () => {
    const registry = new Registry();
    const apps = resource({ group: 'x.operon.dev', version: 'v1', kind: 'App', spec: Type.Object({ secretName: Type.String() }) }, { registry });
    apps.reconcile(async () => {});
    apps.watches(builtin('v1', 'Secret'), () => []);
    assert.deepEqual(
      registryRules(registry).map((s) => s.rule),
      [
        { apiGroups: ['x.operon.dev'], resources: ['apps'], verbs: ['get', 'list', 'watch', 'patch'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
      ],
    );
  });

  it('with a namespace selector, adds list/watch on namespaces and refuses watch namespaces', () => {
    const objects = rbacFor(printerRegistry(), { name: 'printer', namespace: 'ops', namespaceSelector: true });
    assert.ok(rulesOf(objects, 'ClusterRole').some((r) => r.resources.includes('namespaces') && r.verbs.join() === 'get,list,watch'));
    assert.throws(() => rbacFor(printerRegistry(), { name: 'p', namespace: 'ops', namespaceSelector: true, watchNamespaces: ['a'] }), /either a namespace selector or watch namespaces/);
  });

  it('makes a ClusterRole with Events, a binding to the ServiceAccount, and a Lease Role in the operator namespace', () => {
    const objects = rbacFor(printerRegistry(), { name: 'printer', namespace: 'ops' });
    assert.deepEqual(
      objects.map((o) => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`),
      ['ServiceAccount ops/printer', 'ClusterRole /printer', 'ClusterRoleBinding /printer', 'Role ops/printer-leader-election', 'RoleBinding ops/printer-leader-election'],
    );
    assert.deepEqual(rulesOf(objects, 'ClusterRole'), [
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
      { apiGroups: ['demo.operon.dev'], resources: ['printers'], verbs: ['get', 'list', 'watch', 'patch'] },
      { apiGroups: ['demo.operon.dev'], resources: ['printers/finalizers'], verbs: ['update'] },
      { apiGroups: ['demo.operon.dev'], resources: ['printers/status'], verbs: ['patch'] },
    ]);
    assert.deepEqual(rulesOf(objects, 'Role', 'ops'), [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }]);
    const binding = objects.find((o) => o.kind === 'ClusterRoleBinding') as KubeObject & { subjects: unknown[]; roleRef: unknown };
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'printer', namespace: 'ops' }]);
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'printer' });
    assert.ok(!JSON.stringify(objects).includes('customresourcedefinitions'), 'no CRD permission: the preflight uses discovery');
  });

  it('with watch namespaces makes one Role per namespace, sorted, and no ClusterRole for namespaced resources', () => {
    const objects = rbacFor(printerRegistry(), { name: 'printer', namespace: 'ops', watchNamespaces: ['team-b', 'team-a', 'team-b'] });
    assert.deepEqual(
      objects.map((o) => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`),
      [
        'ServiceAccount ops/printer',
        'Role team-a/printer',
        'RoleBinding team-a/printer',
        'Role team-b/printer',
        'RoleBinding team-b/printer',
        'Role ops/printer-leader-election',
        'RoleBinding ops/printer-leader-election',
      ],
    );
    assert.deepEqual(rulesOf(objects, 'Role', 'team-a'), rulesOf(rbacFor(printerRegistry(), { name: 'printer', namespace: 'ops' }), 'ClusterRole'));
  });

  it('keeps cluster-scoped resources in a ClusterRole with watch namespaces, and grants their Events in default', () => {
    const registry = new Registry();
    resource({ group: 'x.operon.dev', version: 'v1', kind: 'Zone', scope: 'Cluster', spec: Type.Object({}) }, { registry }).onCreate(async () => {});
    const objects = rbacFor(registry, { name: 'zones', namespace: 'ops', watchNamespaces: ['a'], leaderElection: false });
    assert.deepEqual(rulesOf(objects, 'ClusterRole'), [{ apiGroups: ['x.operon.dev'], resources: ['zones'], verbs: ['get', 'list', 'watch', 'patch'] }]);
    assert.deepEqual(rulesOf(objects, 'Role', 'default'), [{ apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] }]);
    assert.ok(!objects.some((o) => o.metadata?.name === 'zones-leader-election'));
  });

  it('adds extra rules as given, merged and scoped', () => {
    const objects = rbacFor(printerRegistry(), {
      name: 'printer',
      namespace: 'ops',
      watchNamespaces: ['a'],
      extraRules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['delete'] },
        { apiGroups: [''], resources: ['nodes'], verbs: ['get'], scope: 'cluster' },
      ],
    });
    assert.deepEqual(rulesOf(objects, 'ClusterRole'), [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }]);
    assert.deepEqual(
      rulesOf(objects, 'Role', 'a').find((r) => r.resources.includes('pods')),
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
    );
  });

  it('merges rules deterministically: same group and verbs share a rule, resource names stay apart', () => {
    const merged = mergeRules([
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list', 'get'] },
      { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['b', 'a'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['list'] },
    ]);
    assert.deepEqual(merged, [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['a', 'b'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['list'] },
      { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: ['get', 'list'] },
    ]);
  });
});
