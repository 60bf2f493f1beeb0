/**
 * The least-privilege RBAC an operator needs, derived from what it registers, as Kubernetes
 * objects (`operon rbac` prints them as YAML).
 *
 * What is granted, and why (nothing else):
 * - **Each handled resource:** `get`, `list`, `watch` (the watch and its cache), `patch` (progress,
 *   diff base and finalizer; every write of the runtime is a merge or JSON patch, never an
 *   update), and `patch` on `<plural>/status` when the resource has a status subresource (handler
 *   results and status changes). Finalizers need nothing more: they are patched on the object.
 * - **Each owned resource** (`owns(...)`): `get`, `list`, `watch` (changes wake the owner),
 *   `create` (owned objects are made by the owner's handlers: that is how the controller
 *   ownerReference gets there) and `patch` (keeping a child in shape: `applyOwned`'s server-side
 *   apply is a PATCH, and so is any merge patch of a child; without it a handler met a loop of
 *   403s, issue #13). Not `update` (Operon writes by patch) nor `delete` (the garbage collector
 *   removes owned children). The registry cannot see other writes a handler makes (delete, reads
 *   of unwatched kinds): declare them with the Operator's `rbac` option, or export `rbac` rules
 *   from an operator file; they are added as given.
 * - **Each related resource** (`watches(...)`): `get`, `list`, `watch` only: it is read, never
 *   written, by the mapping; a handler that writes it needs its own grant.
 * - **Owners of owned resources:** `update` on `<plural>/finalizers`. `adopt()` sets
 *   `blockOwnerDeletion`, which the OwnerReferencesPermissionEnforcement admission plugin (on in
 *   OpenShift and many hardened clusters) allows only to who may update the owner's finalizers.
 * - **Events:** `create` and `patch` on core `events` (the recorder posts and aggregates them),
 *   in every watched namespace, plus `default` when a cluster-scoped resource is handled (its
 *   Events go there).
 * - **Leases:** `get`, `create`, `update` on `coordination.k8s.io` `leases`, in a Role of the
 *   operator's own namespace only (leader election; a Role never reaches other namespaces); with
 *   sharding also `list` and `delete` (the sharder reads shard Leases and removes dead ones).
 * - **Not CRDs:** `operon run`'s preflight checks that a resource is served through discovery,
 *   which every authenticated user may read (`system:discovery`), so no CRD permission is asked.
 *
 * Guarantees: the output is deterministic (rules merged per API group and verb set, resources
 * sorted, verbs in get, list, watch, create, update, patch, delete order, objects in a fixed order), so generated RBAC can be checked in and compared.
 * Without watch namespaces it is one ClusterRole and ClusterRoleBinding; with them, one Role and
 * RoleBinding per namespace, and a ClusterRole only for cluster-scoped resources.
 */
import type { KubeObject } from '../client/types.ts';
import type { Registry } from '../handlers/registry.ts';
import type { Resource } from '../schema/resource.ts';

/** One RBAC policy rule, as in a Role or ClusterRole. */
export interface RbacRule {
  /** API groups; `''` is the core group. */
  apiGroups: string[];
  /** Plurals, with subresources as `pods/log`. */
  resources: string[];
  /** `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, ... */
  verbs: string[];
  /** Only these objects, when set. */
  resourceNames?: string[];
  /**
   * Where the rule is needed, for extra rules: `namespaced` (the default) goes with the watched
   * namespaces' Roles, `cluster` always into a ClusterRole. Not part of the printed rule.
   */
  scope?: 'namespaced' | 'cluster';
}

/** Options of {@link rbacFor}. */
export interface RbacOptions {
  /** Names the ServiceAccount, roles and bindings. */
  name: string;
  /** The operator's namespace: its ServiceAccount and its leader-election Lease live here. */
  namespace: string;
  /** Grant namespaced access only in these namespaces (Roles), instead of cluster-wide. */
  watchNamespaces?: readonly string[];
  /**
   * The operator selects its namespaces by label (`namespaceSelector`): it watches Namespaces
   * (`get`, `list`, `watch`, cluster-wide) and its resources in every namespace, so
   * `watchNamespaces` cannot narrow it. Default false.
   */
  namespaceSelector?: boolean;
  /** Rules the registrations cannot show (see the module comment). */
  extraRules?: readonly RbacRule[];
  /** Grant the leader-election Lease access. Default true. */
  leaderElection?: boolean;
  /**
   * The operator shards its objects (`operon run --shard-ring`): the Lease Role also grants `list`
   * (the sharder reads the ring's Leases) and `delete` (it removes the Leases of long-dead shards).
   * Labels need nothing more: they are patched, and `patch` is granted on every handled and owned
   * resource already. Default false.
   */
  sharding?: boolean;
  /**
   * Names the webhook server uses, when validate/mutate handlers are registered. Default: the
   * configurations are named `name` and the certificate Secret `<name>-webhook-tls`.
   */
  webhooks?: {
    /** The webhook configurations' name. */
    configurationName?: string;
    /** The certificate Secret's name. */
    secretName?: string;
  };
}

/** A rule with its scope decided: namespaced rules follow the watched namespaces. */
interface ScopedRule {
  rule: RbacRule;
  cluster: boolean;
}

const VERB_ORDER = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

/**
 * The rules an operator's registry needs, before they are placed in roles. Cluster-scoped
 * resources' rules are marked so; Events and Leases are not included (see {@link rbacFor}).
 *
 * @example
 * ```ts
 * registryRules(registry);
 * // [{ rule: { apiGroups: ['demo.operon.dev'], resources: ['printers'], verbs: ['get', 'list', 'watch', 'patch'] }, cluster: false }, …]
 * ```
 */
export function registryRules(registry: Registry): Array<{ rule: RbacRule; cluster: boolean }> {
  const grants = new Grants();
  for (const registration of registry.resources) {
    // Admission-only resources are not watched (the API server sends their requests): no grant.
    if (registration.admission.length > 0 && registration.handlers.length === 0 && registration.owned.length === 0 && registration.related.length === 0) continue;
    const resource = registration.resource;
    grants.add(resource, resource.plural, ['get', 'list', 'watch', 'patch']);
    if (hasStatus(resource)) grants.add(resource, `${resource.plural}/status`, ['patch']);
    if (registration.owned.length > 0) grants.add(resource, `${resource.plural}/finalizers`, ['update']);
    for (const owned of registration.owned) grants.add(owned.resource, owned.resource.plural, ['get', 'list', 'watch', 'create', 'patch']);
    for (const related of registration.related) grants.add(related.resource, related.resource.plural, ['get', 'list', 'watch']);
  }
  return grants.rules();
}

/**
 * The RBAC objects an operator needs: ServiceAccount, ClusterRole/Role(s) and their bindings,
 * and the leader-election Role in the operator's namespace, in a stable order.
 *
 * @example
 * ```ts
 * const objects = rbacFor(registry, { name: 'printer-operator', namespace: 'operators', extraRules: operator.rbac });
 * process.stdout.write(rbacToYaml(objects));
 * ```
 */
export function rbacFor(registry: Registry, options: RbacOptions): KubeObject[] {
  const { name, namespace } = options;
  if (options.namespaceSelector && (options.watchNamespaces?.length ?? 0) > 0) {
    throw new TypeError('a namespace selector watches every namespace: give either a namespace selector or watch namespaces, not both');
  }
  const watchNamespaces = [...new Set(options.watchNamespaces ?? [])].sort();
  const scoped: ScopedRule[] = [
    ...registryRules(registry),
    ...(options.namespaceSelector ? [{ rule: { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] }, cluster: true }] : []),
    ...(options.extraRules ?? []).map((rule) => ({ rule: stripScope(rule), cluster: rule.scope === 'cluster' })),
  ];
  const webhooks = webhookRbac(registry, options);
  scoped.push(...webhooks.cluster.map((rule) => ({ rule, cluster: true })));
  const events: RbacRule = { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] };
  const subject = { kind: 'ServiceAccount', name, namespace };
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/managed-by': 'operon' };
  const objects: KubeObject[] = [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels } }];
  const clusterRole = (rules: RbacRule[]): void => {
    if (rules.length === 0) return;
    objects.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules: mergeRules(rules) } as KubeObject);
    objects.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [subject],
    } as KubeObject);
  };
  const role = (roleName: string, roleNamespace: string, rules: RbacRule[]): void => {
    objects.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: roleName, namespace: roleNamespace, labels }, rules: mergeRules(rules) } as KubeObject);
    objects.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: roleName, namespace: roleNamespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
      subjects: [subject],
    } as KubeObject);
  };

  if (watchNamespaces.length === 0) {
    clusterRole([...scoped.map((s) => s.rule), events]);
  } else {
    const clusterScoped = scoped.filter((s) => s.cluster).map((s) => s.rule);
    clusterRole(clusterScoped);
    const namespaced = [...scoped.filter((s) => !s.cluster).map((s) => s.rule), events];
    // Events about cluster-scoped objects are posted in `default`.
    const eventNamespaces = clusterScoped.length > 0 && !watchNamespaces.includes('default') ? ['default'] : [];
    for (const ns of [...new Set([...watchNamespaces, ...eventNamespaces])].sort()) role(name, ns, watchNamespaces.includes(ns) ? namespaced : [events]);
  }
  if (webhooks.own.length > 0) role(`${name}-webhooks`, namespace, webhooks.own);
  if (options.leaderElection ?? true) {
    const verbs = options.sharding ? ['get', 'list', 'create', 'update', 'delete'] : ['get', 'create', 'update'];
    role(`${name}-leader-election`, namespace, [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs }]);
  }
  return objects;
}

/**
 * What the webhook server needs, only when validate/mutate handlers are registered: in the
 * operator's namespace, its certificate Secret (read it, create it once, replace it on rotation);
 * cluster-wide, its own two webhook configurations (create once, merge-patch after). Names are
 * pinned with `resourceNames` wherever the verb allows it (`create` cannot be).
 *
 * @example
 * ```ts
 * webhookRbac(registry, { name: 'crypto', namespace: 'ops' }).own; // secrets: get, update (named), create
 * ```
 */
export function webhookRbac(registry: Registry, options: RbacOptions): { cluster: RbacRule[]; own: RbacRule[] } {
  const admission = registry.resources.some((r) => r.admission.length > 0);
  const conversions = registry.conversions.map((v) => v.crdName);
  if (!admission && conversions.length === 0) return { cluster: [], own: [] };
  const configuration = options.webhooks?.configurationName ?? options.name;
  const secret = options.webhooks?.secretName ?? `${configuration}-webhook-tls`;
  const configurations = ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'];
  return {
    cluster: [
      ...(admission
        ? [
            { apiGroups: ['admissionregistration.k8s.io'], resources: configurations, verbs: ['create'] },
            { apiGroups: ['admissionregistration.k8s.io'], resources: configurations, verbs: ['patch'], resourceNames: [configuration] },
          ]
        : []),
      // Only the CRDs whose conversion it serves, and only to point them at itself.
      ...(conversions.length > 0 ? [{ apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['patch'], resourceNames: conversions }] : []),
    ],
    own: [
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'update'], resourceNames: [secret] },
    ],
  };
}

/**
 * Merges rules: verbs of equal (group, resource, names) are united, then resources sharing a group
 * and verb set share a rule. Sorted, so equal input gives byte-equal output.
 *
 * @example
 * ```ts
 * mergeRules([{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, { apiGroups: [''], resources: ['pods'], verbs: ['list'] }]);
 * // [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]
 * ```
 */
export function mergeRules(rules: readonly RbacRule[]): RbacRule[] {
  const byTarget = new Map<string, { group: string; resource: string; names: string[]; verbs: Set<string> }>();
  for (const rule of rules) {
    const names = [...(rule.resourceNames ?? [])].sort();
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        const key = JSON.stringify([group, resource, names]);
        const entry = byTarget.get(key) ?? { group, resource, names, verbs: new Set<string>() };
        for (const verb of rule.verbs) entry.verbs.add(verb);
        byTarget.set(key, entry);
      }
    }
  }
  const byVerbs = new Map<string, RbacRule>();
  for (const entry of byTarget.values()) {
    const verbs = entry.verbs.has('*') ? ['*'] : [...entry.verbs].sort(compareVerbs);
    const key = JSON.stringify([entry.group, verbs, entry.names]);
    const rule = byVerbs.get(key) ?? { apiGroups: [entry.group], resources: [], verbs, ...(entry.names.length > 0 ? { resourceNames: entry.names } : {}) };
    rule.resources.push(entry.resource);
    byVerbs.set(key, rule);
  }
  const merged = [...byVerbs.values()].map((rule) => ({ ...rule, resources: [...new Set(rule.resources)].sort() }));
  return merged.sort((a, b) => compareStrings(`${a.apiGroups[0]}\u0000${a.resources[0]}\u0000${a.verbs.join(',')}`, `${b.apiGroups[0]}\u0000${b.resources[0]}\u0000${b.verbs.join(',')}`));
}

function compareVerbs(a: string, b: string): number {
  const ia = VERB_ORDER.indexOf(a);
  const ib = VERB_ORDER.indexOf(b);
  if (ia >= 0 && ib >= 0) return ia - ib;
  if (ia >= 0) return -1;
  if (ib >= 0) return 1;
  return compareStrings(a, b);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function stripScope(rule: RbacRule): RbacRule {
  const { scope: _scope, ...rest } = rule;
  return rest;
}

function hasStatus(resource: Resource): boolean {
  // Built-in kinds all have one; custom resources only when declared with a status schema.
  return 'hasStatus' in resource ? Boolean((resource as { hasStatus: unknown }).hasStatus) : true;
}

/** Verbs per (resource, subresource), remembering whether the resource is cluster-scoped. */
class Grants {
  readonly #entries = new Map<string, { group: string; resource: string; cluster: boolean; verbs: Set<string> }>();

  add(resource: Resource, path: string, verbs: readonly string[]): void {
    const key = `${resource.group}/${path}`;
    const entry = this.#entries.get(key) ?? { group: resource.group, resource: path, cluster: !resource.namespaced, verbs: new Set<string>() };
    for (const verb of verbs) entry.verbs.add(verb);
    this.#entries.set(key, entry);
  }

  rules(): ScopedRule[] {
    return [...this.#entries.values()].map((e) => ({ rule: { apiGroups: [e.group], resources: [e.resource], verbs: [...e.verbs].sort(compareVerbs) }, cluster: e.cluster }));
  }
}
