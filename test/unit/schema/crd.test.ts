import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import YAML from 'yaml';
import { crdToYaml, toCrd, type CustomResourceDefinition } from '../../../src/manifests/crd.ts';
import { SchemaError } from '../../../src/schema/errors.ts';
import { defineResource } from '../../../src/schema/resource.ts';

/** The CryptoValueCalculator of the second design document, declared with TypeBox. */
const CryptoValueCalculator = defineResource({
  group: 'crypto.tools',
  version: 'v1',
  kind: 'CryptoValueCalculator',
  shortNames: ['cvc', 'cvcs'],
  spec: Type.Object({
    coin: Type.Union([Type.Literal('bitcoin'), Type.Literal('ethereum'), Type.Literal('dogecoin'), Type.Literal('shiba-inu')], {
      description: 'The specific crypto coin.',
    }),
    amount: Type.Number({ minimum: 0, description: 'The amount of specified crypto currency.' }),
  }),
  required: ['spec'],
  printerColumns: [
    { name: 'Coin', type: 'string', priority: 0, jsonPath: '.spec.coin', description: 'The specific crypto coin.' },
    { name: 'Amount', type: 'number', priority: 0, jsonPath: '.spec.amount', description: 'The amount of specified crypto currency.' },
    {
      name: 'Value',
      type: 'string',
      priority: 0,
      jsonPath: '.metadata.annotations.value',
      description: 'The current value of specified crypto currency based on given amount and market value in USD.',
    },
  ],
});

const expectedCvc: CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'cryptovaluecalculators.crypto.tools' },
  spec: {
    group: 'crypto.tools',
    names: {
      kind: 'CryptoValueCalculator',
      listKind: 'CryptoValueCalculatorList',
      plural: 'cryptovaluecalculators',
      singular: 'cryptovaluecalculator',
      shortNames: ['cvc', 'cvcs'],
    },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            required: ['spec'],
            properties: {
              spec: {
                type: 'object',
                required: ['coin', 'amount'],
                properties: {
                  coin: { type: 'string', description: 'The specific crypto coin.', enum: ['bitcoin', 'ethereum', 'dogecoin', 'shiba-inu'] },
                  amount: { type: 'number', description: 'The amount of specified crypto currency.', minimum: 0 },
                },
              },
            },
          },
        },
        additionalPrinterColumns: [
          { name: 'Coin', type: 'string', jsonPath: '.spec.coin', description: 'The specific crypto coin.', priority: 0 },
          { name: 'Amount', type: 'number', jsonPath: '.spec.amount', description: 'The amount of specified crypto currency.', priority: 0 },
          {
            name: 'Value',
            type: 'string',
            jsonPath: '.metadata.annotations.value',
            description: 'The current value of specified crypto currency based on given amount and market value in USD.',
            priority: 0,
          },
          {
            name: 'Paused',
            type: 'string',
            jsonPath: '.metadata.annotations.operon\\.dev/paused',
            description: "Set while the annotation operon.dev/paused pauses Operon's handling of the object",
            priority: 1,
          },
        ],
      },
    ],
  },
};

/** What `crdToYaml` writes for the CVC; a checked-in crd.yaml is compared against output like this. */
const expectedCvcYaml = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: cryptovaluecalculators.crypto.tools
spec:
  group: crypto.tools
  names:
    kind: CryptoValueCalculator
    listKind: CryptoValueCalculatorList
    plural: cryptovaluecalculators
    singular: cryptovaluecalculator
    shortNames:
      - cvc
      - cvcs
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          required:
            - spec
          properties:
            spec:
              type: object
              required:
                - coin
                - amount
              properties:
                coin:
                  type: string
                  description: The specific crypto coin.
                  enum:
                    - bitcoin
                    - ethereum
                    - dogecoin
                    - shiba-inu
                amount:
                  type: number
                  description: The amount of specified crypto currency.
                  minimum: 0
      additionalPrinterColumns:
        - name: Coin
          type: string
          jsonPath: .spec.coin
          description: The specific crypto coin.
          priority: 0
        - name: Amount
          type: number
          jsonPath: .spec.amount
          description: The amount of specified crypto currency.
          priority: 0
        - name: Value
          type: string
          jsonPath: .metadata.annotations.value
          description: The current value of specified crypto currency based on given amount and market value in USD.
          priority: 0
        - name: Paused
          type: string
          jsonPath: .metadata.annotations.operon\\.dev/paused
          description: Set while the annotation operon.dev/paused pauses Operon's handling of the object
          priority: 1
`;

describe('toCrd', () => {
  it('builds the CryptoValueCalculator CRD of the design document', () => {
    assert.deepEqual(toCrd(CryptoValueCalculator), expectedCvc);
  });

  it('writes the CVC CRD as stable YAML, byte for byte', () => {
    assert.equal(crdToYaml(toCrd(CryptoValueCalculator)), expectedCvcYaml);
  });

  it('gives the same bytes however the CRD object was assembled', () => {
    const crd = toCrd(CryptoValueCalculator);
    const shuffled = JSON.parse(JSON.stringify({ spec: crd.spec, metadata: crd.metadata, kind: crd.kind, apiVersion: crd.apiVersion })) as CustomResourceDefinition;
    shuffled.spec.versions[0] = Object.fromEntries(Object.entries(crd.spec.versions[0] ?? {}).reverse()) as CustomResourceDefinition['spec']['versions'][number];
    assert.equal(crdToYaml(shuffled), expectedCvcYaml);
  });

  it('round-trips through YAML to the same object', () => {
    assert.deepEqual(YAML.parse(crdToYaml(toCrd(CryptoValueCalculator))), expectedCvc);
  });

  it('enables the status subresource and puts status next to spec when a status is declared', () => {
    const Printer = defineResource({
      group: 'operon.dev',
      version: 'v1',
      kind: 'Printer',
      shortNames: ['prn'],
      categories: ['operon'],
      spec: Type.Object({ text: Type.String({ maxLength: 4096 }) }),
      status: Type.Object({ pod: Type.Optional(Type.String()) }),
      printerColumns: [{ name: 'Pod', type: 'string', jsonPath: '.status.pod' }],
      validations: [{ rule: "self.metadata.name != 'forbidden'", message: 'pick another name' }],
    });
    const crd = toCrd(Printer, { labels: { 'app.kubernetes.io/part-of': 'operon' } });
    const [version] = crd.spec.versions;
    assert.ok(version);
    assert.deepEqual(version.subresources, { status: {} });
    assert.deepEqual(Object.keys(version.schema.openAPIV3Schema.properties ?? {}), ['spec', 'status']);
    assert.deepEqual(version.schema.openAPIV3Schema['x-kubernetes-validations'], [{ rule: "self.metadata.name != 'forbidden'", message: 'pick another name' }]);
    assert.deepEqual(crd.spec.names.categories, ['operon']);
    assert.deepEqual(crd.metadata.labels, { 'app.kubernetes.io/part-of': 'operon' });
    assert.equal(version.schema.openAPIV3Schema.required, undefined);
  });

  it('omits subresources when no status is declared', () => {
    const [version] = toCrd(CryptoValueCalculator).spec.versions;
    assert.equal(version?.subresources, undefined);
  });

  describe('several versions', () => {
    const declare = (version: string, deprecated?: boolean) =>
      defineResource({ group: 'operon.dev', version, kind: 'Printer', spec: Type.Object({ text: Type.String() }), ...(deprecated ? { deprecated } : {}) });

    it('makes one CRD with exactly one storage version', () => {
      const crd = toCrd([declare('v1alpha1', true), declare('v1')], { storageVersion: 'v1' });
      assert.deepEqual(
        crd.spec.versions.map((v) => [v.name, v.served, v.storage, v.deprecated ?? false]),
        [
          ['v1alpha1', true, false, true],
          ['v1', true, true, false],
        ],
      );
    });

    it('requires the storage version to be named', () => {
      assert.throws(() => toCrd([declare('v1alpha1'), declare('v1')]), (e: unknown) => e instanceof SchemaError && /storageVersion/.test(e.hint));
    });

    it('refuses versions that disagree on names', () => {
      const other = defineResource({ group: 'operon.dev', version: 'v2', kind: 'Printer', plural: 'printerz', spec: Type.Object({}) });
      assert.throws(
        () => toCrd([declare('v1'), other], { storageVersion: 'v1' }),
        (e: unknown) => e instanceof SchemaError && e.kind === 'InvalidDeclaration' && e.path === 'Printer.v2.plural',
      );
    });
  });

  it('writes several CRDs as one multi-document YAML', () => {
    const Printer = defineResource({ group: 'operon.dev', version: 'v1', kind: 'Printer', spec: Type.Object({ text: Type.String() }) });
    const text = crdToYaml([toCrd(Printer), toCrd(CryptoValueCalculator)]);
    const docs = YAML.parseAllDocuments(text).map((d) => d.toJS() as CustomResourceDefinition);
    assert.deepEqual(
      docs.map((d) => d.metadata.name),
      ['printers.operon.dev', 'cryptovaluecalculators.crypto.tools'],
    );
  });

  it('quotes strings a YAML 1.1 reader (kubectl) would take for booleans', () => {
    const Switch = defineResource({
      group: 'operon.dev',
      version: 'v1',
      kind: 'Switch',
      plural: 'switches',
      spec: Type.Object({ state: Type.Union([Type.Literal('on'), Type.Literal('off')]) }),
    });
    assert.match(crdToYaml(toCrd(Switch)), /- "on"\n\s+- "off"/);
  });
});
