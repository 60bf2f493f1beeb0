/**
 * The Printer operator's scheduling configuration (PRINTER_NODE_SELECTOR, PRINTER_TOLERATIONS):
 * valid values become the Pod's nodeSelector and tolerations; anything else is refused with the
 * variable's name and an example, so the operator stops at startup instead of making bad Pods.
 */
import '../../support/source.ts'; // fails fast without the operon-source condition
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNodeSelector, parseTolerations } from '../../../operators/printer/operator.ts';

describe('PRINTER_NODE_SELECTOR', () => {
  it('reads comma-separated key=value label pairs', () => {
    assert.equal(parseNodeSelector(undefined), undefined);
    assert.equal(parseNodeSelector('  '), undefined);
    assert.deepEqual(parseNodeSelector('operon.dev/node=real, disk=ssd'), { 'operon.dev/node': 'real', disk: 'ssd' });
    assert.deepEqual(parseNodeSelector('empty='), { empty: '' });
  });

  it('refuses what is not label syntax, naming the variable', () => {
    for (const bad of ['novalue', 'a=b=c', 'Bad_Prefix.io/x=y', 'k=-leading', `k=${'x'.repeat(64)}`, '=v']) {
      assert.throws(() => parseNodeSelector(bad), /^RangeError: PRINTER_NODE_SELECTOR: .* e\.g\. PRINTER_NODE_SELECTOR=operon\.dev\/node=real$/, bad);
    }
  });
});

describe('PRINTER_TOLERATIONS', () => {
  it('reads key=value:Effect, key:Effect and key', () => {
    assert.equal(parseTolerations(''), undefined);
    assert.deepEqual(parseTolerations('operon.dev/real-node=true:NoSchedule,gpu:NoExecute,dedicated'), [
      { key: 'operon.dev/real-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
      { key: 'gpu', operator: 'Exists', effect: 'NoExecute' },
      { key: 'dedicated', operator: 'Exists' },
    ]);
  });

  it('refuses unknown effects and malformed items, naming the variable', () => {
    for (const bad of ['k=v:Never', 'k=v=w:NoSchedule', ':NoSchedule', 'k=v:', 'bad key:NoSchedule']) {
      assert.throws(() => parseTolerations(bad), /^RangeError: PRINTER_TOLERATIONS: .* e\.g\. PRINTER_TOLERATIONS=operon\.dev\/real-node=true:NoSchedule$/, bad);
    }
  });
});
