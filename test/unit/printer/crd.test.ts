/**
 * The checked-in `operators/printer/crd.yaml` is exactly what the declaration generates, and the
 * declaration says what the design asks for. When this fails after a change to `resource.ts`,
 * regenerate: `node -C operon-source operators/printer/generate.ts > operators/printer/crd.yaml`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { crdToYaml, toCrd } from '../../../src/index.ts';
import { Printer, TEXT_MAX_LENGTH } from '../../../operators/printer/resource.ts';
import { FROM_SOURCE } from '../../support/source.ts';

const dir = fileURLToPath(new URL('../../../operators/printer/', import.meta.url));
const checkedIn = readFileSync(`${dir}crd.yaml`, 'utf8');
const generated = crdToYaml(toCrd(Printer));

describe('operators/printer/crd.yaml', () => {
  it('is byte for byte what the declaration generates (regenerate with generate.ts when this fails)', () => {
    assert.equal(checkedIn, generated, 'crd.yaml is stale: run `node -C operon-source operators/printer/generate.ts > operators/printer/crd.yaml`');
  });

  it('is what generate.ts prints', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [...FROM_SOURCE, `${dir}generate.ts`]);
    assert.equal(stdout, checkedIn);
  });

  it('declares printers.operon.dev/v1, namespaced, short name prn, with a status subresource', () => {
    const crd = YAML.parse(checkedIn);
    assert.equal(crd.metadata.name, 'printers.operon.dev');
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.deepEqual(crd.spec.names, { kind: 'Printer', listKind: 'PrinterList', plural: 'printers', singular: 'printer', shortNames: ['prn'] });
    const [v1] = crd.spec.versions;
    assert.equal(v1.name, 'v1');
    assert.deepEqual(v1.subresources, { status: {} });
    assert.deepEqual(v1.schema.openAPIV3Schema.required, ['spec']);
  });

  it('requires spec.text, 1 to 4096 characters, without NUL', () => {
    const text = YAML.parse(checkedIn).spec.versions[0].schema.openAPIV3Schema.properties.spec;
    assert.deepEqual(text.required, ['text']);
    assert.equal(text.properties.text.minLength, 1);
    assert.equal(text.properties.text.maxLength, TEXT_MAX_LENGTH);
    assert.equal(TEXT_MAX_LENGTH, 4096);
    const pattern = new RegExp(text.properties.text.pattern, 'u');
    assert.ok(pattern.test('line\nwith "quotes" and $(rm -rf /) 🖨️'));
    assert.ok(!pattern.test('nul \u0000 inside'));
  });

  it('shows Text (the short summary), Pod, Phase and Age columns', () => {
    const columns = YAML.parse(checkedIn).spec.versions[0].additionalPrinterColumns as Array<{ name: string; jsonPath: string }>;
    assert.deepEqual(
      columns.map((c) => [c.name, c.jsonPath]),
      [
        ['Text', '.status.summary'],
        ['Pod', '.status.pod'],
        ['Phase', '.status.phase'],
        ['Age', '.metadata.creationTimestamp'],
        ['Paused', '.metadata.annotations.operon\\.dev/paused'],
      ],
    );
  });

  it("keeps the status fields the operators write, Operon's state, and free-form room for handler results", () => {
    const status = YAML.parse(checkedIn).spec.versions[0].schema.openAPIV3Schema.properties.status;
    assert.deepEqual(Object.keys(status.properties), ['pod', 'phase', 'summary', 'observedGeneration', 'conditions', 'operon', 'handlers']);
    // state: 'status' keeps the diff base and progress there: pruned without this.
    assert.equal(status.properties.operon['x-kubernetes-preserve-unknown-fields'], true);
    assert.deepEqual(status.properties.phase.enum, ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']);
    assert.equal(status.properties.conditions['x-kubernetes-list-type'], 'map');
    assert.deepEqual(status.properties.handlers.additionalProperties, { 'x-kubernetes-preserve-unknown-fields': true });
  });
});
