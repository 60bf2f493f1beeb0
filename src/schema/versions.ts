/**
 * Several versions of one custom resource, and the conversions between them.
 *
 * Each version is an ordinary {@link CustomResource} (its own `defineResource`, its own TypeBox
 * spec and status, columns and deprecation). {@link defineVersions} groups them into one
 * {@link VersionedResource}: which version etcd stores, which are served, and typed
 * {@link conversion} functions between neighbouring versions.
 *
 * Guarantees:
 * - Every version can reach every other through declared conversions, or through identity where
 *   two versions have the same spec and status schemas; {@link defineVersions} throws a
 *   {@link SchemaError} naming the unreachable version otherwise. Non-neighbours are converted
 *   along the shortest chain.
 * - {@link VersionedResource.strategy} is `None` only when no conversion is declared and every
 *   version has the same schemas (the API server then rewrites `apiVersion` itself); otherwise
 *   `Webhook`.
 * - A single-version declaration does not need this module: `defineResource` alone still makes
 *   a one-version CRD, unchanged.
 *
 * Handlers are written against ONE version: the resource passed to `resource()` (usually the
 * storage version). The API server converts objects to that version before the operator sees
 * them, so handlers never see another version's shape.
 */
import type { KubeObject } from '../client/types.ts';
import { SchemaError, type SchemaProblem } from './errors.ts';
import type { CustomResource, ObjectOf } from './resource.ts';
import { canonicalSchema } from './structural.ts';

/** An object of version `R` as a conversion function returns it: `apiVersion` and `kind` are set by Operon. */
export type ConvertedObject<R extends CustomResource> = Omit<ObjectOf<R>, 'apiVersion' | 'kind'>;

/**
 * Typed conversion between two neighbouring versions. `up` goes from `from` to `to`, `down` back.
 * Only `spec`, `status` and other top-level content, plus `metadata.labels`/`annotations`, may
 * change: any other metadata a function returns is replaced by the input's, as the API server
 * requires.
 */
export interface Conversion<From extends CustomResource = CustomResource, To extends CustomResource = CustomResource> {
  /** The older (or lower) of the two neighbouring versions. */
  readonly from: From;
  /** The newer (or higher) one. */
  readonly to: To;
  /** Converts an object of `from` to `to`. */
  up(object: ObjectOf<From>): ConvertedObject<To>;
  /** Converts an object of `to` back to `from`. */
  down(object: ObjectOf<To>): ConvertedObject<From>;
}

/**
 * Declares how to convert between two versions of one kind.
 *
 * Write each function as if no data could be lost: fields the target version cannot hold are
 * kept by Operon in the `<group>/conversion-data` annotation and restored on the way back (see
 * `conversion.ts`), so `up` and `down` stay simple field mappings.
 *
 * @example
 * ```ts
 * const v1ToV2 = conversion(WidgetV1, WidgetV2, {
 *   up: (o) => ({ ...o, spec: { size: String(o.spec?.size ?? 0) } }),
 *   down: (o) => ({ ...o, spec: { size: Number(o.spec?.size ?? '0') } }),
 * });
 * ```
 */
export function conversion<const From extends CustomResource, const To extends CustomResource>(
  from: From,
  to: To,
  functions: { up(object: ObjectOf<From>): ConvertedObject<To>; down(object: ObjectOf<To>): ConvertedObject<From> },
): Conversion<From, To> {
  return Object.freeze({ from, to, up: functions.up, down: functions.down });
}

/** What a user writes to group versions of one kind. */
export interface VersionsDeclaration {
  /** Every version of the kind, each declared with `defineResource`. Order does not matter. */
  versions: readonly CustomResource[];
  /**
   * The version etcd stores. Changing it later needs a storage migration (rewrite every object,
   * then trim `status.storedVersions`), and the Kubernetes API rules advise never making a version
   * storage in the release that adds it.
   */
  storage: string;
  /** Versions kept in the CRD but not served (e.g. while their conversion webhook is not deployed). Default: all served. */
  unserved?: readonly string[];
  /** Conversions between neighbouring versions; chained for the others. */
  conversions?: readonly Conversion[];
}

/** One conversion step, untyped: what the chain runs. */
export type ConversionStep = (object: KubeObject) => KubeObject;

/** Several versions of one kind, with the storage version and the conversion graph resolved. */
export interface VersionedResource {
  /** Marks the value for `operon crd`, which exports CRDs of every exported VersionedResource. */
  readonly versioned: true;
  /** The API group all versions share. */
  readonly group: string;
  /** The kind all versions share. */
  readonly kind: string;
  /** `<plural>.<group>`, the CRD's name. */
  readonly crdName: string;
  /** Every version, as declared. */
  readonly versions: readonly CustomResource[];
  /** The version etcd stores. */
  readonly storage: string;
  /** Versions in the CRD that the API server does not serve. */
  readonly unserved: readonly string[];
  /** `Webhook` when any version needs code to convert; `None` when all schemas are the same. */
  readonly strategy: 'None' | 'Webhook';
  /** The version named `name`, or undefined. */
  version(name: string): CustomResource | undefined;
  /** The steps from one version to another (empty for the same version); undefined when either is unknown. */
  path(from: string, to: string): readonly ConversionStep[] | undefined;
}

/**
 * Groups the versions of one kind: the storage version, which are served, and conversions.
 *
 * @throws {SchemaError} `InvalidDeclaration` when versions disagree on names, a version is
 *   unreachable, the storage version is unknown, or a conversion names a foreign version.
 * @example
 * ```ts
 * export const Widgets = defineVersions({ versions: [WidgetV1, WidgetV2], storage: 'v1', conversions: [v1ToV2] });
 * // operon crd emits both versions with `conversion: { strategy: Webhook, ... }`
 * ```
 */
export function defineVersions(declaration: VersionsDeclaration): VersionedResource {
  const { versions } = declaration;
  const [first] = versions;
  if (!first) invalid('defineVersions', 'no versions given', 'list every version, each declared with defineResource');
  const problems: SchemaProblem[] = [];
  const byName = new Map<string, CustomResource>();
  for (const r of versions) {
    if (byName.has(r.version)) problems.push({ path: `${r.kind}.${r.version}`, message: 'version given twice', fix: 'list each version once' });
    byName.set(r.version, r);
    for (const field of ['group', 'kind', 'plural', 'singular', 'listKind', 'scope'] as const) {
      if (r[field] !== first[field]) {
        problems.push({ path: `${r.kind}.${r.version}.${field}`, message: `${JSON.stringify(r[field])} differs from ${JSON.stringify(first[field])} in ${first.version}`, fix: `every version of one CRD shares its ${field}` });
      }
    }
  }
  const names = [...byName.keys()].join(', ');
  if (!byName.has(declaration.storage)) problems.push({ path: `${first.kind}.storage`, message: `${JSON.stringify(declaration.storage)} is not among the versions`, fix: `use one of ${names}` });
  const unserved = [...(declaration.unserved ?? [])];
  for (const name of unserved) {
    if (!byName.has(name)) problems.push({ path: `${first.kind}.unserved`, message: `${JSON.stringify(name)} is not among the versions`, fix: `use some of ${names}` });
  }
  if (unserved.includes(declaration.storage)) problems.push({ path: `${first.kind}.unserved`, message: 'the storage version must be served', fix: `remove ${declaration.storage} from unserved` });

  // Edges of the conversion graph: declared conversions both ways, identity between equal schemas.
  const edges = new Map<string, Map<string, ConversionStep>>();
  const addEdge = (from: string, to: string, step: ConversionStep): void => {
    const out = edges.get(from) ?? new Map<string, ConversionStep>();
    out.set(to, step);
    edges.set(from, out);
  };
  const conversions = declaration.conversions ?? [];
  conversions.forEach((c, i) => {
    for (const end of [c.from, c.to]) {
      if (byName.get(end.version) !== end) {
        problems.push({ path: `${first.kind}.conversions[${i}]`, message: `version ${end.version} of ${end.kind} is not one of the listed versions`, fix: 'convert between the resources listed in versions' });
      }
    }
    addEdge(c.from.version, c.to.version, c.up as ConversionStep);
    addEdge(c.to.version, c.from.version, c.down as ConversionStep);
  });
  const schemaKey = (r: CustomResource): string => JSON.stringify([canonicalSchema(r.schemas.spec), r.schemas.status ? canonicalSchema(r.schemas.status) : null]);
  let sameSchemas = true;
  for (const a of versions) {
    for (const b of versions) {
      if (a === b) continue;
      if (schemaKey(a) === schemaKey(b)) {
        if (!edges.get(a.version)?.has(b.version)) addEdge(a.version, b.version, (o) => o);
      } else sameSchemas = false;
    }
  }

  const paths = new Map<string, Map<string, readonly ConversionStep[]>>();
  for (const source of byName.keys()) paths.set(source, shortestPaths(source, edges));
  const storagePaths = paths.get(declaration.storage);
  if (storagePaths) {
    for (const name of byName.keys()) {
      if (!storagePaths.has(name)) {
        problems.push({
          path: `${first.kind}.${name}`,
          message: `no conversion chain joins ${name} and the storage version ${declaration.storage}, and their schemas differ`,
          fix: `add conversion(${first.kind}${name.toUpperCase()}, ...) between ${name} and a neighbouring version`,
        });
      }
    }
  }
  const [p, ...more] = problems;
  if (p) throw new SchemaError('InvalidDeclaration', [p, ...more]);

  return Object.freeze({
    versioned: true as const,
    group: first.group,
    kind: first.kind,
    crdName: first.crdName,
    versions: Object.freeze([...versions]),
    storage: declaration.storage,
    unserved: Object.freeze(unserved),
    strategy: sameSchemas && conversions.length === 0 ? ('None' as const) : ('Webhook' as const),
    version: (name: string) => byName.get(name),
    path: (from: string, to: string) => paths.get(from)?.get(to),
  });
}

/**
 * True for a value made by {@link defineVersions}.
 *
 * @example
 * ```ts
 * Object.values(module).filter(isVersionedResource);
 * ```
 */
export function isVersionedResource(value: unknown): value is VersionedResource {
  return typeof value === 'object' && value !== null && (value as { versioned?: unknown }).versioned === true && Array.isArray((value as { versions?: unknown }).versions);
}

/** Breadth-first: the fewest conversion steps from `source` to every reachable version. */
function shortestPaths(source: string, edges: ReadonlyMap<string, ReadonlyMap<string, ConversionStep>>): Map<string, readonly ConversionStep[]> {
  const found = new Map<string, readonly ConversionStep[]>([[source, []]]);
  const queue = [source];
  for (let current = queue.shift(); current !== undefined; current = queue.shift()) {
    const here = found.get(current) ?? [];
    for (const [next, step] of edges.get(current) ?? []) {
      if (found.has(next)) continue;
      found.set(next, [...here, step]);
      queue.push(next);
    }
  }
  return found;
}

function invalid(path: string, message: string, fix: string): never {
  throw new SchemaError('InvalidDeclaration', [{ path, message, fix }]);
}
