import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/base/logger.ts';
import { normalizeAdmission } from '../../../src/admission/options.ts';
import { admit, parseReview } from '../../../src/admission/review.ts';
import { AdmissionError, MalformedReviewError, type AdmissionSpec, type MutateFn, type ValidateFn } from '../../../src/admission/types.ts';

const object = { apiVersion: 'x.dev/v1', kind: 'W', metadata: { name: 'w', namespace: 'n' }, spec: { size: 3 } };
const review = (request: Record<string, unknown> = {}) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'u-1', operation: 'CREATE', userInfo: { username: 'alice' }, object, ...request },
});
const validate = (fn: ValidateFn): AdmissionSpec => normalizeAdmission('validate', fn, { id: 'v' });
const mutate = (fn: MutateFn): AdmissionSpec => normalizeAdmission('mutate', fn, { id: 'm' });

describe('admit', () => {
  it('allows with the uid echoed and no status, patch or warnings', async () => {
    const reply = await admit(validate(() => undefined), review(), silentLogger);
    assert.deepEqual(reply, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u-1', allowed: true } });
  });

  const denials: Array<[string, ValidateFn, { code: number; message: string }, string[] | undefined]> = [
    ['a returned string denies with 403', () => 'no', { code: 403, message: 'no' }, undefined],
    ['a returned rejection keeps its code and warnings', () => ({ reject: 'too big', code: 422, warnings: ['w1'] }), { code: 422, message: 'too big' }, ['w1']],
    ['a thrown AdmissionError', () => { throw new AdmissionError('nope', 409, ['w2']); }, { code: 409, message: 'nope' }, ['w2']],
    ['any other error denies with 500 and names the handler', () => { throw new Error('boom'); }, { code: 500, message: 'v failed: boom' }, undefined],
  ];
  for (const [name, fn, status, warnings] of denials) {
    it(name, async () => {
      const { response } = await admit(validate(fn), review(), silentLogger);
      assert.equal(response.allowed, false);
      assert.deepEqual(response.status, status);
      assert.deepEqual(response.warnings, warnings);
      assert.equal(response.patch, undefined);
      assert.equal(response.patchType, undefined);
    });
  }

  it('keeps warnings from warn() and the result, in order, without duplicates', async () => {
    const { response } = await admit(validate(({ warn }) => { warn('a'); warn('b'); return { warnings: ['b', 'c'] }; }), review(), silentLogger);
    assert.deepEqual(response, { uid: 'u-1', allowed: true, warnings: ['a', 'b', 'c'] });
  });

  it('gives the context the request fields', async () => {
    let seen: unknown;
    await admit(validate((c) => void (seen = { op: c.operation, dry: c.dryRun, sub: c.subResource, user: c.userInfo.username, name: c.name, ns: c.namespace, old: c.oldObject })), review({ dryRun: true, subResource: 'status', namespace: 'n' }), silentLogger);
    assert.deepEqual(seen, { op: 'CREATE', dry: true, sub: 'status', user: 'alice', name: 'w', ns: 'n', old: null });
  });

  it('sends a base64 JSONPatch when a mutate handler changed the object, and never edits the request', async () => {
    const body = review();
    const { response } = await admit(mutate(({ object: o }) => { (o as typeof object).spec.size = 5; }), body, silentLogger);
    assert.equal(response.patchType, 'JSONPatch');
    assert.deepEqual(JSON.parse(Buffer.from(response.patch as string, 'base64').toString()), [{ op: 'replace', path: '/spec/size', value: 5 }]);
    assert.equal(body.request.object.spec.size, 3);
  });

  it('sends neither patchType nor patch when a mutate handler changed nothing', async () => {
    const { response } = await admit(mutate(() => undefined), review(), silentLogger);
    assert.deepEqual(response, { uid: 'u-1', allowed: true });
  });

  it('takes a returned object as the mutation', async () => {
    const { response } = await admit(mutate(({ object: o }) => ({ ...(o as typeof object), metadata: { ...object.metadata, labels: { a: 'b' } } })), review(), silentLogger);
    assert.deepEqual(JSON.parse(Buffer.from(response.patch as string, 'base64').toString()), [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }]);
  });
});

describe('parseReview', () => {
  const bad: Array<[string, unknown]> = [
    ['not an object', 'x'],
    ['a v1beta1 review', { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'CREATE' } }],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }],
    ['no uid', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { operation: 'CREATE' } }],
    ['an unknown operation', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'PATCH' } }],
  ];
  for (const [name, body] of bad) {
    it(`refuses ${name}`, () => assert.throws(() => parseReview(body), MalformedReviewError));
  }
});

describe('normalizeAdmission', () => {
  it('fills the defaults', () => {
    const spec = normalizeAdmission('validate', function supply() {}, {});
    assert.deepEqual([spec.id, spec.operations, spec.failurePolicy, spec.timeoutSeconds, spec.sideEffects], ['validate.supply', ['CREATE', 'UPDATE'], 'Fail', 10, 'None']);
  });
  const wrong: Array<[string, object, RegExp]> = [
    ['a timeout above 30', { timeoutSeconds: 31 }, /timeoutSeconds must be an integer from 1 to 30/],
    ['an unknown operation', { operations: ['PATCH'] }, /operations must be some of/],
    ['an unknown side effect', { sideEffects: 'Some' }, /sideEffects must be/],
    ['reinvocation on a validate handler', { reinvocationPolicy: 'IfNeeded' }, /mutate handlers only/],
  ];
  for (const [name, options, message] of wrong) {
    it(`refuses ${name}`, () => assert.throws(() => normalizeAdmission('validate', () => undefined, options as never), message));
  }
});
