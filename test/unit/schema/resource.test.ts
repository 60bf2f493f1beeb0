import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { SchemaError } from '../../../src/schema/errors.ts';
import { builtin, defineResource, pluralize, type ResourceDeclaration } from '../../../src/schema/resource.ts';

const spec = Type.Object({ text: Type.String({ maxLength: 4096 }) });

function declarationError(declaration: ResourceDeclaration, path: string, fix: RegExp): void {
  assert.throws(
    () => defineResource(declaration),
    (error: unknown) => {
      assert.ok(error instanceof SchemaError, String(error));
      assert.equal(error.kind, 'InvalidDeclaration');
      const problem = error.problems.find((p) => p.path === path);
      assert.ok(problem, `expected a problem at ${path}: ${error.message}`);
      assert.match(problem.fix, fix);
      assert.ok(error.message.includes(path));
      return true;
    },
  );
}

describe('pluralize', () => {
  const cases: Array<[string, string]> = [
    ['Printer', 'printers'],
    ['CryptoValueCalculator', 'cryptovaluecalculators'],
    ['Policy', 'policies'],
    ['Ingress', 'ingresses'],
    ['Box', 'boxes'],
    ['Patch', 'patches'],
    ['Mesh', 'meshes'],
    ['Gateway', 'gateways'],
    ['Key', 'keys'],
  ];
  for (const [kind, plural] of cases) it(`${kind} → ${plural}`, () => assert.equal(pluralize(kind), plural));
});

describe('defineResource', () => {
  it('derives names, apiVersion and the client address', () => {
    const Printer = defineResource({ group: 'operon.dev', version: 'v1', kind: 'Printer', shortNames: ['prn'], spec });
    assert.equal(Printer.apiVersion, 'operon.dev/v1');
    assert.equal(Printer.plural, 'printers');
    assert.equal(Printer.singular, 'printer');
    assert.equal(Printer.listKind, 'PrinterList');
    assert.equal(Printer.scope, 'Namespaced');
    assert.equal(Printer.crdName, 'printers.operon.dev');
    assert.deepEqual(Printer.ref, { group: 'operon.dev', version: 'v1', plural: 'printers', namespaced: true });
    assert.equal(Printer.hasStatus, false);
    assert.deepEqual(Printer.schemas.spec, { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 4096 } } });
  });

  it('lets plural, singular, listKind and scope be overridden', () => {
    const Octopus = defineResource({
      group: 'zoo.example.com',
      version: 'v1alpha1',
      kind: 'Octopus',
      plural: 'octopodes',
      singular: 'octo',
      listKind: 'Octopodes',
      scope: 'Cluster',
      spec,
    });
    assert.deepEqual([Octopus.plural, Octopus.singular, Octopus.listKind, Octopus.namespaced], ['octopodes', 'octo', 'Octopodes', false]);
  });

  it('recognises its own objects', () => {
    const Printer = defineResource({ group: 'operon.dev', version: 'v1', kind: 'Printer', spec });
    assert.equal(Printer.is({ apiVersion: 'operon.dev/v1', kind: 'Printer' }), true);
    assert.equal(Printer.is({ apiVersion: 'operon.dev/v2', kind: 'Printer' }), false);
    assert.equal(Printer.is(undefined), false);
  });

  it('enables status when a status schema is given', () => {
    const Printer = defineResource({ group: 'operon.dev', version: 'v1', kind: 'Printer', spec, status: Type.Object({ pod: Type.Optional(Type.String()) }) });
    assert.equal(Printer.hasStatus, true);
    assert.deepEqual(Printer.schemas.status, { type: 'object', properties: { pod: { type: 'string' } } });
  });

  it('names the spec path in schema errors', () => {
    assert.throws(
      () => defineResource({ group: 'operon.dev', version: 'v1', kind: 'Printer', spec: Type.Object({ when: Type.Date() }) }),
      (error: unknown) => error instanceof SchemaError && error.kind === 'Unsupported' && error.path === 'Printer.spec.properties.when.type',
    );
  });

  const base = { group: 'operon.dev', version: 'v1', kind: 'Printer', spec };
  const invalid: Array<{ name: string; declaration: ResourceDeclaration; path: string; fix: RegExp }> = [
    { name: 'a group without a dot', declaration: { ...base, group: 'operon' }, path: 'Printer.group', fix: /domain/ },
    { name: 'an upper-case version', declaration: { ...base, version: 'V1' }, path: 'Printer.version', fix: /v1/ },
    { name: 'a kind that is not CamelCase', declaration: { ...base, kind: 'printer' }, path: 'printer.kind', fix: /upper-case/ },
    { name: 'an upper-case short name', declaration: { ...base, shortNames: ['PRN'] }, path: 'Printer.shortNames[0]', fix: /lower-case/ },
    { name: 'duplicate short names', declaration: { ...base, shortNames: ['p', 'p'] }, path: 'Printer.shortNames', fix: /once/ },
    { name: 'an invalid plural', declaration: { ...base, plural: 'Printers' }, path: 'Printer.plural', fix: /lower-case/ },
    {
      name: 'a printer column with a bad type',
      declaration: { ...base, printerColumns: [{ name: 'T', type: 'text' as 'string', jsonPath: '.spec.text' }] },
      path: 'Printer.printerColumns[0].type',
      fix: /string, integer/,
    },
    {
      name: 'a printer column path that does not start at the root',
      declaration: { ...base, printerColumns: [{ name: 'T', type: 'string', jsonPath: 'spec.text' }] },
      path: 'Printer.printerColumns[0].jsonPath',
      fix: /\.spec\.coin/,
    },
    {
      name: 'a printer column naming an undeclared spec field',
      declaration: { ...base, printerColumns: [{ name: 'T', type: 'string', jsonPath: '.spec.txt' }] },
      path: 'Printer.printerColumns[0].jsonPath',
      fix: /declare the field/,
    },
    {
      name: 'a printer column on status without a status schema',
      declaration: { ...base, printerColumns: [{ name: 'P', type: 'string', jsonPath: '.status.pod' }] },
      path: 'Printer.printerColumns[0].jsonPath',
      fix: /declare the field/,
    },
    {
      name: 'a negative priority',
      declaration: { ...base, printerColumns: [{ name: 'T', type: 'string', jsonPath: '.spec.text', priority: -1 }] },
      path: 'Printer.printerColumns[0].priority',
      fix: /0/,
    },
    { name: 'a required status', declaration: { ...base, required: ['status' as 'spec'] }, path: 'Printer.required', fix: /only "spec"/ },
  ];
  for (const { name, declaration, path, fix } of invalid) {
    it(`rejects ${name}`, () => declarationError(declaration, path, fix));
  }

  it('accepts printer columns on metadata and on free-form fields', () => {
    const r = defineResource({
      ...base,
      spec: Type.Object({ text: Type.String(), extra: Type.Unknown() }),
      printerColumns: [
        { name: 'Value', type: 'string', jsonPath: '.metadata.annotations.value' },
        { name: 'Deep', type: 'string', jsonPath: '.spec.extra.anything' },
      ],
    });
    assert.equal(r.printerColumns.length, 2);
  });
});

describe('builtin', () => {
  const table: Array<[string, string, string, boolean]> = [
    ['v1', 'Pod', 'pods', true],
    ['v1', 'ConfigMap', 'configmaps', true],
    ['v1', 'Secret', 'secrets', true],
    ['v1', 'Service', 'services', true],
    ['v1', 'ServiceAccount', 'serviceaccounts', true],
    ['v1', 'Event', 'events', true],
    ['events.k8s.io/v1', 'Event', 'events', true],
    ['v1', 'Namespace', 'namespaces', false],
    ['v1', 'Node', 'nodes', false],
    ['apps/v1', 'Deployment', 'deployments', true],
    ['apps/v1', 'ReplicaSet', 'replicasets', true],
    ['apps/v1', 'StatefulSet', 'statefulsets', true],
    ['apps/v1', 'DaemonSet', 'daemonsets', true],
    ['batch/v1', 'Job', 'jobs', true],
    ['batch/v1', 'CronJob', 'cronjobs', true],
    ['coordination.k8s.io/v1', 'Lease', 'leases', true],
    ['rbac.authorization.k8s.io/v1', 'Role', 'roles', true],
    ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', true],
    ['rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false],
    ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', false],
    ['apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false],
  ];
  for (const [apiVersion, kind, plural, namespaced] of table) {
    it(`${apiVersion} ${kind} is ${plural}, ${namespaced ? 'namespaced' : 'cluster-scoped'}`, () => {
      const r = builtin(apiVersion as 'v1', kind as 'Pod');
      const slash = apiVersion.indexOf('/');
      assert.deepEqual(r.ref, {
        group: slash < 0 ? '' : apiVersion.slice(0, slash),
        version: slash < 0 ? apiVersion : apiVersion.slice(slash + 1),
        plural,
        namespaced,
      });
      assert.equal(r.apiVersion, apiVersion);
      assert.equal(r.kind, kind);
    });
  }

  it('takes plural and scope for kinds outside the table', () => {
    const ingresses = builtin('networking.k8s.io/v1', 'Ingress', { scope: 'Namespaced' });
    assert.deepEqual(ingresses.ref, { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespaced: true });
  });

  it('refuses an unknown kind without names, saying what to pass', () => {
    assert.throws(
      () => (builtin as (a: string, k: string) => unknown)('v1', 'Potato'),
      (error: unknown) => error instanceof SchemaError && error.kind === 'InvalidDeclaration' && /scope/.test(error.hint),
    );
  });
});
