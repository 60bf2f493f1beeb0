/**
 * Handler errors on a real API server: a TemporaryError is retried after its delay; a
 * PermanentError stops retries and leaves a Warning Event and the message on the object; an
 * ordinary error is retried with backoff, so a handler failing twice runs exactly three times.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { PermanentError, Registry, resource, TemporaryError, Type } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('handlers-errors');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
const jobs = resource(
  { group: 'errors.test.operon.dev', version: 'v1', kind: 'Job', spec: Type.Object({ mode: Type.String() }), status: Type.Object({}, { additionalProperties: true }) },
  { registry },
);
await installCrd(client, jobs);

const attempts = new Map<string, number[]>();
jobs.onCreate(
  async ({ name, spec, retry }) => {
    const times = attempts.get(name) ?? [];
    times.push(Date.now());
    attempts.set(name, times);
    assert.equal(retry, times.length - 1, 'retry counts earlier attempts');
    if (spec.mode === 'temporary' && times.length === 1) throw new TemporaryError('not yet', { delay: '1500ms' });
    if (spec.mode === 'permanent') throw new PermanentError('this cannot work');
    if (spec.mode === 'flaky' && times.length <= 2) throw new Error(`flake ${times.length}`);
    return 'ok';
  },
  { id: 'work', backoff: '300ms' },
);

const run = startOperator(registry, { client, namespaces: [ns] });
after(() => run.stop());
await run.ready;

const job = (name: string, mode: string) => ({ apiVersion: jobs.apiVersion, kind: jobs.kind, metadata: { name, namespace: ns }, spec: { mode } });
const handled = (name: string) => waitFor(client, jobs, name, ns, (j) => j?.metadata.annotations?.['operon.dev/last-handled-configuration'] !== undefined);

describe('handler errors', () => {
  it('retries a TemporaryError after its delay', async () => {
    await client.create(jobs, job('t1', 'temporary'));
    const done = await handled('t1');
    const [first, second, ...rest] = attempts.get('t1') ?? [];
    assert.equal(rest.length, 0);
    assert.ok(first !== undefined && second !== undefined && second - first >= 1400, `second attempt ${second! - first!} ms after the first`);
    assert.equal((done?.status as Record<string, unknown>)['work'], 'ok');
    assert.ok(run.eventsFor('t1').some((e) => e.type === 'Warning' && e.reason === 'HandlerRetrying' && e.message.includes('not yet')));
  });

  it('stops at a PermanentError, with a Warning Event, a log line and the message on the object', async () => {
    await client.create(jobs, job('p1', 'permanent'));
    const done = await handled('p1');
    assert.equal(attempts.get('p1')?.length, 1);
    const progress = JSON.parse(done?.metadata.annotations?.['operon.dev/work'] ?? '{}') as Record<string, unknown>;
    assert.equal(progress['failure'], true);
    assert.match(String(progress['message']), /this cannot work/);
    assert.ok(run.logs.some((l) => l.level === 'error' && l['name'] === 'p1' && l['handler'] === 'work' && l.msg.includes('failed permanently')));
    await eventually(
      async () => {
        const list = await client.list({ group: '', version: 'v1', plural: 'events', namespaced: true }, { namespace: ns, fieldSelector: 'involvedObject.name=p1' });
        return list.items.some((e) => (e as { type?: string; reason?: string }).type === 'Warning' && (e as { reason?: string }).reason === 'HandlerFailed');
      },
      { what: 'a HandlerFailed Warning Event about p1', timeoutMs: 20_000 },
    );
  });

  it('retries ordinary errors with backoff: failing twice then succeeding is three runs', async () => {
    await client.create(jobs, job('f1', 'flaky'));
    await handled('f1');
    assert.equal(attempts.get('f1')?.length, 3);
    // A change of an unrelated kind (status) must not start the handler again.
    await client.patch(jobs, 'f1', { type: 'merge', body: { status: { note: 'x' } } }, { namespace: ns, subresource: 'status' });
    await waitFor(client, jobs, 'f1', ns, (j) => (j?.status as Record<string, unknown> | undefined)?.['note'] === 'x');
    assert.equal(attempts.get('f1')?.length, 3);
  });
});
