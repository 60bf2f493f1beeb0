import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatSelector, namespaceMatcher, planWatches } from '../../../src/watch/scope.ts';

const namespaced = { namespaced: true };

describe('watch scope', () => {
  it('watches all namespaces with one watch by default or with *', () => {
    for (const namespaces of [undefined, '*', ['*']]) {
      const plan = planWatches(namespaces === undefined ? {} : { namespaces }, namespaced);
      assert.deepEqual(plan.watches, [{}]);
      assert.equal(plan.namespaceFilter, undefined);
    }
  });

  it('opens one watch per explicitly named namespace, deduplicated, with the selectors', () => {
    const plan = planWatches({ namespaces: ['shop', 'billing', 'shop'], labelSelector: { app: 'web' }, fieldSelector: 'status.phase=Running' }, namespaced);
    assert.deepEqual(plan.watches, [
      { namespace: 'shop', labelSelector: 'app=web', fieldSelector: 'status.phase=Running' },
      { namespace: 'billing', labelSelector: 'app=web', fieldSelector: 'status.phase=Running' },
    ]);
    assert.equal(plan.namespaceFilter, undefined);
    assert.deepEqual(planWatches({ namespaces: 'shop' }, namespaced).watches, [{ namespace: 'shop' }]);
  });

  it('drops excluded names from an explicit list', () => {
    assert.deepEqual(planWatches({ namespaces: ['shop', 'kube-system', '!kube-*'] }, namespaced).watches, [{ namespace: 'shop' }]);
  });

  it('uses one cluster-wide watch and a client-side filter for globs and exclusions', () => {
    const plan = planWatches({ namespaces: ['team-*', 'shop', '!team-x'] }, namespaced);
    assert.deepEqual(plan.watches, [{}]);
    const filter = plan.namespaceFilter;
    assert.ok(filter);
    assert.deepEqual(['team-a', 'team-x', 'shop', 'other', 'team-'].map(filter), [true, false, true, false, true]);
    const allBut = namespaceMatcher(['!kube-*']);
    assert.deepEqual(['default', 'kube-system', 'kube-public'].map(allBut), [true, false, false]);
    assert.equal(namespaceMatcher('ab?')('abc'), true);
    assert.equal(namespaceMatcher(['shop'])('shop'), true);
    assert.equal(namespaceMatcher(['shop'])('shopping'), false);
  });

  it('watches a cluster-scoped resource once, ignoring namespaces', () => {
    const plan = planWatches({ namespaces: ['shop'], labelSelector: 'tier=gold' }, { namespaced: false });
    assert.deepEqual(plan.watches, [{ labelSelector: 'tier=gold' }]);
  });

  it('fails at start-up on patterns that cannot match, instead of watching nothing', () => {
    assert.throws(() => planWatches({ namespaces: [] }, namespaced), /empty list/);
    assert.throws(() => planWatches({ namespaces: ['Shop'] }, namespaced), /neither a namespace name nor a glob/);
    assert.throws(() => planWatches({ namespaces: ['shop', '!shop'] }, namespaced), /every listed namespace is excluded/);
  });

  it('formats selectors', () => {
    assert.equal(formatSelector({ app: 'web', tier: 'front' }), 'app=web,tier=front');
    assert.equal(formatSelector(' app in (a,b) '), 'app in (a,b)');
    assert.equal(formatSelector({}), undefined);
    assert.equal(formatSelector(undefined), undefined);
  });
});
