/**
 * TypeBox (JSON Schema draft 7 / 2019-09 as TypeBox emits it) in, a Kubernetes structural
 * `JSONSchemaProps` out — the role kube-rs' `StructuralSchemaRewriter` plays for schemars.
 *
 * Guarantees:
 * - {@link toStructuralSchema} either returns a schema that passes {@link validateStructuralSchema}
 *   or throws a {@link SchemaError} naming the schema path and the fix. It never silently drops a
 *   constraint: a construct with no structural equivalent (a union of two object types, a key
 *   pattern on a `Record`, a tuple, a recursive type) is an error, not a looser schema.
 * - The output is plain JSON data (no symbols, no shared references) with keys in one canonical
 *   order, so serialising it twice gives the same bytes.
 * - The input is never mutated.
 *
 * Mapping (input → output): `$id`/`$schema`/TypeBox's symbol keys → dropped; `anyOf` of `const`
 * literals → `type` + `enum`; `anyOf [T, {type:'null'}]` → T + `nullable: true`;
 * `anyOf [integer, string]` → `x-kubernetes-int-or-string`; `patternProperties` (a `Record` with
 * string keys) → `additionalProperties`; `const` → one-value `enum`; `additionalProperties: false`
 * → dropped (Kubernetes forbids it next to `properties`; pruning closes objects instead);
 * `additionalProperties: true` and schemas with no type (`Type.Unknown()`) →
 * `x-kubernetes-preserve-unknown-fields`; `uniqueItems: true` on scalar items →
 * `x-kubernetes-list-type: set`; draft-6 numeric `exclusiveMinimum`/`exclusiveMaximum` → draft-4
 * booleans; `allOf` of object types (`Type.Intersect`) → one merged object; `$ref` → inlined from
 * `$defs`, `definitions`, any `$id` in the tree or the `definitions` option. `x-kubernetes-*`
 * extensions (given through `Type.Unsafe` or options) are kept as written.
 */
import type { TSchema } from '@sinclair/typebox';
import type { ValidationRule } from 'kubernetes-types/apiextensions/v1.d.ts';
import { fail, SchemaError, type SchemaProblem } from './errors.ts';

/** Any JSON value, as found in `default`, `example` and `enum`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The six types a structural schema may name (`null` is expressed with `nullable`). */
export type StructuralType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean';

/**
 * A Kubernetes `apiextensions.k8s.io/v1` `JSONSchemaProps` as Operon emits it: the fields a
 * structural schema may carry, with the `x-kubernetes-*` extensions typed (kubernetes-types leaves
 * them out). The forbidden fields (`$ref`, `patternProperties`, ...) are deliberately absent.
 */
export interface JSONSchemaProps {
  type?: StructuralType;
  format?: string;
  title?: string;
  description?: string;
  nullable?: boolean;
  default?: JsonValue;
  example?: JsonValue;
  enum?: JsonValue[];
  minimum?: number;
  exclusiveMinimum?: boolean;
  maximum?: number;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  items?: JSONSchemaProps;
  minProperties?: number;
  maxProperties?: number;
  required?: string[];
  properties?: { [name: string]: JSONSchemaProps };
  additionalProperties?: JSONSchemaProps | boolean;
  allOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  externalDocs?: { description?: string; url?: string };
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'granular' | 'atomic';
  'x-kubernetes-validations'?: ValidationRule[];
}

/** A schema as input: a TypeBox schema, or any JSON Schema object written by hand. */
export type SchemaInput = TSchema | { readonly [keyword: string]: unknown };

export interface StructuralOptions {
  /**
   * Schemas a `$ref` may name, by `$id` or by key. TypeBox's `Type.Ref(T)` emits only
   * `{ $ref: T.$id }`, so the target must be given here unless it also appears in the tree.
   */
  definitions?: { readonly [name: string]: SchemaInput } | readonly SchemaInput[];
  /** Prefix of every path in error messages, e.g. `Printer.spec`. Default `$`. */
  path?: string;
}

/**
 * The order keys are written in. Serialisers keep insertion order, so one fixed order makes the
 * YAML of a CRD byte-stable however the schema was declared.
 */
export const SCHEMA_KEY_ORDER: readonly (keyof JSONSchemaProps)[] = [
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'default',
  'example',
  'enum',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'items',
  'minProperties',
  'maxProperties',
  'required',
  'properties',
  'additionalProperties',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'externalDocs',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
];

const ALLOWED = new Set<string>(SCHEMA_KEY_ORDER);
const TYPES = new Set<string>(['object', 'array', 'string', 'number', 'integer', 'boolean']);
const SCALARS = new Set<string>(['string', 'number', 'integer', 'boolean']);

/**
 * JSON Schema annotations with no `JSONSchemaProps` field. They carry no validation, so dropping
 * them loses nothing the API server would enforce; keeping them would make strict field
 * validation (`kubectl apply`'s default) reject the CRD.
 */
const DROPPED_ANNOTATIONS = new Set<string>([
  '$id',
  '$schema',
  '$comment',
  '$defs',
  'definitions',
  'readOnly',
  'writeOnly',
  'deprecated',
  'contentEncoding',
  'contentMediaType',
]);

/** Where the structural rules forbid a field, with the fix for each. */
const FORBIDDEN: { readonly [key: string]: string } = {
  $ref: 'inline the referenced schema (pass it in `definitions` so the rewriter can)',
  $schema: 'remove `$schema`',
  $id: 'remove `$id`',
  id: 'remove `id`',
  const: 'use a one-value `enum`',
  patternProperties: 'use `additionalProperties` (TypeBox `Type.Record(Type.String(), T)`)',
  definitions: 'inline the definitions where they are used',
  $defs: 'inline the definitions where they are used',
  dependencies: 'express the dependency as an `x-kubernetes-validations` CEL rule',
  additionalItems: 'use an array with one `items` schema instead of a tuple',
  unevaluatedProperties: 'remove it; pruning drops unknown fields',
};

/**
 * Rewrites a TypeBox or JSON Schema into a Kubernetes structural schema, then checks the result
 * with {@link validateStructuralSchema}.
 *
 * @throws {SchemaError} `Unsupported`, `UnresolvedRef`, `Recursive` or `NotStructural`, naming the
 *   schema path and the fix.
 * @example
 * ```ts
 * toStructuralSchema(Type.Object({ coin: Type.Union([Type.Literal('bitcoin'), Type.Literal('ethereum')]) }));
 * // { type: 'object', required: ['coin'],
 * //   properties: { coin: { type: 'string', enum: ['bitcoin', 'ethereum'] } } }
 * ```
 */
export function toStructuralSchema(schema: SchemaInput, options: StructuralOptions = {}): JSONSchemaProps {
  const path = options.path ?? '$';
  const ctx: Context = { definitions: new Map(), resolving: [] };
  addDefinitions(ctx, options.definitions);
  collectDefinitions(ctx, schema, new Set());
  const result = rewrite(schema, path, ctx, 'schema');
  assertStructuralSchema(result, { path });
  return result;
}

export interface ValidateOptions {
  /** Prefix of every reported path. Default `$`. */
  path?: string;
  /** Apply the extra rules of a CRD's root schema (`type: object`, `metadata` left alone). */
  root?: boolean;
}

/**
 * Checks a schema against Kubernetes' structural-schema rules and returns every problem found
 * (empty when the schema is structural). It does not rewrite anything; use it on schemas written
 * by hand or received from elsewhere.
 *
 * @example
 * ```ts
 * validateStructuralSchema({ type: 'object', properties: { a: { $ref: '#/x' } } });
 * // [{ path: '$.properties.a.$ref', message: '`$ref` is not allowed in a structural schema', fix: 'inline ...' }, ...]
 * ```
 */
export function validateStructuralSchema(schema: unknown, options: ValidateOptions = {}): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const path = options.path ?? '$';
  check(schema, path, false, false, problems);
  if (options.root && isRecord(schema)) checkRoot(schema, path, problems);
  return problems;
}

/**
 * Like {@link validateStructuralSchema}, but throws one {@link SchemaError} of kind `NotStructural`
 * listing every problem.
 *
 * @example
 * ```ts
 * assertStructuralSchema({ type: 'string', nullable: true }); // passes
 * assertStructuralSchema({ type: ['string', 'null'] });        // throws: "$.type: ... Fix: ..."
 * ```
 */
export function assertStructuralSchema(schema: unknown, options: ValidateOptions = {}): asserts schema is JSONSchemaProps {
  const problems = validateStructuralSchema(schema, options);
  const [first, ...rest] = problems;
  if (first) throw new SchemaError('NotStructural', [first, ...rest]);
}

/**
 * Returns a copy of a structural schema with every node's keys in {@link SCHEMA_KEY_ORDER}
 * (property names keep their declared order). Unknown keys go last, alphabetically, so even a
 * hand-edited schema serialises stably.
 *
 * @example
 * ```ts
 * Object.keys(canonicalSchema({ enum: ['a'], type: 'string' })); // ['type', 'enum']
 * ```
 */
export function canonicalSchema(schema: JSONSchemaProps): JSONSchemaProps {
  return canonical(schema as Node) as JSONSchemaProps;
}

// ---------------------------------------------------------------------------------------------
// Rewriting

type Node = { readonly [keyword: string]: unknown };
type Mutable = { [keyword: string]: unknown };

interface Context {
  definitions: Map<string, Node>;
  /** `$ref`s and `$id`s being expanded, outermost first: a repeat means recursion. */
  resolving: string[];
}

/** `schema`: an ordinary node, which must end with a type. `validation`: inside allOf/anyOf/oneOf/not. */
type Mode = 'schema' | 'validation';

function addDefinitions(ctx: Context, definitions: StructuralOptions['definitions']): void {
  if (!definitions) return;
  if (isArrayOf(definitions)) {
    for (const def of definitions) {
      const id = (def as Node)['$id'];
      if (typeof id === 'string') ctx.definitions.set(id, def as Node);
    }
    return;
  }
  for (const [name, def] of Object.entries(definitions)) {
    ctx.definitions.set(name, def as Node);
    const id = (def as Node)['$id'];
    if (typeof id === 'string') ctx.definitions.set(id, def as Node);
  }
}

/** Finds every `$id`, `$defs` and `definitions` entry so `$ref`s can be resolved wherever they point. */
function collectDefinitions(ctx: Context, value: unknown, seen: Set<unknown>): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) {
    for (const item of value) collectDefinitions(ctx, item, seen);
    return;
  }
  const node = value as Node;
  if (typeof node['$id'] === 'string' && !ctx.definitions.has(node['$id'])) ctx.definitions.set(node['$id'], node);
  for (const container of ['$defs', 'definitions']) {
    const defs = node[container];
    if (isRecord(defs)) {
      for (const [name, def] of Object.entries(defs)) {
        if (isRecord(def)) {
          if (!ctx.definitions.has(name)) ctx.definitions.set(name, def);
          ctx.definitions.set(`#/${container}/${name}`, def);
        }
      }
    }
  }
  for (const key of Object.keys(node)) collectDefinitions(ctx, node[key], seen);
}

function rewrite(input: unknown, path: string, ctx: Context, mode: Mode): JSONSchemaProps {
  if (!isRecord(input)) {
    return fail('Unsupported', {
      path,
      message: `expected a schema object, found ${JSON.stringify(input)}`,
      fix: 'use a TypeBox type or a JSON Schema object here',
    });
  }
  const id = input['$id'];
  if (typeof id === 'string') {
    if (ctx.resolving.includes(id)) return recursive(path, id);
    ctx.resolving.push(id);
    try {
      return rewriteNode(input, path, ctx, mode);
    } finally {
      ctx.resolving.pop();
    }
  }
  return rewriteNode(input, path, ctx, mode);
}

function rewriteNode(input: Node, path: string, ctx: Context, mode: Mode): JSONSchemaProps {
  if (typeof input['$ref'] === 'string') return rewriteRef(input, input['$ref'], path, ctx, mode);

  const s: Mutable = {};
  for (const key of Object.keys(input)) {
    if (DROPPED_ANNOTATIONS.has(key)) continue;
    s[key] = input[key];
  }
  if (Array.isArray(s['examples'])) {
    if (s['example'] === undefined && s['examples'].length > 0) s['example'] = s['examples'][0];
    delete s['examples'];
  }

  const ownType = s['type'] !== undefined || s['x-kubernetes-int-or-string'] === true;

  // A union has no type of its own; with one, the branches only add checks to a typed node.
  for (const junctor of ['anyOf', 'oneOf'] as const) {
    if (s[junctor] !== undefined && !ownType && mode === 'schema') return rewriteUnion(s, junctor, path, ctx);
  }
  if (s['allOf'] !== undefined && mode === 'schema' && allOfDeclaresShape(s['allOf'], ctx)) {
    return rewriteIntersection(s, path, ctx);
  }

  if ('const' in s) {
    const value = s['const'];
    delete s['const'];
    if (s['enum'] === undefined) s['enum'] = [value];
    if (s['type'] === undefined && mode === 'schema') s['type'] = jsonType(value, `${path}.const`);
  }

  normaliseType(s, path);
  normaliseBounds(s, path);

  const out: Mutable = {};
  for (const [key, value] of Object.entries(s)) {
    const at = `${path}${segment(key)}`;
    switch (key) {
      case 'properties': {
        if (!isRecord(value)) return fail('Unsupported', { path: at, message: '`properties` must be an object', fix: 'map each property name to a schema' });
        const props: { [name: string]: JSONSchemaProps } = {};
        for (const [name, prop] of Object.entries(value)) props[name] = rewrite(prop, `${at}${segment(name)}`, ctx, mode);
        out['properties'] = props;
        break;
      }
      case 'patternProperties':
        rewritePatternProperties(value, s, out, at, ctx, mode);
        break;
      case 'additionalProperties':
        if (value === false) break; // forbidden next to properties; pruning closes the object anyway
        if (value === true) {
          out['x-kubernetes-preserve-unknown-fields'] = true;
          break;
        }
        if (s['properties'] !== undefined) {
          return fail('Unsupported', {
            path: at,
            message: 'an object cannot have both `properties` and an `additionalProperties` schema in Kubernetes',
            fix: 'use either fixed properties (Type.Object) or a map (Type.Record), or nest the map under its own property',
          });
        }
        out['additionalProperties'] = rewrite(value, at, ctx, mode);
        break;
      case 'unevaluatedProperties':
        if (value === false) break; // TypeBox emits it to close intersections; pruning closes objects
        return fail('Unsupported', { path: at, message: '`unevaluatedProperties` has no Kubernetes equivalent', fix: FORBIDDEN['unevaluatedProperties'] ?? '' });
      case 'items':
        if (Array.isArray(value)) {
          return fail('Unsupported', {
            path: at,
            message: 'tuples (an `items` array, TypeBox `Type.Tuple`) are not allowed in a structural schema',
            fix: 'use Type.Array with one item type, or an object with named fields',
          });
        }
        out['items'] = rewrite(value, at, ctx, mode);
        break;
      case 'additionalItems':
        if (value === false && Array.isArray(s['items'])) break; // reported with the tuple itself
        return fail('Unsupported', { path: at, message: '`additionalItems` is not allowed in a structural schema', fix: FORBIDDEN['additionalItems'] ?? '' });
      case 'uniqueItems':
        if (value !== true) break;
        rewriteUniqueItems(s, out, at);
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        if (!Array.isArray(value)) return fail('Unsupported', { path: at, message: `\`${key}\` must be an array`, fix: 'list the subschemas in an array' });
        out[key] = value.map((sub, i) => rewrite(sub, `${at}[${i}]`, ctx, 'validation'));
        break;
      case 'not':
        out['not'] = rewrite(value, at, ctx, 'validation');
        break;
      case 'x-kubernetes-preserve-unknown-fields':
        if (value === true) out[key] = true; // `false` is rejected by the API server and means the default
        break;
      case 'dependencies':
      case 'dependentRequired':
      case 'dependentSchemas':
        return fail('Unsupported', { path: at, message: `\`${key}\` is not allowed in a structural schema`, fix: FORBIDDEN['dependencies'] ?? '' });
      case 'id':
        return fail('Unsupported', { path: at, message: '`id` is not allowed in a structural schema', fix: FORBIDDEN['id'] ?? '' });
      case 'required':
        if (Array.isArray(value) && value.length === 0) break; // TypeBox emits none, hand-written schemas often do
        out[key] = cloneJson(value);
        break;
      default:
        if (!ALLOWED.has(key)) {
          return fail('Unsupported', {
            path: at,
            message: `\`${key}\` is not a field of Kubernetes' JSONSchemaProps; the API server would reject or silently drop it`,
            fix: `remove \`${key}\`${suggestion(key)}`,
          });
        }
        out[key] = cloneJson(value);
    }
  }

  if (mode === 'schema' && out['type'] === undefined && out['x-kubernetes-int-or-string'] !== true) {
    const inferred = inferType(out);
    if (inferred) out['type'] = inferred;
    else if (out['x-kubernetes-preserve-unknown-fields'] !== true) {
      if (Object.keys(out).every((k) => ANNOTATIONS.has(k))) {
        // `Type.Unknown()` / `Type.Any()`: any value; Kubernetes says so with preserve-unknown-fields.
        out['x-kubernetes-preserve-unknown-fields'] = true;
      } else {
        return fail('Unsupported', {
          path,
          message: 'cannot tell the type of this schema, and Kubernetes requires one on every node',
          fix: 'add a `type`, or use Type.Unsafe({ "x-kubernetes-preserve-unknown-fields": true }) for free-form data',
        });
      }
    }
  }
  return canonical(out) as JSONSchemaProps;
}

/** Keys that describe without constraining: a node with only these accepts anything. */
const ANNOTATIONS = new Set<string>(['title', 'description', 'default', 'example', 'nullable', 'externalDocs']);

function rewriteRef(input: Node, ref: string, path: string, ctx: Context, mode: Mode): JSONSchemaProps {
  const target = ctx.definitions.get(ref) ?? ctx.definitions.get(ref.replace(/^#\/(\$defs|definitions)\//, ''));
  if (!target) {
    return fail('UnresolvedRef', {
      path: `${path}.$ref`,
      message: `\`$ref: ${JSON.stringify(ref)}\` names no known schema`,
      fix: `pass the schema with $id ${JSON.stringify(ref)} in \`definitions\`, or use it directly instead of Type.Ref`,
    });
  }
  if (ctx.resolving.includes(ref)) return recursive(path, ref);
  // Keywords next to `$ref` (a description, a default) refine the target at this use site.
  const merged: Mutable = { ...target };
  delete merged['$id'];
  for (const key of Object.keys(input)) if (key !== '$ref') merged[key] = input[key];
  ctx.resolving.push(ref);
  const targetId = target['$id'];
  const pushedId = typeof targetId === 'string' && targetId !== ref;
  if (pushedId) ctx.resolving.push(targetId);
  try {
    return rewriteNode(merged, path, ctx, mode);
  } finally {
    if (pushedId) ctx.resolving.pop();
    ctx.resolving.pop();
  }
}

function recursive(path: string, name: string): never {
  return fail('Recursive', {
    path,
    message: `the schema refers to itself through ${JSON.stringify(name)}; a structural schema must be a finite tree`,
    fix: 'bound the depth by declaring each level, or mark this field Type.Unsafe({ "x-kubernetes-preserve-unknown-fields": true })',
  });
}

/** The branches of a union, with nested plain unions flattened and `$ref`s resolved. */
function unionMembers(s: Node, junctor: 'anyOf' | 'oneOf', path: string, ctx: Context): { node: Node; path: string }[] {
  const list = s[junctor];
  if (!Array.isArray(list) || list.length === 0) {
    return fail('Unsupported', { path: `${path}.${junctor}`, message: `\`${junctor}\` must be a non-empty array`, fix: 'list the alternatives' });
  }
  const members: { node: Node; path: string }[] = [];
  list.forEach((raw, i) => {
    const at = `${path}.${junctor}[${i}]`;
    let node = raw;
    if (isRecord(node) && typeof node['$ref'] === 'string') node = ctx.definitions.get(node['$ref']) ?? node;
    if (!isRecord(node)) return fail('Unsupported', { path: at, message: 'expected a schema object', fix: 'use a TypeBox type here' });
    const nested = node['anyOf'] ?? node['oneOf'];
    const onlyJunctor = Object.keys(node).every((k) => k === 'anyOf' || k === 'oneOf' || DROPPED_ANNOTATIONS.has(k));
    if (Array.isArray(nested) && onlyJunctor) {
      members.push(...unionMembers(node, node['anyOf'] ? 'anyOf' : 'oneOf', at, ctx));
    } else {
      members.push({ node, path: at });
    }
  });
  return members;
}

function rewriteUnion(s: Mutable, junctor: 'anyOf' | 'oneOf', path: string, ctx: Context): JSONSchemaProps {
  const members = unionMembers(s, junctor, path, ctx);
  const siblings: Mutable = { ...s };
  delete siblings[junctor];
  const isNull = (m: { node: Node }): boolean => m.node['type'] === 'null';
  const nullable = members.some(isNull);
  const rest = members.filter((m) => !isNull(m));
  if (rest.length === 0) {
    return fail('Unsupported', { path, message: 'a value that can only be null has no Kubernetes type', fix: 'give the field a real type and make it optional or nullable' });
  }

  let result: JSONSchemaProps;
  if (rest.every((m) => literalValues(m.node) !== undefined)) {
    result = rewriteLiteralUnion(rest, siblings, path);
  } else if (rest.length === 1 && rest[0]) {
    result = rewrite({ ...rest[0].node, ...siblings }, path, ctx, 'schema');
  } else if (isIntOrString(rest.map((m) => m.node))) {
    result = rewrite({ ...siblings, 'x-kubernetes-int-or-string': true }, path, ctx, 'schema');
  } else {
    const types = rest.map((m) => describeType(m.node));
    const allObjects = types.every((t) => t === 'object');
    return fail('Unsupported', {
      path,
      message: allObjects
        ? `a union of ${rest.length} object types cannot be expressed in a structural schema`
        : `a union of different types (${types.join(' | ')}) cannot be expressed in a structural schema`,
      fix: allObjects
        ? 'merge the variants into one Type.Object with optional fields (enforce "exactly one" with an x-kubernetes-validations rule), or mark the field Type.Unsafe({ "x-kubernetes-preserve-unknown-fields": true })'
        : 'pick one type (Type.Union([Type.Integer(), Type.String()]) is allowed as int-or-string), or mark the field Type.Unsafe({ "x-kubernetes-preserve-unknown-fields": true })',
    });
  }
  if (nullable) result = canonical({ ...result, nullable: true }) as JSONSchemaProps;
  return result;
}

/** The values a branch admits when it is a literal (`const`) or an `enum`, else undefined. */
function literalValues(node: Node): unknown[] | undefined {
  const structural = Object.keys(node).filter((k) => !ANNOTATIONS.has(k) && !DROPPED_ANNOTATIONS.has(k) && k !== 'type');
  if (structural.length !== 1) return undefined;
  if (structural[0] === 'const') return [node['const']];
  if (structural[0] === 'enum' && Array.isArray(node['enum'])) return node['enum'];
  return undefined;
}

function rewriteLiteralUnion(rest: { node: Node; path: string }[], siblings: Mutable, path: string): JSONSchemaProps {
  const values: JsonValue[] = [];
  const types = new Set<string>();
  for (const m of rest) {
    for (const value of literalValues(m.node) ?? []) {
      const declared = m.node['type'];
      types.add(typeof declared === 'string' ? declared : jsonType(value, m.path));
      if (!values.some((v) => deepEqual(v, value))) values.push(cloneJson(value) as JsonValue);
    }
  }
  // TypeBox types numeric literals as `number`; an all-integer mix of integer/number stays `number`.
  if (types.has('integer') && types.has('number')) types.delete('integer');
  if (types.size !== 1) {
    return fail('Unsupported', {
      path,
      message: `an enum mixing ${[...types].join(' and ')} values cannot be expressed in a structural schema`,
      fix: 'make every literal the same type (e.g. all strings)',
    });
  }
  const out: Mutable = { ...siblings, type: [...types][0], enum: values };
  normaliseType(out, path);
  return canonical(out) as JSONSchemaProps;
}

function isIntOrString(nodes: Node[]): boolean {
  if (nodes.length !== 2) return false;
  const kinds = nodes.map((n) => {
    const extra = Object.keys(n).filter((k) => k !== 'type' && k !== 'format' && !ANNOTATIONS.has(k) && !DROPPED_ANNOTATIONS.has(k));
    return extra.length === 0 ? n['type'] : undefined;
  });
  return kinds.includes('integer') && kinds.includes('string');
}

/** True when `allOf` lists object shapes to merge (TypeBox `Intersect`), not extra checks. */
function allOfDeclaresShape(allOf: unknown, ctx: Context): boolean {
  if (!Array.isArray(allOf)) return false;
  return allOf.some((raw) => {
    const node = isRecord(raw) && typeof raw['$ref'] === 'string' ? ctx.definitions.get(raw['$ref']) : raw;
    return isRecord(node) && (node['type'] !== undefined || node['properties'] !== undefined || node['allOf'] !== undefined);
  });
}

function rewriteIntersection(s: Mutable, path: string, ctx: Context): JSONSchemaProps {
  const properties: Mutable = {};
  const required: string[] = [];
  const siblings: Mutable = { ...s };
  delete siblings['allOf'];
  const visit = (list: unknown[], at: string): void => {
    list.forEach((raw, i) => {
      const here = `${at}.allOf[${i}]`;
      const node = isRecord(raw) && typeof raw['$ref'] === 'string' ? ctx.definitions.get(raw['$ref']) : raw;
      if (!isRecord(node)) return fail('UnresolvedRef', { path: here, message: 'cannot resolve this branch', fix: 'pass the referenced schema in `definitions`' });
      if (Array.isArray(node['allOf'])) visit(node['allOf'], here);
      const type = node['type'];
      if (type !== undefined && type !== 'object') {
        return fail('Unsupported', {
          path: here,
          message: `an intersection with a non-object type (${String(type)}) cannot be expressed in a structural schema`,
          fix: 'intersect only object types, or use Type.Composite',
        });
      }
      const ap = node['additionalProperties'];
      if (ap !== undefined && ap !== false) {
        return fail('Unsupported', { path: `${here}.additionalProperties`, message: 'an intersection branch with additionalProperties cannot be merged', fix: 'intersect plain Type.Object schemas' });
      }
      const props = node['properties'];
      if (isRecord(props)) {
        for (const [name, prop] of Object.entries(props)) {
          if (name in properties && !deepEqual(properties[name], prop)) {
            return fail('Unsupported', {
              path: `${here}.properties${segment(name)}`,
              message: `property "${name}" is declared differently by two intersected objects`,
              fix: 'declare the property once, or give both the same schema',
            });
          }
          properties[name] = prop;
        }
      }
      if (Array.isArray(node['required'])) for (const r of node['required']) if (typeof r === 'string' && !required.includes(r)) required.push(r);
    });
  };
  visit(s['allOf'] as unknown[], path);
  const merged: Mutable = { ...siblings, type: 'object', properties };
  if (required.length > 0) merged['required'] = required;
  return rewrite(merged, path, ctx, 'schema');
}

function rewritePatternProperties(value: unknown, s: Node, out: Mutable, at: string, ctx: Context, mode: Mode): void {
  if (!isRecord(value)) return fail('Unsupported', { path: at, message: '`patternProperties` must be an object', fix: 'use Type.Record(Type.String(), T)' });
  const entries = Object.entries(value);
  const [first] = entries;
  if (!first || entries.length > 1) {
    return fail('Unsupported', { path: at, message: 'only one key pattern can become `additionalProperties`', fix: 'use Type.Record(Type.String(), T) with a single value type' });
  }
  if (s['properties'] !== undefined || (s['additionalProperties'] !== undefined && s['additionalProperties'] !== false)) {
    return fail('Unsupported', {
      path: at,
      message: 'a map (patternProperties) next to fixed properties cannot be expressed in Kubernetes',
      fix: 'nest the map under its own property',
    });
  }
  const [pattern, schema] = first;
  if (!CATCH_ALL_KEY_PATTERNS.has(pattern)) {
    return fail('Unsupported', {
      path: `${at}${segment(pattern)}`,
      message: `Kubernetes cannot restrict map keys to the pattern ${JSON.stringify(pattern)}`,
      fix: 'use Type.Record(Type.String(), T) and, if keys must match, add an x-kubernetes-validations rule such as self.all(k, k.matches(...)) with maxProperties set',
    });
  }
  out['additionalProperties'] = rewrite(schema, `${at}${segment(pattern)}`, ctx, mode);
}

/** Key patterns that admit every string: TypeBox's `Record(Type.String(), T)` emits the first. */
const CATCH_ALL_KEY_PATTERNS = new Set<string>(['^(.*)$', '^.*$', '.*', '']);

function rewriteUniqueItems(s: Node, out: Mutable, at: string): void {
  const items = s['items'];
  const itemType = isRecord(items) ? items['type'] : undefined;
  const listType = s['x-kubernetes-list-type'];
  if (typeof itemType === 'string' && SCALARS.has(itemType) && (listType === undefined || listType === 'set')) {
    // Kubernetes forbids uniqueItems (quadratic to check) but enforces uniqueness of a `set` list.
    out['x-kubernetes-list-type'] = 'set';
    return;
  }
  return fail('Unsupported', {
    path: at,
    message: '`uniqueItems: true` is forbidden in structural schemas, and only lists of scalars can become a set',
    fix: 'for objects use Type.Array(T, { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] })',
  });
}

function normaliseType(s: Mutable, path: string): void {
  let type = s['type'];
  if (Array.isArray(type)) {
    const nonNull = type.filter((t) => t !== 'null');
    if (nonNull.length === 1 && type.length === 2) {
      type = nonNull[0];
      s['nullable'] = true;
    } else {
      return fail('Unsupported', {
        path: `${path}.type`,
        message: `a list of types (${JSON.stringify(type)}) is not allowed in a structural schema`,
        fix: 'use one type; for "T or null" use Type.Union([T, Type.Null()]), which becomes nullable',
      });
    }
  }
  if (type === undefined) return;
  if (type === 'null') {
    return fail('Unsupported', { path: `${path}.type`, message: '`type: null` is not allowed', fix: 'use Type.Union([T, Type.Null()]) (becomes `nullable: true`) on a real type' });
  }
  if (typeof type !== 'string' || !TYPES.has(type)) {
    return fail('Unsupported', {
      path: `${path}.type`,
      message: `${JSON.stringify(type)} is not a JSON type Kubernetes can store`,
      fix: NON_JSON_TYPE_FIXES[String(type)] ?? 'use one of object, array, string, number, integer, boolean',
    });
  }
  s['type'] = type;
}

const NON_JSON_TYPE_FIXES: { readonly [type: string]: string } = {
  Date: 'use Type.String({ format: "date-time" })',
  bigint: 'use Type.Integer({ format: "int64" })',
  Uint8Array: 'use Type.String({ format: "byte" }) (base64)',
  undefined: 'make the property optional with Type.Optional instead',
  void: 'make the property optional with Type.Optional instead',
  Function: 'functions cannot be stored; remove the property',
  symbol: 'symbols cannot be stored; use a string',
};

/** Draft 6+ numeric exclusive bounds → draft 4 booleans next to minimum/maximum. */
function normaliseBounds(s: Mutable, path: string): void {
  for (const [exclusive, bound, stricter] of [
    ['exclusiveMinimum', 'minimum', Math.max],
    ['exclusiveMaximum', 'maximum', Math.min],
  ] as const) {
    const value = s[exclusive];
    if (typeof value !== 'number') continue;
    const current = s[bound];
    if (typeof current === 'number' && stricter(current, value) === current && current !== value) {
      delete s[exclusive]; // the inclusive bound is already stricter
      continue;
    }
    if (current !== undefined && typeof current !== 'number') {
      return fail('Unsupported', { path: `${path}.${bound}`, message: `\`${bound}\` must be a number`, fix: `give ${bound} a numeric value` });
    }
    s[bound] = value;
    s[exclusive] = true;
  }
}

function inferType(out: Node): StructuralType | undefined {
  if (out['properties'] !== undefined || out['additionalProperties'] !== undefined) return 'object';
  if (out['items'] !== undefined) return 'array';
  if (out['minLength'] !== undefined || out['maxLength'] !== undefined || out['pattern'] !== undefined) return 'string';
  const values = out['enum'];
  if (Array.isArray(values) && values.length > 0) {
    const types = new Set(values.filter((v) => v !== null).map((v) => jsonType(v, '')));
    if (types.size === 1) return [...types][0];
  }
  return undefined;
}

function jsonType(value: unknown, path: string): StructuralType {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (Array.isArray(value)) return 'array';
  if (value !== null && typeof value === 'object') return 'object';
  return fail('Unsupported', { path, message: `the literal ${String(value)} has no Kubernetes type`, fix: 'use a string, number, boolean, array or object literal' });
}

function describeType(node: Node): string {
  const type = node['type'];
  if (typeof type === 'string') return type;
  if (node['properties'] !== undefined || node['patternProperties'] !== undefined) return 'object';
  if ('const' in node) return JSON.stringify(node['const']);
  return 'unknown';
}

function suggestion(key: string): string {
  const hints: { [key: string]: string } = {
    examples: ' (use `example` with one value)',
    if: ' (express the condition as an x-kubernetes-validations CEL rule)',
    then: ' (express the condition as an x-kubernetes-validations CEL rule)',
    else: ' (express the condition as an x-kubernetes-validations CEL rule)',
    contains: ' (express it as an x-kubernetes-validations CEL rule, e.g. self.exists(x, ...))',
    propertyNames: ' (express it as an x-kubernetes-validations CEL rule over self)',
  };
  return hints[key] ?? '';
}

// ---------------------------------------------------------------------------------------------
// Validation

function check(value: unknown, path: string, inValidation: boolean, parentIntOrString: boolean, problems: SchemaProblem[]): void {
  if (!isRecord(value)) {
    problems.push({ path, message: `expected a schema object, found ${JSON.stringify(value)}`, fix: 'use a schema object here' });
    return;
  }
  const s = value;
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;

  for (const key of Object.keys(s)) {
    const at = `${path}${segment(key)}`;
    const forbidden = FORBIDDEN[key];
    if (forbidden !== undefined) problems.push({ path: at, message: `\`${key}\` is not allowed in a structural schema`, fix: forbidden });
    else if (!ALLOWED.has(key) && key !== 'uniqueItems') {
      problems.push({ path: at, message: `\`${key}\` is not a field of Kubernetes' JSONSchemaProps`, fix: `remove \`${key}\`` });
    }
  }

  const type = s['type'];
  if (Array.isArray(type)) {
    problems.push({ path: `${path}.type`, message: 'a list of types is not allowed', fix: 'use one type, with `nullable: true` for null' });
  } else if (type === 'null') {
    problems.push({ path: `${path}.type`, message: '`type: null` is not allowed', fix: 'use `nullable: true` on a real type' });
  } else if (type !== undefined && (typeof type !== 'string' || !TYPES.has(type))) {
    problems.push({ path: `${path}.type`, message: `${JSON.stringify(type)} is not a valid type`, fix: 'use one of object, array, string, number, integer, boolean' });
  }
  if (s['uniqueItems'] === true) {
    problems.push({ path: `${path}.uniqueItems`, message: '`uniqueItems: true` is not allowed (its check is quadratic)', fix: 'use `x-kubernetes-list-type: set` (scalars) or `map` (objects)' });
  }
  if (Array.isArray(s['items'])) {
    problems.push({ path: `${path}.items`, message: '`items` must be one schema, not a list (tuple)', fix: 'use one item schema' });
  }
  if (s['properties'] !== undefined && s['additionalProperties'] !== undefined) {
    problems.push({
      path: `${path}.additionalProperties`,
      message: '`properties` and `additionalProperties` are mutually exclusive (this includes `additionalProperties: false`)',
      fix: 'drop `additionalProperties` (pruning removes unknown fields) or move the map under its own property',
    });
  }
  if (s['x-kubernetes-preserve-unknown-fields'] === false) {
    problems.push({ path: `${path}${segment('x-kubernetes-preserve-unknown-fields')}`, message: 'must be true or absent', fix: 'remove it' });
  }
  if (intOrString && type !== undefined) {
    problems.push({ path: `${path}.type`, message: '`type` must be empty when `x-kubernetes-int-or-string` is true', fix: 'remove `type`' });
  }

  if (inValidation) {
    // x-kubernetes-validations too: the API server refuses CEL rules inside junctors ("must be empty to be structural").
    for (const key of ['type', 'description', 'default', 'nullable', 'additionalProperties', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-validations'] as const) {
      if (s[key] === undefined) continue;
      if (key === 'type' && parentIntOrString) continue; // `anyOf: [{type: integer}, {type: string}]` is the one exception
      problems.push({
        path: `${path}${segment(key)}`,
        message: `\`${key}\` is not allowed inside allOf/anyOf/oneOf/not`,
        fix: `move \`${key}\` to the enclosing schema; junctors may only add value checks`,
      });
    }
  } else if (type === undefined && !intOrString && !preserve) {
    problems.push({
      path,
      message: 'every node of a structural schema needs a `type`',
      fix: 'add a `type`, or `x-kubernetes-preserve-unknown-fields: true` for free-form data, or `x-kubernetes-int-or-string: true`',
    });
  }

  const props = s['properties'];
  if (isRecord(props)) for (const [name, prop] of Object.entries(props)) check(prop, `${path}.properties${segment(name)}`, inValidation, false, problems);
  const ap = s['additionalProperties'];
  if (isRecord(ap)) check(ap, `${path}.additionalProperties`, inValidation, false, problems);
  const items = s['items'];
  if (isRecord(items)) check(items, `${path}.items`, inValidation, false, problems);
  for (const junctor of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = s[junctor];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      problems.push({ path: `${path}.${junctor}`, message: `\`${junctor}\` must be an array`, fix: 'list the subschemas' });
      continue;
    }
    list.forEach((sub, i) => {
      check(sub, `${path}.${junctor}[${i}]`, true, intOrString, problems);
      if (!inValidation) checkSkeleton(sub, s, `${path}.${junctor}[${i}]`, problems);
    });
  }
  if (s['not'] !== undefined) {
    check(s['not'], `${path}.not`, true, intOrString, problems);
    if (!inValidation) checkSkeleton(s['not'], s, `${path}.not`, problems);
  }
}

/** Structural rule: a field named inside a junctor must also be declared outside it. */
function checkSkeleton(validation: unknown, skeleton: Node, path: string, problems: SchemaProblem[]): void {
  if (!isRecord(validation)) return;
  if (skeleton['x-kubernetes-preserve-unknown-fields'] === true) return;
  const props = validation['properties'];
  if (isRecord(props)) {
    const declared = isRecord(skeleton['properties']) ? skeleton['properties'] : {};
    const map = isRecord(skeleton['additionalProperties']) ? skeleton['additionalProperties'] : undefined;
    for (const [name, sub] of Object.entries(props)) {
      const outer = declared[name] ?? map;
      if (!isRecord(outer)) {
        problems.push({
          path: `${path}.properties${segment(name)}`,
          message: `property "${name}" is used inside a junctor but not declared in the enclosing schema`,
          fix: `declare "${name}" under the enclosing schema's \`properties\``,
        });
      } else checkSkeleton(sub, outer, `${path}.properties${segment(name)}`, problems);
    }
  }
  const items = validation['items'];
  if (isRecord(items)) {
    if (!isRecord(skeleton['items'])) {
      problems.push({ path: `${path}.items`, message: '`items` is used inside a junctor but not declared in the enclosing schema', fix: 'declare `items` on the enclosing schema' });
    } else checkSkeleton(items, skeleton['items'], `${path}.items`, problems);
  }
  for (const junctor of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = validation[junctor];
    if (Array.isArray(list)) list.forEach((sub, i) => checkSkeleton(sub, skeleton, `${path}.${junctor}[${i}]`, problems));
  }
  if (validation['not'] !== undefined) checkSkeleton(validation['not'], skeleton, `${path}.not`, problems);
}

/** Extra rules for the root of a CRD schema. */
function checkRoot(s: Node, path: string, problems: SchemaProblem[]): void {
  if (s['type'] !== 'object') problems.push({ path: `${path}.type`, message: 'the root of a CRD schema must have `type: object`', fix: 'set `type: object`' });
  for (const key of ['nullable', 'default'] as const) {
    if (s[key] !== undefined) problems.push({ path: `${path}.${key}`, message: `\`${key}\` is not allowed at the root`, fix: `remove \`${key}\`` });
  }
  const props = isRecord(s['properties']) ? s['properties'] : {};
  const metadata = props['metadata'];
  if (isRecord(metadata)) {
    const allowed = new Set(['type', 'properties']);
    const extra = Object.keys(metadata).filter((k) => !allowed.has(k));
    const metaProps = isRecord(metadata['properties']) ? Object.keys(metadata['properties']) : [];
    const extraProps = metaProps.filter((k) => k !== 'name' && k !== 'generateName');
    if (extra.length > 0 || extraProps.length > 0) {
      problems.push({
        path: `${path}.properties.metadata`,
        message: 'only `metadata.name` and `metadata.generateName` may be restricted',
        fix: 'remove other metadata constraints; the API server validates metadata itself',
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (!isRecord(value)) return value;
  const out: Mutable = {};
  const keys = Object.keys(value);
  for (const key of SCHEMA_KEY_ORDER) {
    if (value[key] === undefined) continue;
    out[key] = schemaValued(key) ? canonicalChild(key, value[key]) : value[key];
  }
  for (const key of keys.filter((k) => !ALLOWED.has(k)).sort()) out[key] = value[key];
  return out;
}

function schemaValued(key: string): boolean {
  return key === 'items' || key === 'properties' || key === 'additionalProperties' || key === 'allOf' || key === 'anyOf' || key === 'oneOf' || key === 'not';
}

function canonicalChild(key: string, value: unknown): unknown {
  if (key === 'properties' && isRecord(value)) {
    const out: Mutable = {};
    for (const [name, prop] of Object.entries(value)) out[name] = canonical(prop);
    return out;
  }
  return canonical(value);
}

function isRecord(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isArrayOf(value: StructuralOptions['definitions']): value is readonly SchemaInput[] {
  return Array.isArray(value);
}

/** A path step: `.name` for identifiers, `["a-b"]` otherwise. */
function segment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function cloneJson(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonicalJson(a)) === JSON.stringify(canonicalJson(b));
}

function canonicalJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalJson);
  if (!isRecord(value)) return value;
  const out: Mutable = {};
  for (const key of Object.keys(value).sort()) out[key] = canonicalJson(value[key]);
  return out;
}
