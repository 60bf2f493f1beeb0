/**
 * Event sources on a real API server: a Secret referenced by name from a custom resource wakes
 * that resource (and no other) when it changes (`watches` with a map function, controller-runtime's
 * `Watches`); a handler wakes a sibling with `ctx.enqueue`; code outside the handlers wakes an
 * object with `operator.enqueue`.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { builtin, Registry, resource, Type } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('handlers-watches');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const registry = new Registry();
const secrets = builtin('v1', 'Secret');
const apps = resource(
  {
    group: 'watches.test.operon.dev',
    version: 'v1',
    kind: 'App',
    spec: Type.Object({ secretName: Type.String(), wakes: Type.Optional(Type.String()) }),
    status: Type.Object({ token: Type.Optional(Type.String()), woken: Type.Optional(Type.Integer()) }),
  },
  { registry },
);
await installCrd(client, apps);

apps.watches(secrets, (secret, { cache }) => cache.list(secret.metadata.namespace).filter((app) => app.spec?.secretName === secret.metadata.name));

/** Reconcile runs per App, to tell which objects a Secret change woke. */
const runs = new Map<string, number>();
/** The `barrier` label each App's last run saw. */
const barriers = new Map<string, string | undefined>();
apps.reconcile(({ name, namespace, spec, status, cache, patch, enqueue, body }) => {
  runs.set(name, (runs.get(name) ?? 0) + 1);
  barriers.set(name, body.metadata.labels?.['barrier']);
  const data = cache.of(secrets).get(spec.secretName, namespace)?.data?.['token'];
  const token = data === undefined ? undefined : Buffer.from(data, 'base64').toString();
  if (token !== undefined && status.token !== token) {
    patch.status.token = token;
    if (spec.wakes) enqueue(spec.wakes);
  }
});

const run = startOperator(registry, { client, namespaces: [ns] });
after(() => run.stop());
await run.ready;

const secret = (name: string, token: string) => ({ apiVersion: 'v1' as const, kind: 'Secret' as const, metadata: { name, namespace: ns }, data: { token: Buffer.from(token).toString('base64') } });
const app = (name: string, secretName: string, wakes?: string) => ({ apiVersion: apps.apiVersion, kind: apps.kind, metadata: { name, namespace: ns }, spec: { secretName, ...(wakes ? { wakes } : {}) } });

describe('watches: related objects wake the objects that reference them', () => {
  it('a changed Secret wakes the App that names it, and not an App naming another Secret', async () => {
    await client.create(secrets, secret('db', 'one'));
    await client.create(secrets, secret('other', 'x'));
    await client.create(apps, app('uses-db', 'db'));
    await client.create(apps, app('uses-other', 'other'));
    await waitFor(client, apps, 'uses-db', ns, (a) => a?.status?.token === 'one', { timeoutMs: 30_000 });
    await waitFor(client, apps, 'uses-other', ns, (a) => a?.status?.token === 'x', { timeoutMs: 30_000 });
    // A barrier in the App's own event stream: once a run saw it, every earlier trigger of this App
    // (its creation, the Secret's, the echo of its status write) has been handled, so a later run
    // can only come from the change below.
    await client.patch(apps, 'uses-other', { type: 'merge', body: { metadata: { labels: { barrier: '1' } } } }, { namespace: ns });
    await eventually(() => barriers.get('uses-other') === '1', { what: 'a run of uses-other that saw the barrier' });
    const otherRuns = runs.get('uses-other');

    await client.patch(secrets, 'db', { type: 'merge', body: { data: { token: Buffer.from('two').toString('base64') } } }, { namespace: ns });
    const woken = await waitFor(client, apps, 'uses-db', ns, (a) => a?.status?.token === 'two', { timeoutMs: 30_000 });
    assert.equal(woken?.status?.token, 'two', 'the App saw the new Secret without any change of its own');
    assert.equal(runs.get('uses-other'), otherRuns, 'an App that names another Secret was not woken');
  });

  it('a Secret created after the App that names it wakes the App', async () => {
    await client.create(apps, app('early', 'late'));
    await waitFor(client, apps, 'early', ns, (a) => (runs.get('early') ?? 0) > 0 && a !== undefined, { timeoutMs: 30_000 });
    await client.create(secrets, secret('late', 'arrived'));
    const woken = await waitFor(client, apps, 'early', ns, (a) => a?.status?.token === 'arrived', { timeoutMs: 30_000 });
    assert.equal(woken?.status?.token, 'arrived');
  });
});

describe('enqueue', () => {
  it('ctx.enqueue from a handler wakes a sibling; operator.enqueue wakes an object from outside', async () => {
    // `second` names a Secret that does not exist yet: nothing but a wake-up makes it run again.
    await client.create(apps, app('second', 'missing'));
    await waitFor(client, apps, 'second', ns, () => (runs.get('second') ?? 0) > 0, { timeoutMs: 30_000 });
    const before = runs.get('second') ?? 0;
    // Created without a watch mapping to `second`: only `first`'s handler can wake it.
    await client.create(secrets, secret('first-secret', 'go'));
    await client.create(apps, app('first', 'first-secret', 'second'));
    await waitFor(client, apps, 'first', ns, (a) => a?.status?.token === 'go', { timeoutMs: 30_000 });
    await waitFor(client, apps, 'second', ns, () => (runs.get('second') ?? 0) > before, { timeoutMs: 30_000 });

    const outside = runs.get('second') ?? 0;
    assert.equal(run.operator.enqueue(apps, 'second', ns), true);
    await waitFor(client, apps, 'second', ns, () => (runs.get('second') ?? 0) > outside, { timeoutMs: 30_000 });
    assert.equal(run.operator.enqueue(builtin('v1', 'ConfigMap'), 'x', ns), false, 'a resource the operator does not handle');
  });
});
