/**
 * Admission webhooks on a real API server, which calls the operator back over loopback: refusals
 * and warnings reach kubectl, a mutation adds a default, dry runs skip side effects, failure
 * policies decide what happens while the webhook is down, a certificate rotation drops no
 * request, and a standby replica answers.
 *
 * Every configuration made here is named after this file, scoped by namespaceSelector to this
 * file's namespace and by rules to this file's own group, and deleted after each test: a leftover
 * `Fail` webhook would otherwise refuse other files' writes on the shared plane.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { AdmissionError, builtin, Registry, resource, Type, type AdmissionOptions } from '../../src/index.ts';
import { startOperator, type OperatorRun } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';
import { freePorts } from '../../src/cluster/ports.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('admission');
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());

const group = 'admission.test.operon.dev';
const widgetDecl = { group, version: 'v1', kind: 'Widget', spec: Type.Object({ size: Type.Integer(), mode: Type.Optional(Type.String()) }) } as const;
const strictDecl = { group, version: 'v1', kind: 'Strict', spec: Type.Object({ n: Type.Integer() }) } as const;
const lenientDecl = { group, version: 'v1', kind: 'Lenient', spec: Type.Object({ n: Type.Integer() }) } as const;
const convertedDecl = { group, version: 'v1', kind: 'Converted', spec: Type.Object({ n: Type.Integer() }) } as const;
for (const decl of [widgetDecl, strictDecl, lenientDecl, convertedDecl]) await installCrd(client, resource(decl, { registry: new Registry() }));

const scoped: AdmissionOptions = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } };
const configName = `admission-test-${ns}`;

async function deleteConfigurations(): Promise<void> {
  for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
    await cluster.kubectl(['delete', kind, configName, '--ignore-not-found']);
  }
}
afterEach(deleteConfigurations);

async function start(registry: Registry, extra: Partial<Parameters<typeof startOperator>[1]> = {}): Promise<OperatorRun> {
  const [port = 0] = await freePorts(1);
  const run = startOperator(registry, {
    client,
    namespaces: [ns],
    webhooks: { clientConfig: { url: `https://127.0.0.1:${port}` }, host: '127.0.0.1', port, name: configName, certificates: { secret: { namespace: ns, name: 'webhook-tls' } } },
    ...extra,
  });
  await run.ready;
  return run;
}

const widget = (name: string, spec: Record<string, unknown>): string =>
  JSON.stringify({ apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name, namespace: ns }, spec });

describe('admission webhooks', () => {
  it('refuses with the message kubectl apply shows, passes warnings to kubectl, and adds a default by mutation', async () => {
    const registry = new Registry();
    const widgets = resource(widgetDecl, { registry });
    widgets.validate(({ object, warn }) => {
      const size = object?.spec?.size ?? 0;
      if (size > 10) return `size ${size} exceeds the limit of 10`;
      if (size === 9) warn('size 9 is close to the limit of 10');
      return undefined;
    }, { ...scoped, id: 'size' });
    widgets.mutate(({ object }) => {
      if (object?.spec && object.spec.mode === undefined) object.spec.mode = 'standard';
    }, { ...scoped, id: 'default-mode' });
    const run = await start(registry);
    after(() => run.stop());

    const refused = await cluster.kubectlResult(['apply', '-f', '-'], { input: widget('big', { size: 11 }) });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /admission webhook "size\.widgets\.admission\.test\.operon\.dev" denied the request: size 11 exceeds the limit of 10/);

    const warned = await cluster.kubectlResult(['apply', '-f', '-'], { input: widget('nine', { size: 9 }) });
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /Warning: size 9 is close to the limit of 10/);

    const stored = JSON.parse(await cluster.kubectl(['get', 'widgets.admission.test.operon.dev', 'nine', '-n', ns, '-o', 'json'])) as { spec: { mode?: string } };
    assert.equal(stored.spec.mode, 'standard');
  });

  it('runs no side effect on --dry-run=server, and tells the handler it is a dry run', async () => {
    const registry = new Registry();
    const calls: boolean[] = [];
    const sideEffects: string[] = [];
    resource(widgetDecl, { registry }).validate(({ dryRun, name }) => {
      calls.push(dryRun);
      if (!dryRun) sideEffects.push(`audited ${name}`);
    }, { ...scoped, id: 'audit', sideEffects: 'NoneOnDryRun' });
    const run = await start(registry);
    after(() => run.stop());

    const result = await cluster.kubectlResult(['apply', '--dry-run=server', '-f', '-'], { input: widget('dry', { size: 1 }) });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(calls, [true]);
    assert.deepEqual(sideEffects, []);
    const missing = await cluster.kubectlResult(['get', 'widgets.admission.test.operon.dev', 'dry', '-n', ns]);
    assert.notEqual(missing.code, 0);
  });

  it('with the webhook down, failurePolicy Fail refuses writes and Ignore lets them through', async () => {
    const registry = new Registry();
    resource(strictDecl, { registry }).validate(() => undefined, { ...scoped, id: 'strict', failurePolicy: 'Fail', timeoutSeconds: 2 });
    resource(lenientDecl, { registry }).validate(() => undefined, { ...scoped, id: 'lenient', failurePolicy: 'Ignore', timeoutSeconds: 2 });
    const run = await start(registry);
    await run.stop(); // the configuration stays; nothing answers at its URL

    const obj = (kind: string): string => JSON.stringify({ apiVersion: `${group}/v1`, kind, metadata: { name: 'down', namespace: ns }, spec: { n: 1 } });
    const strict = await cluster.kubectlResult(['apply', '-f', '-'], { input: obj('Strict') });
    assert.notEqual(strict.code, 0);
    assert.match(strict.stderr, /failed calling webhook "strict\.stricts\.admission\.test\.operon\.dev"/);
    const lenient = await cluster.kubectlResult(['apply', '-f', '-'], { input: obj('Lenient') });
    assert.equal(lenient.code, 0, lenient.stderr);
  });

  it('rotates the serving certificate while requests flow, with no failed admission', async () => {
    const registry = new Registry();
    let admitted = 0;
    resource(widgetDecl, { registry }).validate(() => void admitted++, { ...scoped, id: 'count' });
    // A serving lifetime this short is always due for renewal: every check issues a new certificate.
    const [port = 0] = await freePorts(1);
    const run = startOperator(registry, {
      client,
      namespaces: [ns],
      webhooks: {
        clientConfig: { url: `https://127.0.0.1:${port}` },
        host: '127.0.0.1',
        port,
        name: configName,
        certificates: { secret: { namespace: ns, name: 'rotating-tls' }, servingLifetimeMs: 5_000 },
        checkIntervalMs: 200,
      },
    });
    await run.ready;
    after(() => run.stop());
    const rotations = (): number => run.logs.filter((l) => l.msg === 'webhook server certificate replaced').length;
    const serials = new Set<string>();
    let i = 0;
    // Requests flow until three rotations happened (each create must be admitted, or it throws).
    for (; rotations() < 3 && i < 500; i++) {
      const created = await client.create(resource(widgetDecl, { registry: new Registry() }), {
        apiVersion: `${group}/v1`,
        kind: 'Widget',
        metadata: { name: `rot-${i}`, namespace: ns },
        spec: { size: 1 },
      });
      assert.equal(created.metadata.name, `rot-${i}`);
      const secret = await client.get({ group: '', version: 'v1', plural: 'secrets', namespaced: true }, 'rotating-tls', { namespace: ns });
      serials.add(String((secret as { data?: Record<string, string> }).data?.['tls.crt']));
    }
    assert.ok(rotations() >= 3, `three rotations while requests flowed (saw ${rotations()})`);
    assert.ok(serials.size >= 2, `the serving certificate changed while requests flowed (saw ${serials.size})`);
    assert.equal(admitted, i);
  });

  it('a standby replica, not holding the lease, answers webhooks', async () => {
    const registry = (): Registry => {
      const r = new Registry();
      resource(widgetDecl, { registry: r }).validate(({ object }) => {
        if ((object?.spec?.size ?? 0) > 10) throw new AdmissionError('too big', 422);
      }, { ...scoped, id: 'standby' });
      return r;
    };
    const leaderElection = { lease: 'admission-standby', namespace: ns };
    const leader = await start(registry(), { leaderElection });
    after(() => leader.stop());
    await eventually(() => leader.operator.leading, { what: 'the first replica to lead' });
    // The second replica applies the configuration last, so the API server calls it.
    const standby = await start(registry(), { leaderElection });
    after(() => standby.stop());
    assert.equal(standby.operator.leading, false);

    const before = standby.operator.webhooks?.server?.requests ?? 0;
    const refused = await cluster.kubectlResult(['apply', '-f', '-'], { input: widget('standby-big', { size: 99 }) });
    assert.match(refused.stderr, /denied the request: too big/);
    assert.ok((standby.operator.webhooks?.server?.requests ?? 0) > before, 'the standby answered');
    assert.equal(standby.operator.leading, false);
  });

  it("points a CRD's conversion webhook at the same server with the same CA bundle", async () => {
    const registry = new Registry();
    resource(widgetDecl, { registry }).validate(() => undefined, { ...scoped, id: 'noop' });
    const run = await start(registry);
    after(() => run.stop());
    const webhooks = run.operator.webhooks;
    assert.ok(webhooks);
    let served = 0;
    webhooks.server?.route('/convert', async () => void served++);
    await webhooks.patchConversion(`converteds.${group}`, '/convert');

    const crd = JSON.parse(await cluster.kubectl(['get', 'crd', `converteds.${group}`, '-o', 'json'])) as {
      spec: { conversion: { strategy: string; webhook: { clientConfig: { url: string; caBundle: string }; conversionReviewVersions: string[] } } };
    };
    const secret = JSON.parse(await cluster.kubectl(['get', 'secret', 'webhook-tls', '-n', ns, '-o', 'json'])) as { data: Record<string, string> };
    assert.equal(crd.spec.conversion.strategy, 'Webhook');
    assert.equal(crd.spec.conversion.webhook.clientConfig.url, `https://127.0.0.1:${webhooks.port}/convert`);
    assert.equal(crd.spec.conversion.webhook.clientConfig.caBundle, secret.data['ca.crt']);
    assert.deepEqual(crd.spec.conversion.webhook.conversionReviewVersions, ['v1']);
    assert.equal(served, 0); // one served version: the API server never needs to convert
  });

  it('validates and mutates a built-in kind (ConfigMaps) with no watch on it', async () => {
    const registry = new Registry();
    const configmaps = resource(builtin('v1', 'ConfigMap'), { registry });
    configmaps.validate(({ object }) => (object?.data?.['password'] !== undefined ? { reject: 'keep passwords in a Secret, not a ConfigMap', code: 422 } : undefined), { ...scoped, id: 'no-passwords' });
    configmaps.mutate(({ object }) => {
      if (object) object.metadata = { ...object.metadata, labels: { ...object.metadata?.labels, 'admission.test.operon.dev/checked': 'yes' } };
    }, { ...scoped, id: 'mark', operations: ['CREATE'] });
    const run = await start(registry);
    after(() => run.stop());
    assert.deepEqual(Object.keys(run.operator.health().resources), []);

    const cm = (name: string, data: Record<string, string>): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data });
    const refused = await cluster.kubectlResult(['apply', '-f', '-'], { input: cm('secretive', { password: 'x' }) });
    assert.match(refused.stderr, /admission webhook "no-passwords\.configmaps\.core" denied the request: keep passwords in a Secret, not a ConfigMap/);
    await cluster.kubectl(['apply', '-f', '-'], { input: cm('plain', { color: 'blue' }) });
    const stored = JSON.parse(await cluster.kubectl(['get', 'configmap', 'plain', '-n', ns, '-o', 'json'])) as { metadata: { labels?: Record<string, string> } };
    assert.equal(stored.metadata.labels?.['admission.test.operon.dev/checked'], 'yes');
  });
});
