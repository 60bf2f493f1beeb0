import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { SchemaError, type SchemaErrorKind } from '../../../src/schema/errors.ts';
import {
  assertStructuralSchema,
  canonicalSchema,
  toStructuralSchema,
  validateStructuralSchema,
  type JSONSchemaProps,
  type SchemaInput,
  type StructuralOptions,
} from '../../../src/schema/structural.ts';

/** Asserts `fn` throws a SchemaError of `kind` whose message names `path` and contains `fix`. */
function assertSchemaError(fn: () => unknown, kind: SchemaErrorKind, path: string, fix: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SchemaError, `expected SchemaError, got ${String(error)}`);
    assert.equal(error.kind, kind, error.message);
    assert.ok(error.message.includes(path), `message should name ${path}: ${error.message}`);
    assert.match(error.message, /Fix: /);
    assert.match(error.hint, fix);
    return true;
  });
}

const Foo = Type.Object({ x: Type.String() }, { $id: 'Foo' });

const rewrites: Array<{ rule: string; input: SchemaInput; options?: StructuralOptions; expected: JSONSchemaProps }> = [
  {
    rule: 'strips $id and $schema',
    input: { $id: 'Thing', $schema: 'http://json-schema.org/draft-07/schema#', type: 'string' },
    expected: { type: 'string' },
  },
  {
    rule: "leaves TypeBox's symbol keys (Kind, Hint) behind",
    input: Type.Enum({ A: 'a', B: 'b' }),
    expected: { type: 'string', enum: ['a', 'b'] },
  },
  {
    rule: 'anyOf of const literals becomes type + enum',
    input: Type.Union([Type.Literal('usd'), Type.Literal('eur')], { description: 'currency' }),
    expected: { type: 'string', description: 'currency', enum: ['usd', 'eur'] },
  },
  {
    rule: 'numeric literal union becomes a number enum',
    input: Type.Union([Type.Literal(1), Type.Literal(2)]),
    expected: { type: 'number', enum: [1, 2] },
  },
  {
    rule: 'Union([T, Null()]) becomes T with nullable: true',
    input: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
    expected: { type: 'string', nullable: true, minLength: 1 },
  },
  {
    rule: 'nullable object',
    input: Type.Union([Type.Object({ a: Type.String() }), Type.Null()]),
    expected: { type: 'object', nullable: true, required: ['a'], properties: { a: { type: 'string' } } },
  },
  {
    rule: 'nullable literal union keeps its enum',
    input: Type.Union([Type.Literal('a'), Type.Literal('b'), Type.Null()]),
    expected: { type: 'string', nullable: true, enum: ['a', 'b'] },
  },
  {
    rule: 'draft-7 type list [T, null] becomes nullable',
    input: { type: ['string', 'null'] },
    expected: { type: 'string', nullable: true },
  },
  {
    rule: 'patternProperties (Record) becomes additionalProperties',
    input: Type.Record(Type.String(), Type.Integer()),
    expected: { type: 'object', additionalProperties: { type: 'integer' } },
  },
  {
    rule: 'const becomes a one-value enum',
    input: Type.Literal('fixed'),
    expected: { type: 'string', enum: ['fixed'] },
  },
  {
    rule: 'const without a type gets the literal type',
    input: { const: 3 },
    expected: { type: 'integer', enum: [3] },
  },
  {
    rule: 'drops additionalProperties: false (pruning closes objects)',
    input: Type.Object({ a: Type.String() }, { additionalProperties: false }),
    expected: { type: 'object', required: ['a'], properties: { a: { type: 'string' } } },
  },
  {
    rule: 'additionalProperties: true becomes preserve-unknown-fields',
    input: Type.Object({ a: Type.Optional(Type.String()) }, { additionalProperties: true }),
    expected: { type: 'object', properties: { a: { type: 'string' } }, 'x-kubernetes-preserve-unknown-fields': true },
  },
  {
    rule: 'keeps integer and number formats',
    input: Type.Object({ i: Type.Integer({ format: 'int64' }), n: Type.Number({ format: 'double' }), t: Type.String({ format: 'date-time' }) }),
    expected: {
      type: 'object',
      required: ['i', 'n', 't'],
      properties: { i: { type: 'integer', format: 'int64' }, n: { type: 'number', format: 'double' }, t: { type: 'string', format: 'date-time' } },
    },
  },
  {
    rule: 'keeps x-kubernetes-int-or-string from Unsafe (no type added)',
    input: Type.Unsafe<number | string>({ 'x-kubernetes-int-or-string': true, description: 'port' }),
    expected: { description: 'port', 'x-kubernetes-int-or-string': true },
  },
  {
    rule: 'Union([Integer, String]) becomes int-or-string',
    input: Type.Union([Type.Integer(), Type.String()]),
    expected: { 'x-kubernetes-int-or-string': true },
  },
  {
    rule: 'keeps x-kubernetes-preserve-unknown-fields from Unsafe',
    input: Type.Unsafe<Record<string, unknown>>({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
    expected: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
  {
    rule: 'Unknown() (no type at all) becomes preserve-unknown-fields',
    input: Type.Unknown({ description: 'anything' }),
    expected: { description: 'anything', 'x-kubernetes-preserve-unknown-fields': true },
  },
  {
    rule: 'keeps list-type, list-map-keys and map-type',
    input: Type.Object({
      ports: Type.Array(Type.Object({ name: Type.String(), port: Type.Integer() }), {
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
      labels: Type.Record(Type.String(), Type.String(), { 'x-kubernetes-map-type': 'granular' }),
    }),
    expected: {
      type: 'object',
      required: ['ports', 'labels'],
      properties: {
        ports: {
          type: 'array',
          items: { type: 'object', required: ['name', 'port'], properties: { name: { type: 'string' }, port: { type: 'integer' } } },
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
        labels: { type: 'object', additionalProperties: { type: 'string' }, 'x-kubernetes-map-type': 'granular' },
      },
    },
  },
  {
    rule: 'keeps CEL rules (x-kubernetes-validations)',
    input: Type.Object(
      { min: Type.Integer(), max: Type.Integer() },
      { 'x-kubernetes-validations': [{ rule: 'self.min <= self.max', message: 'min must not exceed max' }] },
    ),
    expected: {
      type: 'object',
      required: ['min', 'max'],
      properties: { min: { type: 'integer' }, max: { type: 'integer' } },
      'x-kubernetes-validations': [{ rule: 'self.min <= self.max', message: 'min must not exceed max' }],
    },
  },
  {
    rule: 'resolves Type.Ref from the definitions option',
    input: Type.Object({ foo: Type.Ref(Foo) }),
    options: { definitions: [Foo] },
    expected: { type: 'object', required: ['foo'], properties: { foo: { type: 'object', required: ['x'], properties: { x: { type: 'string' } } } } },
  },
  {
    rule: 'resolves $ref into $defs (TypeBox Module) and keeps the use-site description',
    input: { $defs: { Name: { type: 'string', minLength: 1 } }, type: 'object', properties: { n: { $ref: '#/$defs/Name', description: 'the name' } } },
    expected: { type: 'object', properties: { n: { type: 'string', description: 'the name', minLength: 1 } } },
  },
  {
    rule: 'resolves TypeBox Module imports',
    input: Type.Module({ A: Type.Object({ b: Type.Ref('B') }), B: Type.Boolean() }).Import('A'),
    expected: { type: 'object', required: ['b'], properties: { b: { type: 'boolean' } } },
  },
  {
    rule: 'Intersect of objects becomes one object',
    input: Type.Intersect([Type.Object({ a: Type.String() }), Type.Object({ b: Type.Optional(Type.Number()) })]),
    expected: { type: 'object', required: ['a'], properties: { a: { type: 'string' }, b: { type: 'number' } } },
  },
  {
    rule: 'numeric exclusiveMinimum/Maximum become draft-4 booleans',
    input: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
    expected: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true },
  },
  {
    rule: 'uniqueItems on scalars becomes a set list',
    input: Type.Array(Type.String(), { uniqueItems: true }),
    expected: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
  },
  {
    rule: 'allOf/anyOf on a typed node stay as value validations',
    input: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, anyOf: [{ required: ['a'] }, { required: ['b'] }] },
    expected: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, anyOf: [{ required: ['a'] }, { required: ['b'] }] },
  },
  {
    rule: 'examples becomes example, annotations without a Kubernetes field are dropped',
    input: { type: 'string', examples: ['x', 'y'], readOnly: true, $comment: 'internal' },
    expected: { type: 'string', example: 'x' },
  },
  {
    rule: 'infers a missing object type',
    input: { properties: { a: { type: 'string' } } },
    expected: { type: 'object', properties: { a: { type: 'string' } } },
  },
];

describe('toStructuralSchema rewrites', () => {
  for (const { rule, input, options, expected } of rewrites) {
    it(rule, () => {
      const out = toStructuralSchema(input, options);
      assert.deepEqual(out, expected);
      assert.deepEqual(validateStructuralSchema(out), [], 'the result must be structural');
    });
  }

  it('turns the landscape example (TypeBox output) into the schema zod emits for openapi-3.0', () => {
    const schema = Type.Object(
      {
        coin: Type.String({ minLength: 1, description: 'coin id' }),
        vs: Type.Optional(Type.Union([Type.Literal('usd'), Type.Literal('eur')])),
        threshold: Type.Optional(Type.Number({ minimum: 0 })),
        note: Type.Union([Type.String(), Type.Null()]),
        tags: Type.Record(Type.String(), Type.String()),
      },
      { additionalProperties: false },
    );
    assert.deepEqual(toStructuralSchema(schema), {
      type: 'object',
      required: ['coin', 'note', 'tags'],
      properties: {
        coin: { type: 'string', description: 'coin id', minLength: 1 },
        vs: { type: 'string', enum: ['usd', 'eur'] },
        threshold: { type: 'number', minimum: 0 },
        note: { type: 'string', nullable: true },
        tags: { type: 'object', additionalProperties: { type: 'string' } },
      },
    });
  });

  it('writes keys in canonical order and plain data only', () => {
    const out = toStructuralSchema(Type.String({ maxLength: 3, description: 'd', format: 'email' }));
    assert.deepEqual(Object.keys(out), ['type', 'format', 'description', 'maxLength']);
    assert.deepEqual(Object.getOwnPropertySymbols(out), []);
    assert.equal(JSON.stringify(toStructuralSchema(Type.String({ maxLength: 3, description: 'd', format: 'email' }))), JSON.stringify(out));
  });

  it('does not mutate its input', () => {
    const input = Type.Object({ a: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false });
    const before = JSON.stringify(input);
    toStructuralSchema(input);
    assert.equal(JSON.stringify(input), before);
  });

  it('prefixes paths with the given path', () => {
    assertSchemaError(() => toStructuralSchema(Type.Object({ d: Type.Date() }), { path: 'Printer.spec' }), 'Unsupported', 'Printer.spec.properties.d.type', /date-time/);
  });
});

const unsupported: Array<{ name: string; input: SchemaInput; kind: SchemaErrorKind; path: string; fix: RegExp }> = [
  {
    name: 'a union of two object types',
    input: Type.Object({ v: Type.Union([Type.Object({ a: Type.String() }), Type.Object({ b: Type.Number() })]) }),
    kind: 'Unsupported',
    path: '$.properties.v',
    fix: /x-kubernetes-preserve-unknown-fields/,
  },
  {
    name: 'a union of different scalar types',
    input: Type.Union([Type.String(), Type.Boolean()]),
    kind: 'Unsupported',
    path: '$',
    fix: /preserve-unknown-fields|pick one type/,
  },
  {
    name: 'a literal union mixing strings and numbers',
    input: Type.Union([Type.Literal('a'), Type.Literal(1)]),
    kind: 'Unsupported',
    path: '$',
    fix: /same type/,
  },
  {
    name: 'a Record with non-string keys (key pattern)',
    input: Type.Object({ m: Type.Record(Type.Integer(), Type.String()) }),
    kind: 'Unsupported',
    path: '$.properties.m.patternProperties',
    fix: /Type\.Record\(Type\.String\(\)/,
  },
  { name: 'a tuple', input: Type.Tuple([Type.String(), Type.Number()]), kind: 'Unsupported', path: '$.items', fix: /Type\.Array/ },
  { name: 'a lone null', input: Type.Null(), kind: 'Unsupported', path: '$.type', fix: /nullable/ },
  { name: 'a Date', input: Type.Date(), kind: 'Unsupported', path: '$.type', fix: /date-time/ },
  { name: 'a bigint', input: Type.BigInt(), kind: 'Unsupported', path: '$.type', fix: /int64/ },
  { name: 'an unresolvable $ref', input: Type.Object({ f: Type.Ref(Foo) }), kind: 'UnresolvedRef', path: '$.properties.f.$ref', fix: /definitions/ },
  {
    name: 'a recursive type',
    input: Type.Recursive((This) => Type.Object({ children: Type.Array(This) })),
    kind: 'Recursive',
    path: '$.properties.children.items',
    fix: /preserve-unknown-fields/,
  },
  { name: 'an unknown keyword', input: { type: 'string', maxlength: 3 }, kind: 'Unsupported', path: '$.maxlength', fix: /remove `maxlength`/ },
  { name: 'uniqueItems on objects', input: Type.Array(Type.Object({ a: Type.String() }), { uniqueItems: true }), kind: 'Unsupported', path: '$.uniqueItems', fix: /list-type/ },
  { name: 'dependencies', input: { type: 'object', properties: { a: { type: 'string' } }, dependencies: { a: ['b'] } }, kind: 'Unsupported', path: '$.dependencies', fix: /CEL/ },
  {
    name: 'properties next to an additionalProperties schema',
    input: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } },
    kind: 'Unsupported',
    path: '$.additionalProperties',
    fix: /Type\.Record|own property/,
  },
  { name: 'a node whose type cannot be inferred', input: { minimum: 3 }, kind: 'Unsupported', path: '$', fix: /add a `type`/ },
];

describe('toStructuralSchema refuses what Kubernetes cannot express', () => {
  for (const { name, input, kind, path, fix } of unsupported) {
    it(`rejects ${name}`, () => assertSchemaError(() => toStructuralSchema(input), kind, path, fix));
  }
});

const forbidden: Array<{ name: string; schema: unknown; path: string; fix: RegExp }> = [
  { name: '$ref', schema: { type: 'object', properties: { a: { $ref: '#/definitions/A' } } }, path: '$.properties.a.$ref', fix: /inline/ },
  { name: 'type arrays', schema: { type: ['string', 'null'] }, path: '$.type', fix: /nullable/ },
  { name: 'patternProperties', schema: { type: 'object', patternProperties: { '^a': { type: 'string' } } }, path: '$.patternProperties', fix: /additionalProperties/ },
  { name: 'definitions', schema: { type: 'object', definitions: { A: { type: 'string' } } }, path: '$.definitions', fix: /inline/ },
  { name: 'dependencies', schema: { type: 'object', dependencies: { a: ['b'] } }, path: '$.dependencies', fix: /CEL/ },
  { name: 'uniqueItems: true', schema: { type: 'array', items: { type: 'string' }, uniqueItems: true }, path: '$.uniqueItems', fix: /list-type/ },
  { name: 'additionalItems', schema: { type: 'array', items: { type: 'string' }, additionalItems: false }, path: '$.additionalItems', fix: /items/ },
  { name: 'id', schema: { type: 'string', id: 'x' }, path: '$.id', fix: /remove/ },
  { name: 'type: null', schema: { type: 'object', properties: { n: { type: 'null' } } }, path: '$.properties.n.type', fix: /nullable/ },
  { name: 'const', schema: { type: 'string', const: 'a' }, path: '$.const', fix: /enum/ },
  { name: 'a missing type', schema: { type: 'object', properties: { a: { description: 'x' } } }, path: '$.properties.a', fix: /type/ },
  { name: 'a tuple items list', schema: { type: 'array', items: [{ type: 'string' }] }, path: '$.items', fix: /one item schema/ },
  { name: 'type with int-or-string', schema: { type: 'string', 'x-kubernetes-int-or-string': true }, path: '$.type', fix: /remove `type`/ },
  { name: 'preserve-unknown-fields: false', schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': false }, path: '$["x-kubernetes-preserve-unknown-fields"]', fix: /remove/ },
  {
    name: 'properties with additionalProperties: false',
    schema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
    path: '$.additionalProperties',
    fix: /drop `additionalProperties`/,
  },
  ...(['type', 'description', 'default', 'nullable', 'additionalProperties'] as const).flatMap((key) =>
    (['allOf', 'anyOf', 'oneOf'] as const).map((junctor) => ({
      name: `${key} inside ${junctor}`,
      schema: { type: 'object', properties: { a: { type: 'string' } }, [junctor]: [{ [key]: key === 'additionalProperties' ? false : key === 'nullable' ? true : 'string' }] },
      path: `$.${junctor}[0].${key}`,
      fix: /enclosing schema/,
    })),
  ),
  { name: 'description inside not', schema: { type: 'string', not: { description: 'x', enum: ['a'] } }, path: '$.not.description', fix: /enclosing schema/ },
  {
    name: 'a field inside a junctor that the skeleton lacks',
    schema: { type: 'object', properties: { a: { type: 'string' } }, anyOf: [{ properties: { b: { minLength: 1 } } }] },
    path: '$.anyOf[0].properties.b',
    fix: /declare "b"/,
  },
];

describe('validateStructuralSchema', () => {
  for (const { name, schema, path, fix } of forbidden) {
    it(`rejects ${name}, naming the path and the fix`, () => {
      const problems = validateStructuralSchema(schema);
      const problem = problems.find((p) => p.path === path && fix.test(p.fix));
      assert.ok(problem, `expected a problem at ${path} with fix ${fix}, got ${JSON.stringify(problems)}`);
      assertSchemaError(() => assertStructuralSchema(schema), 'NotStructural', path, /./);
    });
  }

  it('accepts the int-or-string anyOf pattern', () => {
    assert.deepEqual(validateStructuralSchema({ 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] }), []);
  });

  it('accepts value validations that only restrict declared fields', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, oneOf: [{ required: ['a'] }, { required: ['b'] }] };
    assert.deepEqual(validateStructuralSchema(schema), []);
  });

  it('reports every problem at once', () => {
    const problems = validateStructuralSchema({ type: 'object', properties: { a: { $ref: 'x' }, b: { type: 'null' } } });
    assert.ok(problems.length >= 3, JSON.stringify(problems));
  });

  it('checks the rules of a CRD root when asked', () => {
    const problems = validateStructuralSchema({ type: 'string' }, { root: true, path: 'root' });
    assert.ok(problems.some((p) => p.path === 'root.type'));
    const metadata = validateStructuralSchema({ type: 'object', properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } } }, { root: true });
    assert.ok(metadata.some((p) => p.path === '$.properties.metadata'));
  });
});

describe('canonicalSchema', () => {
  it('orders keys canonically and keeps property order', () => {
    const out = canonicalSchema({ properties: { z: { enum: ['a'], type: 'string' }, a: { type: 'integer' } }, type: 'object' });
    assert.deepEqual(Object.keys(out), ['type', 'properties']);
    assert.deepEqual(Object.keys(out.properties ?? {}), ['z', 'a']);
    assert.deepEqual(Object.keys(out.properties?.['z'] ?? {}), ['type', 'enum']);
  });
});
