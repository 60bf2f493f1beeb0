import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import type { KubeObject } from '../../../src/client/types.ts';
import { ConversionError, convertObject, convertReview, isConversionReviewRequest, type ConversionReview } from '../../../src/schema/conversion.ts';
import { conversionPath, toCrd } from '../../../src/manifests/crd.ts';
import { SchemaError } from '../../../src/schema/errors.ts';
import { defineResource } from '../../../src/schema/resource.ts';
import { conversion, defineVersions } from '../../../src/schema/versions.ts';

const names = { group: 'example.com', kind: 'Widget', plural: 'widgets' } as const;
// v1: size is a number, and a `colour` v2 does not have.
const WidgetV1 = defineResource({ ...names, version: 'v1', spec: Type.Object({ size: Type.Number(), colour: Type.Optional(Type.String()) }), status: Type.Object({ ready: Type.Optional(Type.Boolean()) }) });
// v2: size is an exact decimal string, and `shape` v1 does not have.
const WidgetV2 = defineResource({ ...names, version: 'v2', spec: Type.Object({ size: Type.String(), shape: Type.Optional(Type.String()) }), status: Type.Object({ ready: Type.Optional(Type.Boolean()) }) });
// v3: the same schemas as v2, so reachable by identity.
const WidgetV3 = defineResource({ ...names, version: 'v3', spec: Type.Object({ size: Type.String(), shape: Type.Optional(Type.String()) }), status: Type.Object({ ready: Type.Optional(Type.Boolean()) }) });

const v1ToV2 = conversion(WidgetV1, WidgetV2, {
  up: (o) => ({ metadata: o.metadata, spec: { size: String(o.spec?.size ?? 0) }, ...(o.status ? { status: o.status } : {}) }),
  down: (o) => ({ metadata: o.metadata, spec: { size: Number(o.spec?.size ?? '0') }, ...(o.status ? { status: o.status } : {}) }),
});
const Widgets = defineVersions({ versions: [WidgetV1, WidgetV2, WidgetV3], storage: 'v1', conversions: [v1ToV2] });

const meta = { name: 'w', namespace: 'ns', uid: 'u-1', resourceVersion: '7', labels: { team: 'a' } };
const bytes = (o: unknown): string => JSON.stringify(o, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));

const v1Objects: KubeObject[] = [
  { apiVersion: 'example.com/v1', kind: 'Widget', metadata: meta, spec: { size: 0.0023 } },
  { apiVersion: 'example.com/v1', kind: 'Widget', metadata: meta, spec: { size: 3, colour: 'red' }, status: { ready: true } },
  { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { ...meta, annotations: { keep: 'me' } }, spec: { size: 1e21, colour: '' } },
  { apiVersion: 'example.com/v1', kind: 'Widget', metadata: meta, spec: { size: -0.1 }, extra: { top: 'level' } } as KubeObject,
];
const v2Objects: KubeObject[] = [
  { apiVersion: 'example.com/v2', kind: 'Widget', metadata: meta, spec: { size: '0.0023' } },
  { apiVersion: 'example.com/v2', kind: 'Widget', metadata: meta, spec: { size: '0.00230000000000000000001', shape: 'round' }, status: { ready: false } },
  { apiVersion: 'example.com/v2', kind: 'Widget', metadata: meta, spec: { size: '1.0' } },
  { apiVersion: 'example.com/v2', kind: 'Widget', metadata: meta, spec: { size: 'not a number' } },
];

describe('conversion between versions', () => {
  for (const [i, original] of v1Objects.entries()) {
    it(`v1 → v2 → v1 is byte-identical (case ${i})`, () => {
      const there = convertObject(Widgets, original, 'example.com/v2');
      assert.equal(there.apiVersion, 'example.com/v2');
      assert.equal(bytes(convertObject(Widgets, there, 'example.com/v1')), bytes(original));
    });
    it(`v1 → v3 (chained through v2) → v1 is byte-identical (case ${i})`, () => {
      const there = convertObject(Widgets, original, 'example.com/v3');
      assert.equal(bytes(convertObject(Widgets, there, 'example.com/v1')), bytes(original));
    });
  }
  for (const [i, original] of v2Objects.entries()) {
    it(`v2 → v1 → v2 is byte-identical (case ${i})`, () => {
      const there = convertObject(Widgets, original, 'example.com/v1');
      assert.equal(bytes(convertObject(Widgets, there, 'example.com/v2')), bytes(original));
    });
  }

  it('keeps only what the target cannot hold in <group>/conversion-data, and nothing when the trip is lossless', () => {
    const lossless = convertObject(Widgets, v2Objects[0] as KubeObject, 'example.com/v1');
    assert.deepEqual(lossless.spec, { size: 0.0023 });
    assert.equal(lossless.metadata?.annotations, undefined);
    const lossy = convertObject(Widgets, v2Objects[1] as KubeObject, 'example.com/v1');
    const stash = JSON.parse(lossy.metadata?.annotations?.['example.com/conversion-data'] ?? '{}') as Record<string, unknown>;
    assert.deepEqual(stash, { v2: { spec: { size: '0.00230000000000000000001', shape: 'round' }, status: { ready: false } } });
  });

  it('an edit made in the other version wins over the kept value, and untouched kept fields come back', () => {
    const inV1 = convertObject(Widgets, v2Objects[1] as KubeObject, 'example.com/v1');
    const edited = { ...inV1, spec: { size: 5 } };
    const back = convertObject(Widgets, edited, 'example.com/v2');
    assert.deepEqual(back.spec, { size: '5', shape: 'round' });
    assert.equal(back.metadata?.annotations, undefined);
  });

  it('restores metadata other than labels and annotations from the input', () => {
    const sneaky = defineVersions({
      versions: [WidgetV1, WidgetV2],
      storage: 'v1',
      conversions: [
        conversion(WidgetV1, WidgetV2, {
          up: (o) => ({ metadata: { ...o.metadata, name: 'renamed', labels: { team: 'b' } }, spec: { size: String(o.spec?.size) } }),
          down: (o) => ({ metadata: o.metadata, spec: { size: Number(o.spec?.size) } }),
        }),
      ],
    });
    const out = convertObject(sneaky, v1Objects[0] as KubeObject, 'example.com/v2');
    assert.equal(out.metadata?.name, 'w');
    assert.equal(out.metadata?.uid, 'u-1');
    assert.deepEqual(out.metadata?.labels, { team: 'b' });
  });
});

describe('conversion edge cases', () => {
  it('refuses an object of another kind with a WrongKind error naming it', () => {
    assert.throws(
      () => convertObject(Widgets, { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g', namespace: 'ns' } }, 'example.com/v2'),
      (e: unknown) => e instanceof ConversionError && e.kind === 'WrongKind' && /Gadget ns\/g: kind Gadget is not Widget/.test(e.message),
    );
  });
  it('ignores a hand-edited conversion-data annotation instead of failing every read', () => {
    const object = { ...(v1Objects[0] as KubeObject), metadata: { ...meta, annotations: { 'example.com/conversion-data': '{not json' } } };
    const out = convertObject(Widgets, object, 'example.com/v2');
    assert.deepEqual(out.spec, { size: '0.0023' });
    assert.equal(out.metadata?.annotations, undefined);
  });
  it('returns a copy for the same version, never the input itself', () => {
    const object = v1Objects[1] as KubeObject;
    const out = convertObject(Widgets, object, 'example.com/v1');
    assert.deepEqual(out, object);
    assert.notEqual(out, object);
  });
});

describe('defineVersions', () => {
  it('refuses a version no conversion reaches, naming it', () => {
    assert.throws(
      () => defineVersions({ versions: [WidgetV1, WidgetV2], storage: 'v1' }),
      (e: unknown) => e instanceof SchemaError && e.path === 'Widget.v2' && /no conversion chain/.test(e.message),
    );
  });
  it('refuses an unknown storage version and an unserved storage version', () => {
    assert.throws(() => defineVersions({ versions: [WidgetV1], storage: 'v9' }), /"v9" is not among the versions/);
    assert.throws(() => defineVersions({ versions: [WidgetV1, WidgetV2], storage: 'v1', unserved: ['v1'], conversions: [v1ToV2] }), /storage version must be served/);
  });
  it('uses strategy None for versions with identical schemas and no conversion, Webhook otherwise', () => {
    assert.equal(defineVersions({ versions: [WidgetV2, WidgetV3], storage: 'v2' }).strategy, 'None');
    assert.equal(Widgets.strategy, 'Webhook');
  });
});

describe('toCrd of a VersionedResource', () => {
  it('emits every version, one storage, and a Webhook conversion at the local-development URL, path /convert/<crd>', () => {
    const crd = toCrd(Widgets);
    assert.deepEqual(crd.spec.versions.map((v) => [v.name, v.served, v.storage]), [['v1', true, true], ['v2', true, false], ['v3', true, false]]);
    assert.deepEqual(crd.spec.conversion, {
      strategy: 'Webhook',
      webhook: { conversionReviewVersions: ['v1'], clientConfig: { url: 'https://127.0.0.1:9443/convert/widgets.example.com' } },
    });
    assert.equal(conversionPath(Widgets), '/convert/widgets.example.com');
  });
  it('emits strategy None when the schemas are identical', () => {
    assert.deepEqual(toCrd(defineVersions({ versions: [WidgetV2, WidgetV3], storage: 'v2' })).spec.conversion, { strategy: 'None' });
  });
  it('keeps a one-version resource exactly as before: no conversion field', () => {
    assert.equal(toCrd(WidgetV1).spec.conversion, undefined);
  });
});

describe('convertReview', () => {
  const review = (objects: KubeObject[], desiredAPIVersion = 'example.com/v2'): ConversionReview & { request: NonNullable<ConversionReview['request']> } => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'ConversionReview',
    request: { uid: 'abc-123', desiredAPIVersion, objects },
  });

  it('echoes the uid and converts every object in order with Success', () => {
    const reply = convertReview(Widgets, review(v1Objects));
    assert.equal(reply.response?.uid, 'abc-123');
    assert.deepEqual(reply.response?.result, { status: 'Success' });
    assert.deepEqual(reply.response?.convertedObjects.map((o) => [o.apiVersion, o.metadata?.name]), v1Objects.map(() => ['example.com/v2', 'w']));
    assert.equal(reply.request, undefined);
  });
  it('answers Failure with a message naming the object when one cannot be converted', () => {
    const reply = convertReview(Widgets, review([v1Objects[0] as KubeObject, { apiVersion: 'other.io/v1', kind: 'Widget', metadata: { name: 'x', namespace: 'ns' } }]));
    assert.equal(reply.response?.result.status, 'Failure');
    assert.match(reply.response?.result.message ?? '', /Widget ns\/x: apiVersion "other.io\/v1" is not a version of widgets.example.com/);
    assert.deepEqual(reply.response?.convertedObjects, []);
  });
  it('answers Failure, not a crash, when a conversion function throws', () => {
    const throwing = defineVersions({
      versions: [WidgetV1, WidgetV2],
      storage: 'v1',
      conversions: [conversion(WidgetV1, WidgetV2, { up: () => { throw new Error('boom'); }, down: (o) => ({ metadata: o.metadata, spec: { size: 1 } }) })],
    });
    const reply = convertReview(throwing, review([v1Objects[0] as KubeObject]));
    assert.equal(reply.response?.result.status, 'Failure');
    assert.match(reply.response?.result.message ?? '', /the conversion function threw: boom/);
  });
  it('answers an empty request with an empty Success', () => {
    assert.deepEqual(convertReview(Widgets, review([])).response, { uid: 'abc-123', convertedObjects: [], result: { status: 'Success' } });
  });
  it('tells a malformed review from a request (the server answers 400)', () => {
    assert.equal(isConversionReviewRequest(review([])), true);
    assert.equal(isConversionReviewRequest({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview' }), false);
    assert.equal(isConversionReviewRequest({ apiVersion: 'apiextensions.k8s.io/v1beta1', kind: 'ConversionReview', request: { uid: 'a', desiredAPIVersion: 'x', objects: [] } }), false);
    assert.equal(isConversionReviewRequest('nope'), false);
  });
});
