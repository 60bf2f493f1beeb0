/**
 * From declared resources to an `apiextensions.k8s.io/v1` CustomResourceDefinition, as an object
 * (for the client) or as YAML (for a checked-in manifest).
 *
 * Guarantees:
 * - {@link toCrd} is a pure function of its input: the same declarations give a deep-equal CRD,
 *   with keys in one fixed order, so {@link crdToYaml} output can be compared byte for byte with
 *   a file in the repository (e.g. a test that fails when the declaration and the checked-in
 *   manifest drift apart).
 * - The root schema is checked against the structural rules before it is returned; the spec and
 *   status schemas were checked when the resource was declared.
 * - Several versions of one kind become one CRD with exactly one storage version; names, scope
 *   and group must agree across them, or {@link toCrd} throws.
 * - YAML is written in YAML 1.1 style quoting, so values such as `on`, `yes` or `no` stay strings
 *   when kubectl (a YAML 1.1 reader) parses them.
 */
import { createRequire } from 'node:module';
import type YAMLModule from 'yaml';
import type {
  CustomResourceColumnDefinition,
  CustomResourceDefinitionNames,
  CustomResourceSubresources,
} from 'kubernetes-types/apiextensions/v1.d.ts';
import type { ObjectMeta } from '../client/types.ts';
import { pauseKey } from '../state/pause.ts';
import { SchemaError, type SchemaProblem } from '../schema/errors.ts';
import type { CustomResource, Scope } from '../schema/resource.ts';
import { checkValidationRules } from '../schema/cel.ts';
import { assertStructuralSchema, canonicalSchema, type JSONSchemaProps } from '../schema/structural.ts';
import { isVersionedResource, type VersionedResource } from '../schema/versions.ts';
import { defaults } from '../defaults.ts';

/** One version of a CRD, with the schema typed as Operon emits it. */
export interface CustomResourceDefinitionVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema: { openAPIV3Schema: JSONSchemaProps };
  subresources?: CustomResourceSubresources;
  additionalPrinterColumns?: CustomResourceColumnDefinition[];
}

/**
 * A CustomResourceDefinition as Operon generates it. It is a `KubeObject`, so the client can
 * create or apply it directly.
 */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: ObjectMeta & { name: string };
  spec: {
    group: string;
    names: CustomResourceDefinitionNames;
    scope: Scope;
    versions: CustomResourceDefinitionVersion[];
    conversion?: CustomResourceConversion;
  };
}

/** Where the API server sends ConversionReviews: a Service in the cluster, or a URL (local development). */
export type WebhookClientConfig =
  | { service: { namespace: string; name: string; path?: string; port?: number }; caBundle?: string }
  | { url: string; caBundle?: string };

/** `spec.conversion` of a CRD. */
export interface CustomResourceConversion {
  strategy: 'None' | 'Webhook';
  webhook?: { conversionReviewVersions: string[]; clientConfig: WebhookClientConfig };
}

/**
 * The client config `operon crd` writes for a conversion webhook when none is given: the URL
 * `operon run` patches in when started with `OPERON_WEBHOOK_URL=https://127.0.0.1:9443` (local
 * development, the default port). Written in the same shape as what the operator patches, so a
 * later `kubectl apply -f crd.yaml` over a running operator's config merges (a `service` in the
 * file over a patched `url` would set both, which the API server refuses). For a cluster, pass the
 * Service (`operon crd --conversion-service <namespace>/<name>`); the operator fills `caBundle`.
 *
 * @example
 * ```ts
 * localConversionClientConfig(Widgets); // { url: 'https://127.0.0.1:9443/convert/widgets.example.com' }
 * ```
 */
export function localConversionClientConfig(resource: Pick<VersionedResource, 'crdName'>): WebhookClientConfig {
  return { url: `https://127.0.0.1:${defaults.webhooks.port}${conversionPath(resource)}` };
}

/**
 * The HTTP path of a resource's conversion webhook: `/convert/<plural>.<group>`, one route per
 * CRD so the handler knows the resource without reading the objects.
 *
 * @example
 * ```ts
 * conversionPath(Widgets); // '/convert/widgets.example.com'
 * ```
 */
export function conversionPath(resource: Pick<VersionedResource, 'crdName'>): string {
  return `/convert/${resource.crdName}`;
}

export interface CrdOptions {
  /**
   * Which version is stored in etcd. Required when more than one version is given, because
   * changing it later needs a storage migration; with one version it is that version.
   */
  storageVersion?: string;
  /** Versions listed here are still accepted in manifests but not served. Default: all served. */
  unservedVersions?: readonly string[];
  labels?: { readonly [key: string]: string };
  annotations?: { readonly [key: string]: string };
  /**
   * Where the conversion webhook is, for a {@link VersionedResource} whose strategy is `Webhook`.
   * Default: {@link localConversionClientConfig}.
   */
  conversionClientConfig?: WebhookClientConfig;
}

/**
 * The CustomResourceDefinition for one resource, for several versions of one kind, or for a
 * {@link VersionedResource} (storage, served versions and `spec.conversion` from its declaration).
 *
 * @throws {SchemaError} `InvalidDeclaration` when versions disagree or the storage version is
 *   unclear; `InvalidRule` for a CEL rule the API server would refuse.
 * @example
 * ```ts
 * const crd = toCrd(CryptoValueCalculator);
 * crd.metadata.name; // 'cryptovaluecalculators.crypto.tools'
 * ```
 */
export function toCrd(resources: CustomResource | readonly CustomResource[] | VersionedResource, options: CrdOptions = {}): CustomResourceDefinition {
  if (isVersionedResource(resources)) {
    const crd = toCrd(resources.versions, { ...options, storageVersion: resources.storage, unservedVersions: resources.unserved });
    const clientConfig: WebhookClientConfig = options.conversionClientConfig ?? localConversionClientConfig(resources);
    crd.spec.conversion =
      resources.strategy === 'None' ? { strategy: 'None' } : { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig } };
    return crd;
  }
  const list: readonly CustomResource[] = isList(resources) ? resources : [resources];
  const [first] = list;
  if (!first) return invalid('toCrd', 'no resource given', 'pass at least one resource declared with defineResource');
  checkSameKind(list);

  const storage = options.storageVersion ?? (list.length === 1 ? first.version : undefined);
  if (storage === undefined) {
    return invalid(`${first.kind}`, `${list.length} versions given and no storage version`, `group them with defineVersions({ versions, storage, conversions }) and export that, or set storageVersion to one of ${list.map((r) => r.version).join(', ')}`);
  }
  if (!list.some((r) => r.version === storage)) {
    return invalid(`${first.kind}`, `storageVersion ${JSON.stringify(storage)} is not among the given versions`, `use one of ${list.map((r) => r.version).join(', ')}`);
  }
  const unserved = new Set(options.unservedVersions ?? []);

  const names: CustomResourceDefinitionNames = { kind: first.kind, listKind: first.listKind, plural: first.plural, singular: first.singular };
  if (first.shortNames.length > 0) names.shortNames = [...first.shortNames];
  if (first.categories.length > 0) names.categories = [...first.categories];

  const metadata: ObjectMeta & { name: string } = { name: first.crdName };
  if (options.labels) metadata.labels = { ...options.labels };
  if (options.annotations) metadata.annotations = { ...options.annotations };

  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata,
    spec: {
      group: first.group,
      names,
      scope: first.scope,
      versions: list.map((r) => toVersion(r, r.version === storage, !unserved.has(r.version))),
    },
  };
}

function toVersion(resource: CustomResource, storage: boolean, served: boolean): CustomResourceDefinitionVersion {
  const { declaration } = resource;
  const root: JSONSchemaProps = { type: 'object' };
  if (declaration.description !== undefined) root.description = declaration.description;
  if (declaration.required && declaration.required.length > 0) root.required = [...declaration.required];
  root.properties = { spec: resource.schemas.spec };
  if (resource.schemas.status) root.properties['status'] = resource.schemas.status;
  if (declaration.validations && declaration.validations.length > 0) root['x-kubernetes-validations'] = declaration.validations.map((v) => ({ ...v }));
  const openAPIV3Schema = canonicalSchema(root);
  const path = `${resource.kind}.${resource.version}.openAPIV3Schema`;
  assertStructuralSchema(openAPIV3Schema, { path, root: true });
  const [problem, ...more] = checkValidationRules(openAPIV3Schema, { path, root: true });
  if (problem) throw new SchemaError('InvalidRule', [problem, ...more]);

  const version: CustomResourceDefinitionVersion = { name: resource.version, served, storage, schema: { openAPIV3Schema } };
  const deprecated = declaration.deprecated;
  if (deprecated) {
    version.deprecated = true;
    if (typeof deprecated === 'object') version.deprecationWarning = deprecated.warning;
  }
  if (resource.hasStatus) version.subresources = { status: {} };
  version.additionalPrinterColumns = [...resource.printerColumns.map(toColumn), ...operonColumns(resource.printerColumns.length === 0)];
  return version;
}

/**
 * Columns every Operon CRD gets: `Paused` (`kubectl get -o wide`) from the pause annotation
 * (state/pause.ts). A CRD with no columns of its own shows `Age` by default and loses it once any
 * column is declared, so `Age` is declared too in that case: plain `kubectl get` stays as it was.
 */
function operonColumns(withAge: boolean): CustomResourceColumnDefinition[] {
  const paused = orderKeys<CustomResourceColumnDefinition>(
    { name: 'Paused', type: 'string', description: `Set while the annotation ${pauseKey()} pauses Operon's handling of the object`, jsonPath: `.metadata.annotations.${pauseKey().replaceAll('.', '\\.')}`, priority: 1 },
    COLUMN_ORDER,
  );
  return withAge ? [orderKeys<CustomResourceColumnDefinition>({ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }, COLUMN_ORDER), paused] : [paused];
}

function toColumn(column: CustomResource['printerColumns'][number]): CustomResourceColumnDefinition {
  const out: CustomResourceColumnDefinition = { name: column.name, type: column.type, jsonPath: column.jsonPath };
  if (column.format !== undefined) out.format = column.format;
  if (column.description !== undefined) out.description = column.description;
  if (column.priority !== undefined) out.priority = column.priority;
  return orderKeys(out, COLUMN_ORDER);
}

function checkSameKind(list: readonly CustomResource[]): void {
  const [first, ...rest] = list;
  if (!first) return;
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>([first.version]);
  for (const r of rest) {
    for (const field of ['group', 'kind', 'plural', 'singular', 'listKind', 'scope'] as const) {
      if (r[field] !== first[field]) {
        problems.push({
          path: `${r.kind}.${r.version}.${field}`,
          message: `${JSON.stringify(r[field])} differs from ${JSON.stringify(first[field])} in ${first.version}`,
          fix: `every version of one CRD shares its ${field}`,
        });
      }
    }
    for (const field of ['shortNames', 'categories'] as const) {
      if (r[field].join(',') !== first[field].join(',')) {
        problems.push({ path: `${r.kind}.${r.version}.${field}`, message: `differs from ${first.version}`, fix: `declare the same ${field} on every version` });
      }
    }
    if (seen.has(r.version)) problems.push({ path: `${r.kind}.${r.version}`, message: 'version given twice', fix: 'list each version once' });
    seen.add(r.version);
  }
  const [p, ...more] = problems;
  if (p) throw new SchemaError('InvalidDeclaration', [p, ...more]);
}

/**
 * Serialises one or more CRDs as YAML documents (joined by `---`), with keys in a fixed order so
 * the text is stable across runs and Node versions.
 *
 * @example
 * ```ts
 * await writeFile('operators/crypto/crd.yaml', crdToYaml(toCrd(CryptoValueCalculator)));
 * ```
 */
export function crdToYaml(crds: CustomResourceDefinition | readonly CustomResourceDefinition[]): string {
  const list: readonly CustomResourceDefinition[] = isList(crds) ? crds : [crds];
  return list
    .map((crd) => loadYaml().stringify(canonicalCrd(crd), { lineWidth: 0, version: '1.1' }))
    .join('---\n');
}

/** Re-orders every key of a CRD, so YAML from a hand-modified CRD object is stable too. */
function canonicalCrd(crd: CustomResourceDefinition): unknown {
  const spec = crd.spec;
  return orderKeys(
    {
      ...crd,
      metadata: orderKeys({ ...crd.metadata }, METADATA_ORDER),
      spec: orderKeys(
        {
          ...spec,
          names: orderKeys({ ...spec.names }, NAMES_ORDER),
          versions: spec.versions.map((v) =>
            orderKeys(
              {
                ...v,
                schema: { openAPIV3Schema: canonicalSchema(v.schema.openAPIV3Schema) },
                ...(v.additionalPrinterColumns ? { additionalPrinterColumns: v.additionalPrinterColumns.map((c) => orderKeys({ ...c }, COLUMN_ORDER)) } : {}),
              },
              VERSION_ORDER,
            ),
          ),
        },
        SPEC_ORDER,
      ),
    },
    TOP_ORDER,
  );
}

const TOP_ORDER = ['apiVersion', 'kind', 'metadata', 'spec'];
const METADATA_ORDER = ['name', 'labels', 'annotations'];
const SPEC_ORDER = ['group', 'names', 'scope', 'versions', 'conversion'];
const NAMES_ORDER = ['kind', 'listKind', 'plural', 'singular', 'shortNames', 'categories'];
const VERSION_ORDER = ['name', 'served', 'storage', 'deprecated', 'deprecationWarning', 'schema', 'subresources', 'additionalPrinterColumns'];
const COLUMN_ORDER = ['name', 'type', 'format', 'jsonPath', 'description', 'priority'];

/** Known keys in the given order, then any others alphabetically. */
function orderKeys<T extends object>(value: T, order: readonly string[]): T {
  const source = value as { [key: string]: unknown };
  const out: { [key: string]: unknown } = {};
  for (const key of order) if (source[key] !== undefined) out[key] = source[key];
  for (const key of Object.keys(source).sort()) if (!(key in out) && source[key] !== undefined) out[key] = source[key];
  return out as T;
}

function isList<T>(value: T | readonly T[]): value is readonly T[] {
  return Array.isArray(value);
}

function invalid(path: string, message: string, fix: string): never {
  throw new SchemaError('InvalidDeclaration', [{ path, message, fix }]);
}

/**
 * The `yaml` package, loaded on first use: operators import this module through `operon` but
 * only `operon crd` writes YAML, and the package costs about 12 MB of resident memory.
 */
function loadYaml(): typeof YAMLModule {
  return createRequire(import.meta.url)('yaml') as typeof YAMLModule;
}
