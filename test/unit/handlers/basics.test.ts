import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from '../../../src/handlers/duration.ts';
import { ABSENT, PRESENT, matchMeta, matchValue } from '../../../src/handlers/filters.ts';
import { deriveId, normalizeHandler } from '../../../src/handlers/normalize.ts';
import { onStartup } from '../../../src/handlers/operator-handlers.ts';
import { Registry, resource } from '../../../src/handlers/registry.ts';
import { builtin } from '../../../src/schema/resource.ts';
import { Type } from '@sinclair/typebox';

describe('parseDuration', () => {
  it('accepts milliseconds and unit strings', () => {
    assert.equal(parseDuration(250), 250);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('60s'), 60_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5s'), 1_500);
  });

  it('refuses anything else, naming the value', () => {
    for (const bad of ['', '10', '5 minutes', '-1s', '1x']) assert.throws(() => parseDuration(bad, 'timer'), /timer: .* is not a duration/);
    assert.throws(() => parseDuration(-5), RangeError);
    assert.throws(() => parseDuration(Number.NaN), RangeError);
  });
});

describe('filters', () => {
  it('matches values, PRESENT, ABSENT and predicates', () => {
    assert.equal(matchValue('a', 'a', true), true);
    assert.equal(matchValue('a', 'b', true), false);
    assert.equal(matchValue(PRESENT, '', true), true);
    assert.equal(matchValue(ABSENT, undefined, false), true);
    assert.equal(matchValue((v: unknown) => v === 3, 3, true), true);
    assert.equal(matchValue({ a: [1] }, { a: [1] }, true), true);
  });

  it('treats a throwing predicate as no match', () => {
    assert.equal(matchValue(() => { throw new Error('x'); }, 1, true), false);
  });

  it('ANDs label and annotation entries', () => {
    assert.equal(matchMeta({ app: 'web', canary: ABSENT, tier: PRESENT }, { app: 'web', tier: '' }), true);
    assert.equal(matchMeta({ app: 'web', canary: ABSENT }, { app: 'web', canary: 'yes' }), false);
    assert.equal(matchMeta(undefined, undefined), true);
  });
});

describe('handler ids', () => {
  it('derive from kind, function name and field', () => {
    assert.equal(deriveId('create', 'printPod'), 'create.printPod');
    assert.equal(deriveId('create', ''), 'create');
    assert.equal(deriveId('field', 'onText', 'spec.text'), 'field.onText/spec.text');
    assert.equal(deriveId('update', 'bound fn'), 'update.fn');
  });

  it('stay unique per resource in registration order, and refuse a duplicate explicit id', () => {
    const registry = new Registry();
    const pods = resource(builtin('v1', 'Pod'), { registry });
    assert.equal(pods.onCreate(() => {}), 'create');
    assert.equal(pods.onCreate(() => {}), 'create-2');
    assert.equal(pods.onCreate(() => {}, { id: 'mine' }), 'mine');
    assert.throws(() => pods.onUpdate(() => {}, { id: 'mine' }), /already registered/);
    assert.deepEqual(registry.for(builtin('v1', 'Pod')).handlers.map((h) => h.id), ['create', 'create-2', 'mine']);
  });
});

describe('registration', () => {
  it('checks options when the handler is registered', () => {
    const fn = (): void => {};
    assert.throws(() => normalizeHandler('timer', fn, {}), /interval is required/);
    assert.throws(() => normalizeHandler('timer', fn, { interval: 'soon' }), /not a duration/);
    assert.throws(() => normalizeHandler('create', fn, { retries: -1 }), /retries/);
    assert.throws(() => normalizeHandler('field', fn, {}, 'spec..x'), /field path/);
    const timer = normalizeHandler('timer', fn, { interval: '30s', idle: '1m', sharp: true });
    assert.deepEqual([timer.intervalMs, timer.idleMs, timer.sharp], [30_000, 60_000, true]);
    assert.deepEqual(normalizeHandler('create', fn, { backoff: '5s' }).backoff, { initialMs: 5_000, maxMs: 5_000, factor: 1 });
  });

  it('declares a resource and types its handlers from the schema', () => {
    const registry = new Registry();
    const printers = resource(
      { group: 'unit.test.operon.dev', version: 'v1', kind: 'Printer', spec: Type.Object({ text: Type.String() }), status: Type.Object({ pod: Type.Optional(Type.String()) }) },
      { registry },
    );
    printers.onCreate(({ spec, patch }) => {
      const text: string = spec.text;
      patch.status.pod = text;
    });
    printers.owns(builtin('v1', 'Pod'));
    printers.owns(builtin('v1', 'Pod'));
    assert.equal(printers.plural, 'printers');
    assert.equal(registry.resources.length, 1);
    assert.equal(registry.resources[0]?.owned.length, 1);
  });

  it('keeps operator-level handlers in the registry given', () => {
    const registry = new Registry();
    onStartup(async function warmUp() {}, { registry });
    assert.deepEqual(registry.startup.map((s) => s.id), ['startup.warmUp']);
  });
});

describe('timer registration', () => {
  it('takes (fn, options) like every other registration, and still the options-first order of 0.1', () => {
    const registry = new Registry();
    const kind = builtin('v1', 'ConfigMap');
    const cms = resource(kind, { registry });
    const tick = (): void => {};
    cms.timer(tick, { id: 'new-order', interval: '1m' });
    cms.timer({ id: 'old-order', interval: '2m' }, tick);
    const timers = registry.for(kind).of('timer');
    assert.deepEqual(timers.map((t) => [t.id, t.intervalMs, t.fn === tick]), [
      ['new-order', 60_000, true],
      ['old-order', 120_000, true],
    ]);
  });
});

describe("resource(X, { state })", () => {
  it('keeps state in annotations unless asked for status, and refuses anything else', () => {
    const registry = new Registry();
    const cms = builtin('v1', 'ConfigMap');
    resource(cms, { registry });
    assert.equal(registry.for(cms).state, 'annotations');
    resource(cms, { registry, state: 'status' });
    assert.equal(registry.for(cms).state, 'status');
    assert.throws(() => resource(cms, { registry, state: 'etcd' as 'status' }), /ConfigMap \(\/v1\/configmaps\): state must be 'annotations' or 'status', not "etcd"/);
  });
});
