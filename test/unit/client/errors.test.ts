import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, errorFromResponse, errorFromStatus, isRetryable, ProtocolError, TransportError } from '../../../src/client/errors.ts';

const listPods = { verb: 'list', resource: 'pods', namespace: 'team-a' };

describe('error classification', () => {
  it('classifies the plain-text 429 of priority-and-fairness and reads Retry-After from the header', () => {
    const err = errorFromResponse(429, 'Too many requests, please try again later.\n', '3', listPods);
    assert.equal(err.kind, 'TooManyRequests');
    assert.equal(err.retryAfterMs, 3000);
    assert.equal(err.status, undefined);
    assert.match(err.message, /list pods in namespace team-a failed \(TooManyRequests, HTTP 429\): Too many requests/);
    assert.equal(isRetryable(err), true);
  });

  it('lets the Status reason win over the HTTP code', () => {
    const body = JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'AlreadyExists', code: 409, message: 'printers "p1" already exists' });
    assert.equal(errorFromResponse(409, body, undefined).kind, 'AlreadyExists');
    const conflict = JSON.stringify({ kind: 'Status', reason: 'Conflict', code: 409, message: 'the object has been modified' });
    assert.equal(errorFromResponse(409, conflict, undefined).kind, 'Conflict');
  });

  it('maps 410 to Expired and takes retryAfterSeconds from the Status when no header is sent', () => {
    assert.equal(errorFromResponse(410, '{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 1 (5)"}', undefined).kind, 'Expired');
    const tooLarge = JSON.stringify({ kind: 'Status', code: 504, reason: 'Timeout', details: { retryAfterSeconds: 1 } });
    const err = errorFromResponse(504, tooLarge, undefined);
    assert.equal(err.kind, 'Timeout');
    assert.equal(err.retryAfterMs, 1000);
  });

  it('says which verb, resource and namespace RBAC denied', () => {
    const body = JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'printers.operon.dev is forbidden' });
    const err = errorFromResponse(403, body, undefined, { verb: 'watch', resource: 'printers.operon.dev', namespace: 'lab' });
    assert.equal(err.kind, 'Forbidden');
    assert.equal(isRetryable(err), false);
    assert.match(err.hint, /verb "watch" on "printers\.operon\.dev" in namespace lab/);
  });

  it('a failed JSON patch test op (a bare 422 without causes, as the real API server sends it) gets a hint about the patch, not the schema', () => {
    const bare = JSON.stringify({ kind: 'Status', status: 'Failure', message: 'the server rejected our request due to an error in our request', reason: 'Invalid', details: {}, code: 422 });
    const patch = errorFromResponse(422, bare, undefined, { verb: 'patch', resource: 'configmaps', namespace: 'a', name: 'x' });
    assert.equal(patch.kind, 'Invalid');
    assert.match(patch.hint, /JSON patch "test" operation failed/);
    const schema = JSON.stringify({ kind: 'Status', reason: 'Invalid', code: 422, details: { causes: [{ field: 'spec.size', reason: 'FieldValueInvalid' }] } });
    assert.match(errorFromResponse(422, schema, undefined, { verb: 'patch', resource: 'configmaps' }).hint, /schema/);
  });

  it('builds an error from an in-stream ERROR event', () => {
    const err = errorFromStatus({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    assert.ok(err instanceof ApiError);
    assert.equal(err.kind, 'Expired');
  });

  it('retries network failures, not protocol errors, and records whether a request was sent', () => {
    assert.equal(isRetryable(new TransportError('reset')), true);
    assert.equal(new TransportError('reset').requestSent, true);
    assert.equal(new TransportError('refused', { requestSent: false }).requestSent, false);
    assert.equal(isRetryable(new ProtocolError('bad line')), false);
    assert.equal(isRetryable(errorFromResponse(502, '<html>bad gateway</html>', undefined)), true);
  });
});
