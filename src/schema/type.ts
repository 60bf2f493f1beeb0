/**
 * TypeBox's `Type` builder, without loading TypeBox until a schema needs more than the common
 * builders. TypeBox is about 200 ES modules and costs about 16 MiB of resident memory once loaded
 * (measured: docs/performance.md, "Idle memory and per-object cost"), and every operator pays it
 * at startup, because its resource declarations run `Type.Object(…)` when its file is imported.
 *
 * Guarantee: every member of {@link Type} returns exactly what TypeBox's `Type` returns for the
 * same arguments (the same plain objects with the same `TypeBox.Kind` and `TypeBox.Optional`
 * symbols; `test/unit/schema/type.test.ts` compares them). The builders below are copies of
 * TypeBox 0.34's own one-liners; every other member loads TypeBox (its ES module build, the very
 * instance `import … from '@sinclair/typebox'` gives, through `require(esm)`) on its first call
 * and delegates to it. Caveat: the copies build in TypeBox's default instance mode; an application
 * that sets `TypeSystemPolicy.InstanceMode` to `freeze` or `clone` gets unfrozen, uncloned
 * objects from them.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as TypeBox from '@sinclair/typebox';

type Options = Readonly<Record<PropertyKey, unknown>> | undefined;
type Schema = Record<PropertyKey, unknown>;

// TypeBox's own keys: global symbols, so schemas built here and by TypeBox are interchangeable.
const Kind = Symbol.for('TypeBox.Kind');
const OptionalKind = Symbol.for('TypeBox.Optional');

let full: typeof TypeBox.Type | undefined;

/** TypeBox's own builder, loaded on first use. */
function typebox(): typeof TypeBox.Type {
  if (full === undefined) {
    // The ES module build (import.meta.resolve applies the import conditions), so the instance is
    // the one an application's own `import … from '@sinclair/typebox'` shares, registries included.
    const entry = fileURLToPath(import.meta.resolve('@sinclair/typebox'));
    full = (createRequire(import.meta.url)(entry) as typeof TypeBox).Type;
  }
  return full;
}

/** TypeBox's `CreateType` in its default instance mode. */
function create(schema: Schema, options: Options): Schema {
  return options !== undefined ? { ...options, ...schema } : schema;
}

function isOptional(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Schema)[OptionalKind] === 'Optional';
}

const common = {
  Any: (options?: Options) => create({ [Kind]: 'Any' }, options),
  Array: (items: Schema, options?: Options) => create({ [Kind]: 'Array', type: 'array', items }, options),
  Boolean: (options?: Options) => create({ [Kind]: 'Boolean', type: 'boolean' }, options),
  Integer: (options?: Options) => create({ [Kind]: 'Integer', type: 'integer' }, options),
  Literal: (value: string | number | boolean, options?: Options) => create({ [Kind]: 'Literal', const: value, type: typeof value }, options),
  Never: (options?: Options) => create({ [Kind]: 'Never', not: {} }, options),
  Null: (options?: Options) => create({ [Kind]: 'Null', type: 'null' }, options),
  Number: (options?: Options) => create({ [Kind]: 'Number', type: 'number' }, options),
  Object: (properties: Record<string, Schema>, options?: Options) => {
    const required = Object.keys(properties).filter((key) => !isOptional(properties[key]));
    const schema = required.length > 0 ? { [Kind]: 'Object', type: 'object', required, properties } : { [Kind]: 'Object', type: 'object', properties };
    return create(schema, options);
  },
  Optional: (schema: Schema, enable?: boolean): unknown => {
    // A mapped result, or taking the flag off, is TypeBox's business.
    if (enable === false || schema[Kind] === 'MappedResult') return typebox().Optional(schema as never, enable as false);
    return { ...schema, [OptionalKind]: 'Optional' };
  },
  Record: (key: Schema, value: Schema, options: Options = {}): unknown => {
    // A map with string keys, what Kubernetes schemas use; every other key kind is TypeBox's.
    if (key[Kind] !== 'String') return typebox().Record(key as never, value as never, options);
    return create({ [Kind]: 'Record', type: 'object', patternProperties: { [(key.pattern as string | undefined) ?? '^(.*)$']: value } }, options);
  },
  String: (options?: Options) => create({ [Kind]: 'String', type: 'string' }, options),
  Union: (types: readonly Schema[], options?: Options) => {
    if (types.length === 0) return create({ [Kind]: 'Never', not: {} }, options);
    if (types.length === 1) return create(types[0]!, options);
    return create({ [Kind]: 'Union', anyOf: types }, options);
  },
  Unknown: (options?: Options) => create({ [Kind]: 'Unknown' }, options),
  Unsafe: (options: Options = {}) => create({ [Kind]: (options as Schema)[Kind] ?? 'Unsafe' }, options),
};

/**
 * The names of TypeBox 0.34's `Type` builders that load TypeBox when first called. With
 * the common ones above, every member of TypeBox's `Type` (a unit test checks the list against it).
 */
export const DELEGATED_BUILDERS = [
  'Argument', 'AsyncIterator', 'Awaited', 'BigInt', 'Capitalize', 'Composite', 'Const', 'Constructor', 'ConstructorParameters', 'Date', 'Enum', 'Exclude', 'Extends',
  'Extract', 'Function', 'Index', 'InstanceType', 'Instantiate', 'Intersect', 'Iterator', 'KeyOf', 'Lowercase', 'Mapped', 'Module', 'Not', 'Omit', 'Parameters', 'Partial',
  'Pick', 'Promise', 'Readonly', 'ReadonlyOptional', 'Recursive', 'Ref', 'RegExp', 'Required', 'Rest', 'ReturnType', 'Symbol', 'TemplateLiteral', 'Transform',
  'Tuple', 'Uint8Array', 'Uncapitalize', 'Undefined', 'Uppercase', 'Void',
] as const;

/** The names of the builders that never load TypeBox. */
export const COMMON_BUILDERS = Object.keys(common) as readonly string[];

const delegated = Object.fromEntries(
  DELEGATED_BUILDERS.map((name) => [name, (...args: unknown[]): unknown => (typebox()[name] as (...a: unknown[]) => unknown)(...args)]),
);

/**
 * TypeBox's `Type` builder (re-exported as `Type` from `operon-k8s`): declare a resource's spec
 * and status with it and get their TypeScript types with `Static`. The common builders (Object,
 * String, Number, Integer, Boolean, Literal, Union, Optional, Array, Record with string keys,
 * Null, Unknown, Any, Unsafe, Never) do not load TypeBox; the others load it on first use. Either way the result is exactly
 * TypeBox's.
 *
 * @example
 * ```ts
 * import { Type, type Static } from 'operon-k8s';
 * const Spec = Type.Object({ text: Type.String({ minLength: 1 }), copies: Type.Optional(Type.Integer({ minimum: 1 })) });
 * type Spec = Static<typeof Spec>; // { text: string; copies?: number }
 * ```
 */
export const Type: typeof TypeBox.Type = Object.freeze({ ...delegated, ...common }) as unknown as typeof TypeBox.Type;
