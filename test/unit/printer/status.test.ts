/**
 * The status values both Printer operators write: the one-line summary for the Text column and
 * the Printed condition.
 */
import '../../support/source.ts'; // fails fast without the operon-source condition
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SUMMARY_MAX_LENGTH, type Condition } from '../../../operators/printer/resource.ts';
import { PRINTED, printedConditions, summarize } from '../../../operators/printer/status.ts';
import { HOSTILE_TEXTS } from './hostile-texts.ts';

describe('summarize', () => {
  it('keeps a short text as it is', () => assert.equal(summarize('Hello Kube!'), 'Hello Kube!'));

  it('puts a multi-line text on one line', () => assert.equal(summarize('first\nsecond\r\n\tthird\n'), 'first second third'));

  it('shortens a long text to 40 characters ending in …', () => {
    const summary = summarize('a'.repeat(100));
    assert.equal(summary, `${'a'.repeat(39)}…`);
    assert.equal(Array.from(summary).length, SUMMARY_MAX_LENGTH);
  });

  it('never cuts an emoji in half', () => {
    const summary = summarize('🖨'.repeat(50));
    assert.equal(summary, `${'🖨'.repeat(39)}…`);
    assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(summary), 'no lone high surrogate');
  });

  for (const [label, text] of HOSTILE_TEXTS) {
    it(`fits status.summary for ${label}`, () => {
      const summary = summarize(text);
      assert.ok(Array.from(summary).length <= SUMMARY_MAX_LENGTH);
      assert.ok(!/\p{Cc}/u.test(summary), 'no control characters');
    });
  }
});

describe('printedConditions', () => {
  const t0 = new Date('2026-01-01T10:00:00.123Z');
  const t1 = new Date('2026-01-01T10:05:00Z');
  const printed = (conditions: Condition[]) => conditions.find((c) => c.type === PRINTED);

  it('is Unknown while the Pod is pending or running, True when it succeeded, False when it failed', () => {
    assert.equal(printed(printedConditions('Pending', 1, undefined, t0))?.status, 'Unknown');
    assert.equal(printed(printedConditions('Running', 1, undefined, t0))?.status, 'Unknown');
    assert.equal(printed(printedConditions('Succeeded', 1, undefined, t0))?.status, 'True');
    assert.equal(printed(printedConditions('Failed', 1, undefined, t0))?.status, 'False');
  });

  it('writes a metav1.Condition: CamelCase reason, RFC 3339 time in seconds, the generation', () => {
    assert.deepEqual(printedConditions('Succeeded', 3, undefined, t0), [
      { type: 'Printed', status: 'True', reason: 'PodSucceeded', message: 'the printing Pod is Succeeded', lastTransitionTime: '2026-01-01T10:00:00Z', observedGeneration: 3 },
    ]);
  });

  it('keeps lastTransitionTime while the status stays the same, and moves it when it changes', () => {
    const pending = printedConditions('Pending', 1, undefined, t0);
    const running = printedConditions('Running', 1, pending, t1);
    assert.equal(printed(running)?.lastTransitionTime, '2026-01-01T10:00:00Z');
    assert.equal(printed(running)?.reason, 'PodRunning');
    const done = printedConditions('Succeeded', 1, running, t1);
    assert.equal(printed(done)?.lastTransitionTime, '2026-01-01T10:05:00Z');
  });

  it('leaves other conditions alone', () => {
    const other: Condition = { type: 'Ready', status: 'True', reason: 'Fine', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' };
    const conditions = printedConditions('Running', 1, [other], t0);
    assert.deepEqual(conditions[0], other);
    assert.equal(conditions.length, 2);
  });
});
