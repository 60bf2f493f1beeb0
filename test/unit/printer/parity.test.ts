/**
 * The no-framework example carries its own copy of the Printer's pure pieces (it may import
 * nothing of Operon's tree). This test pins the copy to the reference: same Pod, same name, same
 * status values, for every hostile text.
 */
import '../../support/source.ts'; // fails fast without the operon-source condition
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as example from '../../../examples/printer-no-framework/printer.ts';
import { DEFAULT_IMAGE, printerPod, printerPodName } from '../../../operators/printer/pod.ts';
import { Printer } from '../../../operators/printer/resource.ts';
import { printedConditions, summarize } from '../../../operators/printer/status.ts';
import { HOSTILE_TEXTS } from './hostile-texts.ts';

const UIDS = ['6f2a1c4e-3b5d-4e8f-9a0b-1c2d3e4f5a6b', '00000000-0000-4000-8000-000000000001'];

function examplePrinter(uid: string, text: string): example.Printer {
  return { apiVersion: 'operon.dev/v1', kind: 'Printer', metadata: { name: 'p', namespace: 'ns', uid }, spec: { text } };
}

describe('the no-framework copy of the Printer pieces', () => {
  it('addresses the same resource', () => {
    assert.deepEqual([example.GROUP, example.VERSION, example.PLURAL], [Printer.group, Printer.version, Printer.plural]);
    assert.equal(example.DEFAULT_IMAGE, DEFAULT_IMAGE);
  });

  for (const [label, text] of [['Hello Kube!', 'Hello Kube!'] as const, ...HOSTILE_TEXTS]) {
    it(`builds the same Pod and status for ${label}`, () => {
      for (const uid of UIDS) {
        const source = examplePrinter(uid, text);
        assert.equal(example.printerPodName(uid, text), printerPodName(uid, text));
        for (const options of [{ managedBy: 'm' }, { managedBy: 'm', image: 'mirror.example/busybox:1.37' }]) {
          assert.deepEqual(example.printerPod(source, options), printerPod(source, options));
        }
      }
      assert.equal(example.summarize(text), summarize(text));
    });
  }

  it('writes the same Printed condition', () => {
    const now = new Date('2026-01-01T10:00:00.500Z');
    for (const phase of ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const) {
      const before = printedConditions('Pending', 1, undefined, new Date(0));
      assert.deepEqual(example.printedConditions(phase, 2, before, now), printedConditions(phase, 2, before, now));
      assert.deepEqual(example.printedConditions(phase, undefined, undefined, now), printedConditions(phase, undefined, undefined, now));
    }
  });
});
