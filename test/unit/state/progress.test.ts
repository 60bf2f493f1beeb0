import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newPatch } from '../../../src/state/patch.ts';
import { AnnotationProgressStorage, isDone, progressKey, StatusProgressStorage, type ProgressRecord } from '../../../src/state/progress.ts';

const record: ProgressRecord = { purpose: 'create', started: '2026-01-01T00:00:00.000Z', retries: 1, success: true };

describe('progressKey', () => {
  it('makes valid annotation names from handler ids', () => {
    assert.equal(progressKey('create'), 'operon.dev/create');
    assert.equal(progressKey('field.onText/spec.text'), 'operon.dev/field.onText.spec.text');
    assert.equal(progressKey('weird id!'), 'operon.dev/weird_id');
  });

  it('cuts long ids to 63 characters with a hash, so ids differing at the end stay apart', () => {
    const a = progressKey(`create.${'x'.repeat(80)}a`);
    const b = progressKey(`create.${'x'.repeat(80)}b`);
    assert.notEqual(a, b);
    assert.ok(a.split('/')[1]!.length <= 63);
    assert.match(a.split('/')[1]!, /^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$/);
  });

  it('never collides with the diff base key', () => {
    assert.notEqual(progressKey('last-handled-configuration'), 'operon.dev/last-handled-configuration');
  });
});

describe('AnnotationProgressStorage', () => {
  const storage = new AnnotationProgressStorage();

  it('round-trips a record through annotations', () => {
    const patch = newPatch();
    storage.store(patch, 'create', record);
    const body = { metadata: { annotations: patch.metadata.annotations as Record<string, string> } };
    assert.deepEqual(storage.fetch(body, 'create', 'create'), record);
    assert.equal(isDone(storage.fetch(body, 'create', 'create')), true);
  });

  it('reads a record of another cause as absent', () => {
    const body = { metadata: { annotations: { 'operon.dev/create': JSON.stringify(record) } } };
    assert.equal(storage.fetch(body, 'create', 'update'), undefined);
  });

  it('purges every record but the diff base and kept purposes', () => {
    const body = {
      metadata: {
        annotations: {
          'operon.dev/create': JSON.stringify(record),
          'operon.dev/sync': JSON.stringify({ ...record, purpose: 'reconcile' }),
          'operon.dev/last-handled-configuration': '{}',
          other: 'x',
        },
      },
    };
    const patch = newPatch();
    storage.store(patch, 'fresh', record);
    storage.purge(body, patch, 'reconcile');
    assert.deepEqual(patch.metadata.annotations, { 'operon.dev/create': null });
  });
});

describe('StatusProgressStorage', () => {
  it('keeps records under status.operon.progress and purges them', () => {
    const storage = new StatusProgressStorage();
    const patch = newPatch();
    storage.store(patch, 'create', record);
    const body = { status: patch.status };
    assert.deepEqual(storage.fetch(body, 'create', 'create'), record);
    const purge = newPatch();
    storage.purge(body, purge);
    assert.deepEqual(purge.status, { operon: { progress: { create: null } } });
  });
});
