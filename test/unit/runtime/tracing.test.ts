import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { OPERON_VERSION } from '../../../src/runtime/operator.ts';
import { loadTracing } from '../../../src/runtime/tracing.ts';

describe('tracing', () => {
  it('names its tracer with the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(OPERON_VERSION, pkg.version);
  });

  it('without an SDK, wraps cycles and requests as no-ops that pass results and errors through', async () => {
    const tracing = await loadTracing(OPERON_VERSION);
    assert.equal(await tracing.cycle('configmaps', 'ns', 'a', async (span) => (span.set({ 'operon.plan': 'run' }), 42)), 42);
    await assert.rejects(tracing.requests.trace({ verb: 'get', resource: 'pods' }, () => Promise.reject(new Error('boom'))), /boom/);
  });
});
