/**
 * Generated RBAC on a real API server: a small operator (a CRD of its own with status, an owned
 * ConfigMap it creates, Events, leader election) runs in-process as a ServiceAccount that has
 * exactly what `rbacFor` generates, applied with kubectl, and does all its work. With one rule
 * removed (create on the owned ConfigMaps) it says which verb on which resource in which namespace
 * was refused, in its log and in a Warning Event, keeps running and healthy, and retries with
 * backoff instead of crash-looping; once the rule is back, the object is handled.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ConfigMap } from 'kubernetes-types/core/v1.d.ts';
import YAML from 'yaml';
import { rbacToYaml } from '../../src/cli/rbac.ts';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import type { KubeObject } from '../../src/client/types.ts';
import { adopt, builtin, Registry, resource, Type } from '../../src/index.ts';
import { rbacFor, type RbacRule } from '../../src/manifests/rbac.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crds.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('rbac');
const config = loadClusterConfig({ kubeconfig: cluster.kubeconfig });
const admin = KubeClient.fromConfig(config);
after(() => admin.close());

const registry = new Registry();
const tools = resource(
  {
    group: 'rbac.test.operon.dev',
    version: 'v1',
    kind: 'Tool',
    spec: Type.Object({ label: Type.String() }),
    status: Type.Object({ configMap: Type.Optional(Type.String()) }),
  },
  { registry },
);
const configmaps = builtin('v1', 'ConfigMap');
tools.owns(configmaps);
tools.onCreate(async ({ body, name, spec, client, patch, info }) => {
  const configMap = adopt({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-data` }, data: { label: spec.label } } satisfies ConfigMap, body);
  await client.create(configmaps, configMap);
  patch.status.configMap = configMap.metadata?.name;
  info('Created', `ConfigMap ${configMap.metadata?.name}`);
});
await installCrd(admin, tools);

const name = `operon-rbac-${ns}`;
const generated = rbacFor(registry, { name, namespace: ns });
after(async () => {
  await cluster.kubectlResult(['delete', 'clusterrole,clusterrolebinding', name, '--ignore-not-found']);
});

const apply = async (objects: KubeObject[]): Promise<void> => {
  await cluster.kubectl(['apply', '-f', '-'], { input: rbacToYaml(objects) });
};
const tool = (toolName: string) => ({ apiVersion: tools.apiVersion, kind: tools.kind, metadata: { name: toolName, namespace: ns }, spec: { label: toolName } });

await apply(generated);
const token = (await cluster.kubectl(['create', 'token', name, '-n', ns, '--duration=10m'])).trim();
const client = KubeClient.fromConfig({ ...config, clientCert: undefined, clientKey: undefined, auth: { type: 'token', token } });
after(() => client.close());

describe('an operator under exactly its generated RBAC', () => {
  const run = startOperator(registry, { client, namespaces: [ns], leaderElection: { lease: 'tools', namespace: ns } });
  after(() => run.stop());

  it('the generated YAML is what kubectl applied, and stable', () => {
    assert.equal(rbacToYaml(rbacFor(registry, { name, namespace: ns })), rbacToYaml(generated));
    const kinds = YAML.parseAllDocuments(rbacToYaml(generated)).map((d) => (d.toJSON() as KubeObject).kind);
    assert.deepEqual(kinds, ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
  });

  it('watches, leads, creates its owned object, writes status and progress, posts Events', async () => {
    await run.ready;
    await run.operator.whenLeading();
    await admin.create(tools, tool('t1'));
    const done = await waitFor(admin, tools, 't1', ns, (t) => t?.status?.configMap === 't1-data' && t.metadata.annotations?.['operon.dev/last-handled-configuration'] !== undefined, {
      timeoutMs: 30_000,
    });
    assert.ok(done);
    const cm = await admin.get(configmaps, 't1-data', { namespace: ns });
    assert.equal(cm.metadata.ownerReferences?.[0]?.name, 't1');
    await eventually(() => run.eventsFor('t1').some((e) => e.reason === 'Created'), { what: 'the Created Event' });
    const events = await admin.list({ group: '', version: 'v1', plural: 'events', namespaced: true }, { namespace: ns, fieldSelector: 'involvedObject.name=t1' });
    assert.ok(events.items.some((e) => (e as KubeObject & { reason?: string }).reason === 'Created'), 'the Event reached the API server');
    const refused = run.logs.filter((l) => /forbidden/i.test(JSON.stringify(l)));
    assert.deepEqual(refused, [], 'nothing was refused');
    assert.equal(run.operator.health().healthy, true);
  });

  it('with create on ConfigMaps removed, names the refused verb, resource and namespace, stays up, and recovers when granted', async () => {
    const without = generated.map((object) => {
      if (object.kind !== 'ClusterRole') return object;
      const rules = (object as KubeObject & { rules: RbacRule[] }).rules.map((rule) =>
        rule.resources.includes('configmaps') ? { ...rule, verbs: rule.verbs.filter((v) => v !== 'create') } : rule,
      );
      return { ...object, rules } as KubeObject;
    });
    await apply(without);
    // RBAC changes reach the authorizer through its informer: wait until the refusal is visible.
    await eventually(async () => (await cluster.kubectl(['auth', 'can-i', 'create', 'configmaps', '-n', ns, `--as=system:serviceaccount:${ns}:${name}`]).catch(() => 'no')).trim() === 'no', {
      what: 'the rule removal to take effect',
    });
    await admin.create(tools, tool('t2'));
    let line: Record<string, unknown> | undefined;
    await eventually(
      () => {
        line = run.logs.find((l) => String(l['msg']).includes('handler') && /cannot create resource \\?"configmaps\\?"/.test(JSON.stringify(l)));
        return line !== undefined;
      },
      { timeoutMs: 30_000, what: 'a log line about the refused create' },
    );
    const text = JSON.stringify(line);
    assert.match(text, new RegExp(`in the namespace \\\\"${ns}\\\\"`));
    assert.match(text, new RegExp(`system:serviceaccount:${ns}:${name}`));
    assert.match(String(line?.['msg']), /handler create.* failed, retrying in/);
    await eventually(() => run.eventsFor('t2').some((e) => e.type === 'Warning' && /cannot create resource "configmaps"/.test(e.message)), {
      what: 'a Warning Event naming the refused create',
    });
    // Still running and healthy (watches are fine), retrying with backoff, not in a tight loop.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(run.operator.phase, 'running');
    assert.equal(run.operator.health().healthy, true);
    // One line per attempt carries the delay (the backoff doubles from 1 s: 1, 2, 4 s).
    const delays = run.logs.filter((l) => String(l['msg']).startsWith('handler create') && typeof l['retryInMs'] === 'number').map((l) => Number(l['retryInMs']));
    assert.ok(delays.length >= 1 && delays.length <= 4, `${delays.length} attempts in a few seconds`);
    assert.deepEqual(delays, [1_000, 2_000, 4_000].slice(0, delays.length), 'retries back off');

    await apply(generated);
    const done = await waitFor(admin, tools, 't2', ns, (t) => t?.status?.configMap === 't2-data', { timeoutMs: 60_000, what: 't2 to be handled once create is granted again' });
    assert.ok(done);
  });
});
