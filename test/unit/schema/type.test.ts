import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { Type as TypeBox } from '@sinclair/typebox';
import { COMMON_BUILDERS, DELEGATED_BUILDERS, Type } from '../../../src/schema/type.ts';

// deepStrictEqual compares own enumerable symbol keys too: TypeBox.Kind and TypeBox.Optional.
const call = (builder: object, name: string, args: readonly unknown[]): unknown => (builder as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);

describe('Type (the light TypeBox builder)', () => {
  it('has exactly the members of TypeBox’s Type, each a function', () => {
    assert.deepEqual([...COMMON_BUILDERS, ...DELEGATED_BUILDERS].sort(), Object.keys(TypeBox).sort());
    for (const name of Object.keys(TypeBox)) assert.equal(typeof (Type as unknown as Record<string, unknown>)[name], 'function', name);
  });

  const cases: [string, unknown[]][] = [
    ['Any', []],
    ['Any', [{ description: 'anything' }]],
    ['Array', [TypeBox.String()]],
    ['Array', [TypeBox.Integer(), { minItems: 1, 'x-kubernetes-list-type': 'set' }]],
    ['Boolean', []],
    ['Boolean', [{ default: false }]],
    ['Integer', [{ minimum: 0, format: 'int64' }]],
    ['Literal', ['True']],
    ['Literal', [3, { description: 'three' }]],
    ['Literal', [false]],
    ['Never', []],
    ['Null', []],
    ['Number', []],
    ['Number', [{ minimum: 0, description: 'amount' }]],
    ['Object', [{}]],
    ['Object', [{ a: TypeBox.String(), b: TypeBox.Optional(TypeBox.Number()) }]],
    ['Object', [{ a: TypeBox.Optional(TypeBox.String()) }, { additionalProperties: true, description: 'all optional' }]],
    ['Object', [{ type: TypeBox.String() }, { type: 'overridden?', required: ['x'] }]],
    ['Optional', [TypeBox.String({ minLength: 1 })]],
    ['Optional', [TypeBox.Optional(TypeBox.String()), false]],
    ['Optional', [TypeBox.String(), true]],
    ['Record', [TypeBox.String(), TypeBox.Unknown()]],
    ['Record', [TypeBox.String(), TypeBox.Integer(), { description: 'counts by name' }]],
    ['Record', [TypeBox.String({ pattern: '^[a-z]+$' }), TypeBox.String()]],
    ['Record', [TypeBox.Union([TypeBox.Literal('a'), TypeBox.Literal('b')]), TypeBox.String()]],
    ['Record', [TypeBox.Number(), TypeBox.String()]],
    ['String', []],
    ['String', [{ format: 'date-time', pattern: '^a$' }]],
    ['Union', [[]]],
    ['Union', [[], { description: 'none' }]],
    ['Union', [[TypeBox.Literal('a')]]],
    ['Union', [[TypeBox.Literal('a')], { description: 'one' }]],
    ['Union', [[TypeBox.Literal('a'), TypeBox.Literal('b')], { description: 'two' }]],
    ['Unknown', []],
    ['Unknown', [{ 'x-kubernetes-preserve-unknown-fields': true }]],
    ['Unsafe', []],
    ['Unsafe', [{ type: 'object', 'x-kubernetes-int-or-string': true }]],
    ['Unsafe', [{ [Symbol.for('TypeBox.Kind')]: 'Custom', type: 'string' }]],
  ];
  for (const [name, args] of cases) {
    it(`${name}(${JSON.stringify(args)}) builds what TypeBox builds`, () => {
      assert.deepStrictEqual(call(Type, name, args), call(TypeBox, name, args));
    });
  }

  it('delegates the other builders to TypeBox itself', () => {
    const value = TypeBox.Object({ a: TypeBox.String() });
    assert.deepStrictEqual(Type.Partial(value), TypeBox.Partial(value));
    assert.deepStrictEqual(Type.Tuple([TypeBox.String(), value]), TypeBox.Tuple([TypeBox.String(), value]));
  });

  it('does not load TypeBox for a resource declared with the common builders', () => {
    const script = `
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({ resolve: (s, c, next) => { const r = next(s, c); loaded.push(r.url); return r; } });
      const { Type, defineResource } = await import('operon-k8s');
      defineResource({ group: 'example.com', version: 'v1', kind: 'Widget',
        spec: Type.Object({ size: Type.Union([Type.Literal('s'), Type.Literal('m')]), count: Type.Optional(Type.Integer({ minimum: 0 })) }),
        status: Type.Object({ seen: Type.Optional(Type.Boolean()), tags: Type.Optional(Type.Array(Type.String())), results: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }) });
      const before = loaded.filter((u) => u.includes('typebox')).length;
      Type.Partial(Type.Object({ a: Type.String() }));
      console.log(JSON.stringify({ before, after: loaded.filter((u) => u.includes('typebox')).length }));
    `;
    const run = spawnSync(process.execPath, ['--conditions=operon-source', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const { before, after } = JSON.parse(run.stdout) as { before: number; after: number };
    assert.equal(before, 0);
    assert.ok(after > 0, 'a delegated builder loads TypeBox');
  });
});
