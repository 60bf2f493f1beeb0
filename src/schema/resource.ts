/**
 * A resource is declared once and everything else is derived from the declaration: the
 * TypeScript type of its objects, the address the client uses (`ResourceRef`), `apiVersion`, and
 * (through `crd.ts`) the CustomResourceDefinition.
 *
 * Guarantees:
 * - {@link defineResource} validates the declaration when it runs (at import time, where
 *   resources are declared) and throws a {@link SchemaError} naming the field and the fix; a
 *   resource value that exists is one the API server's CRD validation will accept as far as names,
 *   scope, columns and schema structure go.
 * - The spec and status schemas are rewritten into structural schemas once, eagerly; a schema
 *   Kubernetes would refuse fails here, not at `kubectl apply` time.
 * - The static types come from the same TypeBox values as the schema: `ResourceObject<typeof R>`
 *   has `spec` typed `Static<typeof spec>`, with no annotation by the user.
 * - Built-in resources ({@link builtin}) carry the `kubernetes-types` type of their kind and the
 *   plural and scope the API server serves them under.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { CustomResourceDefinition, ValidationRule } from 'kubernetes-types/apiextensions/v1.d.ts';
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.d.ts';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.d.ts';
import type { Lease } from 'kubernetes-types/coordination/v1.d.ts';
import type {
  ConfigMap,
  Event as CoreEvent,
  Namespace,
  Node,
  Pod,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-types/core/v1.d.ts';
import type { Event as EventsEvent } from 'kubernetes-types/events/v1.d.ts';
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-types/rbac/v1.d.ts';
import { parseApiVersion } from '../client/paths.ts';
import type { KubeObject, ObjectMeta, ResourceRef, Stored } from '../client/types.ts';
import { checkValidationRules } from './cel.ts';
import { SchemaError, type SchemaProblem } from './errors.ts';
import { toStructuralSchema, type JSONSchemaProps, type SchemaInput } from './structural.ts';

/** Where objects of a resource live. */
export type Scope = 'Namespaced' | 'Cluster';

/**
 * Scope when a declaration names none. controller-gen (kubebuilder) makes the same choice: most
 * operator resources belong to a team's namespace, and a namespaced resource needs only a Role,
 * not a ClusterRole.
 */
const DEFAULT_SCOPE: Scope = 'Namespaced';

/** A column of `kubectl get` output, read from the object by a JSONPath. */
export interface PrinterColumn {
  /** Column header, e.g. `Coin`. */
  name: string;
  /** How kubectl formats the value. */
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  /** Simple JSONPath from the object root, e.g. `.spec.coin` or `.metadata.annotations.value`. */
  jsonPath: string;
  /** What the column shows, for `kubectl explain` and documentation. */
  description?: string;
  /** 0 shows in plain `kubectl get`; higher values only with `-o wide`. */
  priority?: number;
  /** OpenAPI format hint, e.g. `int64` or `date-time`. */
  format?: string;
}

/** What a user writes to declare a custom resource. */
export interface ResourceDeclaration {
  /** API group, a DNS subdomain with at least one dot: `operon.dev`, `crypto.tools`. */
  group: string;
  /** API version, e.g. `v1`, `v1beta1`. */
  version: string;
  /** CamelCase kind, e.g. `Printer`. */
  kind: string;
  /** URL name. Default: the lower-case English plural of `kind` ({@link pluralize}). */
  plural?: string;
  /** Default: the lower-case `kind`. */
  singular?: string;
  /** Default: `kind` + `List`. */
  listKind?: string;
  /** Default: `Namespaced` (as controller-gen). */
  scope?: Scope;
  /** Short names for `kubectl get`, lower-case: `['cvc']`. */
  shortNames?: readonly string[];
  /** Groups for `kubectl get <category>`, e.g. `['all']`. */
  categories?: readonly string[];
  /** Schema of `.spec`. */
  spec: TSchema;
  /** Schema of `.status`. When given, the `status` subresource is enabled. */
  status?: TSchema;
  /** Extra `kubectl get` columns. */
  printerColumns?: readonly PrinterColumn[];
  /**
   * Top-level fields every object must have. Only `spec` may be listed: with the status
   * subresource, creates ignore `.status`, so a required status would refuse every create.
   * Listing `spec` also makes `spec` non-optional in {@link ResourceObject}.
   */
  required?: readonly 'spec'[];
  /** Description of the resource, shown by `kubectl explain`. */
  description?: string;
  /** CEL rules on the whole object (`self.spec`, `self.metadata.name`), as `x-kubernetes-validations`. */
  validations?: readonly ValidationRule[];
  /** Schemas that `Type.Ref` inside spec/status points at, by `$id`. */
  definitions?: { readonly [name: string]: SchemaInput } | readonly SchemaInput[];
  /** Mark this version deprecated; the API server then warns clients that use it. */
  deprecated?: boolean | { warning: string };
}

/** What every resource, custom or built-in, knows about itself. `T` types its objects. */
export interface Resource<T extends KubeObject = KubeObject> extends ResourceRef<T> {
  /** `group/version`, or `v1` for the core group. */
  readonly apiVersion: string;
  /** The kind, e.g. `Printer`. */
  readonly kind: string;
  /** The address the client uses, as a plain object (handy for logs and maps). */
  readonly ref: ResourceRef<T>;
  /**
   * True when `object` has this resource's apiVersion and kind; narrows it to `T`.
   *
   * @example
   * ```ts
   * if (Printer.is(event.object)) console.log(event.object.spec?.text);
   * ```
   */
  is(object: KubeObject | null | undefined): object is T;
}

/** The object type of a resource: `ObjectOf<typeof Printer>`. */
export type ObjectOf<R> = R extends Resource<infer T extends KubeObject> ? T : never;

/** An object of the resource as the API server returns it: typed spec/status and stored metadata. */
export type ResourceObject<R extends Resource> = Stored<ObjectOf<R>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type SpecField<D extends ResourceDeclaration> = D extends { required: readonly (infer K)[] }
  ? 'spec' extends K
    ? { spec: Static<D['spec']> }
    : { spec?: Static<D['spec']> }
  : { spec?: Static<D['spec']> };

type StatusField<D extends ResourceDeclaration> = D extends { status: infer S extends TSchema }
  ? { status?: Static<S> }
  : 'status' extends keyof D
    ? // A declaration that may or may not have a status schema (any `CustomResource`): any status.
      { status?: unknown }
    : // No status schema means the API server prunes any status; the type says so.
      { status?: never };

/** The object type a declaration describes. */
export type CustomObject<D extends ResourceDeclaration> = Simplify<
  {
    apiVersion?: `${D['group']}/${D['version']}`;
    kind?: D['kind'];
    metadata?: ObjectMeta;
  } & SpecField<D> &
    StatusField<D>
>;

/** A declared custom resource: the declaration with every default filled in, and its structural schemas. */
export interface CustomResource<D extends ResourceDeclaration = ResourceDeclaration> extends Resource<CustomObject<D>> {
  /** The declaration, as given. */
  readonly declaration: D;
  /** The API group. */
  readonly group: D['group'];
  /** The API version. */
  readonly version: D['version'];
  /** The kind. */
  readonly kind: D['kind'];
  /** `group/version`. */
  readonly apiVersion: `${D['group']}/${D['version']}`;
  /** Lower-case kind, as the CRD names it. */
  readonly singular: string;
  /** `<Kind>List`. */
  readonly listKind: string;
  /** `Namespaced` or `Cluster`. */
  readonly scope: Scope;
  /** Short names for kubectl, e.g. `cvc`. */
  readonly shortNames: readonly string[];
  /** Categories for kubectl, e.g. `all`. */
  readonly categories: readonly string[];
  /** The columns of `kubectl get`. */
  readonly printerColumns: readonly PrinterColumn[];
  /** The structural schemas, rewritten once at declaration. */
  readonly schemas: {
    /** The spec's schema. */
    readonly spec: JSONSchemaProps;
    /** The status's schema; undefined without one. */
    readonly status: JSONSchemaProps | undefined;
  };
  /** True when a status schema was declared (and so the status subresource is enabled). */
  readonly hasStatus: boolean;
  /** `<plural>.<group>`, the CRD's name. */
  readonly crdName: string;
}

/**
 * Declares a custom resource: its names, scope, spec/status schemas and printer columns. The
 * result types its objects, addresses the client, and feeds `toCrd`.
 *
 * @throws {SchemaError} `InvalidDeclaration` for bad names/columns; the rewriter's kinds for schemas.
 * @example
 * ```ts
 * export const Printer = defineResource({
 *   group: 'operon.dev', version: 'v1', kind: 'Printer', shortNames: ['prn'],
 *   spec: Type.Object({ text: Type.String({ maxLength: 4096 }) }),
 *   status: Type.Object({ pod: Type.Optional(Type.String()) }),
 * });
 * type PrinterObject = ResourceObject<typeof Printer>; // spec?: { text: string }
 * ```
 */
export function defineResource<const D extends ResourceDeclaration>(declaration: D): CustomResource<D> {
  const problems: SchemaProblem[] = [];
  const at = (field: string): string => `${declaration.kind || 'resource'}.${field}`;
  const report = (field: string, message: string, fix: string): void => {
    problems.push({ path: at(field), message, fix });
  };

  const { group, version, kind } = declaration;
  if (!isDnsSubdomain(group) || !group.includes('.')) {
    report('group', `${JSON.stringify(group)} is not a DNS subdomain with at least one dot`, 'use a domain you own, e.g. "operon.example.com"');
  }
  if (!isDns1035Label(version)) report('version', `${JSON.stringify(version)} is not a valid version name`, 'use a lower-case name such as "v1" or "v1beta1"');
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind) || kind.length > 63) report('kind', `${JSON.stringify(kind)} is not a CamelCase kind`, 'start with an upper-case letter and use only letters and digits, e.g. "CryptoValueCalculator"');

  const plural = declaration.plural ?? pluralize(kind);
  const singular = declaration.singular ?? kind.toLowerCase();
  const listKind = declaration.listKind ?? `${kind}List`;
  for (const [field, value] of [['plural', plural], ['singular', singular]] as const) {
    if (!isDns1035Label(value)) report(field, `${JSON.stringify(value)} is not a lower-case DNS label`, `set ${field} to lower-case letters, digits and '-'`);
  }
  if (listKind === kind) report('listKind', 'listKind must differ from kind', `use "${kind}List"`);
  if (plural === singular && declaration.plural === undefined) {
    report('plural', `the derived plural equals the singular (${JSON.stringify(plural)})`, 'set `plural` explicitly');
  }
  const crdName = `${plural}.${group}`;
  if (crdName.length > 253) report('plural', `the CRD name ${crdName} is longer than 253 characters`, 'shorten the plural or the group');

  const shortNames = [...(declaration.shortNames ?? [])];
  const categories = [...(declaration.categories ?? [])];
  for (const [field, list] of [['shortNames', shortNames], ['categories', categories]] as const) {
    list.forEach((name, i) => {
      if (!isDns1035Label(name)) report(`${field}[${i}]`, `${JSON.stringify(name)} is not a lower-case DNS label`, 'use lower-case letters, digits and -');
    });
    const dupes = list.filter((name, i) => list.indexOf(name) !== i);
    if (dupes.length > 0) report(field, `duplicate entries ${JSON.stringify(dupes)}`, 'list each name once');
  }

  const scope = declaration.scope ?? DEFAULT_SCOPE;
  if (scope !== 'Namespaced' && scope !== 'Cluster') report('scope', `${JSON.stringify(scope)} is not a scope`, 'use "Namespaced" or "Cluster"');

  const required = [...(declaration.required ?? [])];
  for (const field of required) {
    if (field !== 'spec') report('required', `${JSON.stringify(field)} cannot be required`, 'only "spec" may be required (creates ignore status with the status subresource)');
  }

  // Schema errors carry their own kind (Unsupported, Recursive, ...): let them through unchanged.
  const definitions = declaration.definitions;
  const spec = toStructuralSchema(declaration.spec, { path: at('spec'), ...(definitions ? { definitions } : {}) });
  const status =
    declaration.status === undefined ? undefined : toStructuralSchema(declaration.status, { path: at('status'), ...(definitions ? { definitions } : {}) });

  // Rules the API server would refuse fail here, at import, like any other schema mistake.
  const ruleProblems = [...checkValidationRules(spec, { path: at('spec') }), ...(status ? checkValidationRules(status, { path: at('status') }) : [])];
  const [ruleProblem, ...moreRuleProblems] = ruleProblems;
  if (ruleProblem) throw new SchemaError('InvalidRule', [ruleProblem, ...moreRuleProblems]);

  const printerColumns = [...(declaration.printerColumns ?? [])];
  checkColumns(printerColumns, { spec, status }, report);

  const [first, ...rest] = problems;
  if (first) throw new SchemaError('InvalidDeclaration', [first, ...rest]);

  const apiVersion = `${group}/${version}` as `${D['group']}/${D['version']}`;
  const namespaced = scope === 'Namespaced';
  const ref: ResourceRef = Object.freeze({ group, version, plural, namespaced });
  return Object.freeze({
    declaration,
    group,
    version,
    kind,
    apiVersion,
    plural,
    namespaced,
    ref,
    singular,
    listKind,
    scope,
    shortNames: Object.freeze(shortNames),
    categories: Object.freeze(categories),
    printerColumns: Object.freeze(printerColumns.map((c) => Object.freeze({ ...c }))),
    schemas: Object.freeze({ spec, status }),
    hasStatus: status !== undefined,
    crdName,
    is: (object: KubeObject | null | undefined): object is CustomObject<D> => object?.apiVersion === apiVersion && object.kind === kind,
  });
}

const COLUMN_TYPES = new Set(['string', 'integer', 'number', 'boolean', 'date']);

function checkColumns(
  columns: readonly PrinterColumn[],
  schemas: { spec: JSONSchemaProps; status: JSONSchemaProps | undefined },
  report: (field: string, message: string, fix: string) => void,
): void {
  const names = new Set<string>();
  columns.forEach((column, i) => {
    const field = `printerColumns[${i}]`;
    if (!column.name) report(`${field}.name`, 'a column needs a name', 'set `name`, e.g. "Coin"');
    else if (names.has(column.name)) report(`${field}.name`, `duplicate column ${JSON.stringify(column.name)}`, 'give each column its own name');
    names.add(column.name);
    if (!COLUMN_TYPES.has(column.type)) report(`${field}.type`, `${JSON.stringify(column.type)} is not a column type`, 'use string, integer, number, boolean or date');
    if (column.priority !== undefined && (!Number.isInteger(column.priority) || column.priority < 0)) {
      report(`${field}.priority`, 'priority must be a non-negative integer', 'use 0 (always shown) or a higher number (shown with -o wide)');
    }
    if (!/^\.[A-Za-z_]/.test(column.jsonPath)) {
      report(`${field}.jsonPath`, `${JSON.stringify(column.jsonPath)} is not a simple JSONPath`, 'start at the object root, e.g. ".spec.coin"');
      return;
    }
    const missing = missingSegment(column.jsonPath, schemas);
    // A path to an undeclared field shows an empty column forever; the API server does not check.
    if (missing) report(`${field}.jsonPath`, `${column.jsonPath} names ${missing}, which the schema does not declare`, 'fix the path or declare the field');
  });
}

/** For `.spec.*`/`.status.*` paths: the first segment the structural schema does not declare. */
function missingSegment(jsonPath: string, schemas: { spec: JSONSchemaProps; status: JSONSchemaProps | undefined }): string | undefined {
  const segments = jsonPath.slice(1).split('.');
  const [top, ...rest] = segments;
  if (top !== 'spec' && top !== 'status') return undefined;
  let node: JSONSchemaProps | undefined = top === 'spec' ? schemas.spec : schemas.status;
  if (!node) return '.status';
  let walked = `.${top}`;
  for (const raw of rest) {
    if (node['x-kubernetes-preserve-unknown-fields'] || raw.includes('[') || raw.includes('@')) return undefined;
    walked += `.${raw}`;
    const next: JSONSchemaProps | undefined =
      node.properties?.[raw] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
    if (!next) return walked;
    node = next;
  }
  return undefined;
}

/**
 * The lower-case English plural of a kind, for the common cases: consonant + `y` → `ies`
 * (`Policy` → `policies`), `s`/`x`/`z`/`ch`/`sh` → `es` (`Ingress` → `ingresses`), otherwise `s`.
 * Unlike Kubernetes' `UnsafeGuessKindToResource`, a vowel + `y` takes `s` (`Gateway` →
 * `gateways`, as Gateway API names it). Irregular words need an explicit `plural`.
 *
 * @example
 * ```ts
 * pluralize('CryptoValueCalculator'); // 'cryptovaluecalculators'
 * ```
 */
export function pluralize(kind: string): string {
  const word = kind.toLowerCase();
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

// ---------------------------------------------------------------------------------------------
// Built-in resources

/** The built-in kinds Operon knows by name, with their `kubernetes-types` types. */
export interface BuiltinKinds {
  v1: {
    Pod: Pod;
    ConfigMap: ConfigMap;
    Secret: Secret;
    Service: Service;
    ServiceAccount: ServiceAccount;
    Event: CoreEvent;
    Namespace: Namespace;
    Node: Node;
  };
  'apps/v1': { Deployment: Deployment; ReplicaSet: ReplicaSet; StatefulSet: StatefulSet; DaemonSet: DaemonSet };
  'batch/v1': { Job: Job; CronJob: CronJob };
  'coordination.k8s.io/v1': { Lease: Lease };
  'events.k8s.io/v1': { Event: EventsEvent };
  'rbac.authorization.k8s.io/v1': { Role: Role; RoleBinding: RoleBinding; ClusterRole: ClusterRole; ClusterRoleBinding: ClusterRoleBinding };
  'apiextensions.k8s.io/v1': { CustomResourceDefinition: CustomResourceDefinition };
}

/** Plural and scope of each known built-in, as the API server serves them. */
const BUILTINS: { readonly [apiVersion: string]: { readonly [kind: string]: readonly [plural: string, namespaced: boolean] } } = {
  v1: {
    Pod: ['pods', true],
    ConfigMap: ['configmaps', true],
    Secret: ['secrets', true],
    Service: ['services', true],
    ServiceAccount: ['serviceaccounts', true],
    Event: ['events', true],
    Namespace: ['namespaces', false],
    Node: ['nodes', false],
  },
  'apps/v1': { Deployment: ['deployments', true], ReplicaSet: ['replicasets', true], StatefulSet: ['statefulsets', true], DaemonSet: ['daemonsets', true] },
  'batch/v1': { Job: ['jobs', true], CronJob: ['cronjobs', true] },
  'coordination.k8s.io/v1': { Lease: ['leases', true] },
  'events.k8s.io/v1': { Event: ['events', true] },
  'rbac.authorization.k8s.io/v1': {
    Role: ['roles', true],
    RoleBinding: ['rolebindings', true],
    ClusterRole: ['clusterroles', false],
    ClusterRoleBinding: ['clusterrolebindings', false],
  },
  'apiextensions.k8s.io/v1': { CustomResourceDefinition: ['customresourcedefinitions', false] },
};

/** A built-in resource, typed by its `kubernetes-types` interface. */
export interface BuiltinResource<T extends KubeObject = KubeObject> extends Resource<T> {
  readonly builtin: true;
}

/** Names a built-in resource that is not in {@link BuiltinKinds}. */
export interface BuiltinNames {
  scope: Scope;
  /** Default: {@link pluralize} of the kind. */
  plural?: string;
}

/**
 * A built-in resource by apiVersion and kind, typed with its `kubernetes-types` interface. Kinds
 * outside the known table need their scope (and plural, when irregular) and a type argument.
 *
 * @example
 * ```ts
 * const pods = builtin('v1', 'Pod');                 // BuiltinResource<Pod>, plural 'pods'
 * const ingresses = builtin<Ingress>('networking.k8s.io/v1', 'Ingress', { scope: 'Namespaced' });
 * ```
 */
export function builtin<const A extends keyof BuiltinKinds, const K extends keyof BuiltinKinds[A] & string>(
  apiVersion: A,
  kind: K,
): BuiltinResource<BuiltinKinds[A][K] & KubeObject>;
export function builtin<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, names: BuiltinNames): BuiltinResource<T>;
export function builtin(apiVersion: string, kind: string, names?: BuiltinNames): BuiltinResource {
  const known = BUILTINS[apiVersion]?.[kind];
  let plural: string;
  let namespaced: boolean;
  if (names) {
    plural = names.plural ?? pluralize(kind);
    namespaced = names.scope === 'Namespaced';
  } else if (known) {
    [plural, namespaced] = known;
  } else {
    throw new SchemaError('InvalidDeclaration', [
      {
        path: `builtin(${JSON.stringify(apiVersion)}, ${JSON.stringify(kind)})`,
        message: 'this built-in is not in the known table, so its plural and scope are unknown',
        fix: `pass them: builtin<MyType>(${JSON.stringify(apiVersion)}, ${JSON.stringify(kind)}, { scope: 'Namespaced', plural: '...' })`,
      },
    ]);
  }
  const { group, version } = parseApiVersion(apiVersion);
  const ref: ResourceRef = Object.freeze({ group, version, plural, namespaced });
  return Object.freeze({
    group,
    version,
    plural,
    namespaced,
    apiVersion,
    kind,
    ref,
    builtin: true as const,
    is: (object: KubeObject | null | undefined): object is KubeObject => object?.apiVersion === apiVersion && object.kind === kind,
  });
}

function isDns1035Label(value: string): boolean {
  return value.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(value);
}

function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && value.split('.').every((part) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(part) && part.length <= 63);
}
