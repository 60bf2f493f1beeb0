import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bothSelectors } from '../../../src/admission/configuration.ts';
import { admissionScope } from '../../../src/runtime/admission-scope.ts';

describe('admissionScope: the namespaces an operator answers admission for', () => {
  it('is every namespace by default and with allNamespaces', () => {
    assert.equal(admissionScope({}), undefined);
    assert.equal(admissionScope({ allNamespaces: true }), undefined);
  });
  it('names exact namespaces by the label the API server puts on every Namespace', () => {
    assert.deepEqual(admissionScope({ namespaces: ['shop', 'billing'] }), { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['shop', 'billing'] }] });
    assert.deepEqual(admissionScope({ namespaces: 'shop' }), { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['shop'] }] });
  });
  it('stays cluster-wide for globs and exclusions, which no label selector can say', () => {
    assert.equal(admissionScope({ namespaces: ['team-*'] }), undefined);
    assert.equal(admissionScope({ namespaces: ['!kube-system'] }), undefined);
  });
  it("uses the operator's namespace selector as a map or as equality terms", () => {
    assert.deepEqual(admissionScope({ namespaceSelector: { 'operon.dev/watch': 'true' } }), { matchLabels: { 'operon.dev/watch': 'true' } });
    assert.deepEqual(admissionScope({ namespaceSelector: 'team=a, env==prod' }), { matchLabels: { team: 'a', env: 'prod' } });
    assert.equal(admissionScope({ namespaceSelector: 'team in (a,b)' }), undefined);
  });
});

describe('bothSelectors', () => {
  it('ANDs two selectors, a key asked twice with two values matching nothing', () => {
    assert.deepEqual(bothSelectors(undefined, { matchLabels: { a: '1' } }), { matchLabels: { a: '1' } });
    assert.deepEqual(bothSelectors({ matchLabels: { team: 'a' } }, { matchLabels: { team: 'b' } }), {
      matchLabels: { team: 'a' },
      matchExpressions: [{ key: 'team', operator: 'In', values: ['b'] }],
    });
  });
});
