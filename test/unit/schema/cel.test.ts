import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import type { ValidationRule } from 'kubernetes-types/apiextensions/v1.d.ts';
import { withRules } from '../../../src/schema/cel.ts';
import { toCrd } from '../../../src/manifests/crd.ts';
import { SchemaError } from '../../../src/schema/errors.ts';
import { defineResource } from '../../../src/schema/resource.ts';

const declare = (spec: ReturnType<typeof Type.Object>, validations?: ValidationRule[]) =>
  defineResource({ group: 'example.com', version: 'v1', kind: 'Range', spec, ...(validations ? { validations } : {}) });

const refused = (build: () => unknown, path: string, message: RegExp): void => {
  assert.throws(build, (e: unknown) => e instanceof SchemaError && e.kind === 'InvalidRule' && e.path === path && message.test(e.message));
};

describe('CEL rules from the schema', () => {
  it('emits a rule at the node it is attached to', () => {
    const spec = withRules(Type.Object({ min: Type.Integer(), max: Type.Integer() }), [{ rule: 'self.min <= self.max', message: 'min must not exceed max' }]);
    const crd = toCrd(declare(spec));
    assert.deepEqual(crd.spec.versions[0]?.schema.openAPIV3Schema.properties?.['spec']?.['x-kubernetes-validations'], [{ rule: 'self.min <= self.max', message: 'min must not exceed max' }]);
  });
  it('withRules keeps the TypeBox schema usable and adds to existing rules', () => {
    const base = Type.String({ 'x-kubernetes-validations': [{ rule: 'self != ""' }] });
    const both = withRules(base, [{ rule: 'self.size() < 10' }]);
    assert.equal(both['x-kubernetes-validations'].length, 2);
    assert.equal(base['x-kubernetes-validations'].length, 1);
    assert.ok(defineResource({ group: 'example.com', version: 'v1', kind: 'Named', spec: Type.Object({ name: both }) }));
  });
  it('refuses self.<field> the node does not declare', () => {
    refused(() => declare(withRules(Type.Object({ min: Type.Integer() }), [{ rule: 'self.min <= self.maxx' }])), 'Range.spec.x-kubernetes-validations[0]', /self\.maxx: undefined field/);
  });
  it('refuses a field access on a scalar', () => {
    refused(() => declare(Type.Object({ n: withRules(Type.Integer(), [{ rule: 'self.value > 0' }]) })), 'Range.spec.properties.n.x-kubernetes-validations[0]', /integer has no fields/);
  });
  it('allows methods, quoted text and fields of objects that keep unknown fields', () => {
    assert.ok(declare(withRules(Type.Object({ s: Type.String() }), [{ rule: "self.s.size() > 0 && self.s != 'self.nope'" }])));
    assert.ok(declare(withRules(Type.Object({}, { additionalProperties: true }), [{ rule: 'has(self.anything)' }])));
  });
  it('root rules may read apiVersion, kind, metadata, spec', () => {
    assert.ok(toCrd(declare(Type.Object({ a: Type.String() }), [{ rule: "self.metadata.name.startsWith('x') || self.spec.a == ''" }])));
    refused(() => toCrd(declare(Type.Object({ a: Type.String() }), [{ rule: 'self.spek.a == ""' }])), 'Range.v1.openAPIV3Schema.x-kubernetes-validations[0]', /self\.spek: undefined field/);
  });
  it('refuses a transition rule under the items of a list that is not a map list', () => {
    const items = withRules(Type.Object({ name: Type.String() }), [{ rule: 'self.name == oldSelf.name', message: 'immutable' }]);
    refused(() => declare(Type.Object({ list: Type.Array(items) })), 'Range.spec.properties.list.items.x-kubernetes-validations[0]', /oldSelf.*cannot be paired/);
    assert.ok(declare(Type.Object({ list: Type.Array(items, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }) })));
  });
  it('refuses a multi-line rule without message, a bad reason, optionalOldSelf without oldSelf, and an undeclared fieldPath', () => {
    const at = 'Range.spec.x-kubernetes-validations[0]';
    const obj = (rule: ValidationRule) => declare(withRules(Type.Object({ a: Type.Integer() }), [rule]));
    refused(() => obj({ rule: 'self.a > 0 &&\nself.a < 9' }), at, /needs a message/);
    refused(() => obj({ rule: 'self.a > 0', message: 'two\nlines' }), at, /line breaks/);
    refused(() => obj({ rule: 'self.a > 0', reason: 'Nope' }), at, /reason "Nope"/);
    refused(() => obj({ rule: 'self.a > 0', optionalOldSelf: true }), at, /optionalOldSelf is set/);
    refused(() => obj({ rule: 'self.a > 0', fieldPath: '.b' }), at, /fieldPath ".b" names b/);
    refused(() => obj({ rule: '  ' }), at, /the rule is empty/);
    assert.ok(obj({ rule: 'self.a > 0 &&\nself.a < 9', message: 'a is 1..8', reason: 'FieldValueForbidden', fieldPath: '.a' }));
  });
  it('refuses a rule inside allOf/anyOf/oneOf/not, where the API server says it must be empty', () => {
    const spec = Type.Unsafe<{ a: string }>({ type: 'object', properties: { a: { type: 'string' } }, allOf: [{ 'x-kubernetes-validations': [{ rule: "self.a == 'x'" }] }] });
    assert.throws(() => declare(spec as never), (e: unknown) => e instanceof SchemaError && /allOf\[0\]\["x-kubernetes-validations"\]: `x-kubernetes-validations` is not allowed inside allOf/.test(e.message));
  });
});
