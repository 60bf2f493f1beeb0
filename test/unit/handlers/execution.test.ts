import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/base/clock.ts';
import { HandlerRetriesError, HandlerTimeoutError, PermanentError, TemporaryError } from '../../../src/handlers/errors.ts';
import { attempt, classify, startRecord, waitFor } from '../../../src/handlers/execution.ts';
import { normalizeHandler } from '../../../src/handlers/normalize.ts';

const spec = (options: Record<string, unknown> = {}) => normalizeHandler('create', () => {}, { id: 'h', ...options });

describe('attempt', () => {
  it('records a success with its result', async () => {
    const clock = new ManualClock();
    const { outcome, record } = await attempt(spec(), () => 42, { record: startRecord('create', clock.now()), clock });
    assert.deepEqual(outcome, { kind: 'success', result: 42 });
    assert.equal(record.success, true);
    assert.equal(record.retries, 1);
  });

  it('delays a TemporaryError by its delay and keeps its message', async () => {
    const clock = new ManualClock();
    const { outcome, record } = await attempt(spec(), () => { throw new TemporaryError('later', { delay: '5s' }); }, { record: startRecord('create', clock.now()), clock });
    assert.equal(outcome.kind, 'retry');
    assert.equal(waitFor(record, clock.now()), 5_000);
    assert.equal(record.message, 'TemporaryError: later');
  });

  it('fails for good on a PermanentError', async () => {
    const clock = new ManualClock();
    const { outcome, record } = await attempt(spec(), () => { throw new PermanentError('no'); }, { record: startRecord('create', clock.now()), clock });
    assert.equal(outcome.kind, 'failure');
    assert.equal(record.failure, true);
  });

  it('fails when the timeout passes while the handler runs, without waiting for it', async () => {
    const clock = new ManualClock();
    const running = attempt(spec({ timeout: '1s' }), () => new Promise(() => {}), { record: startRecord('create', clock.now()), clock });
    await clock.advance(1_000);
    const { outcome } = await running;
    assert.equal(outcome.kind, 'failure');
    assert.ok(outcome.kind === 'failure' && outcome.error instanceof HandlerTimeoutError);
  });

  it('reports an attempt cut short by shutdown as aborted and leaves the record as it was', async () => {
    const clock = new ManualClock();
    const stop = new AbortController();
    const record = startRecord('create', clock.now());
    const running = attempt(spec(), (signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))), { record, clock, signal: stop.signal });
    stop.abort(new Error('stopping'));
    const result = await running;
    assert.equal(result.outcome.kind, 'aborted');
    assert.equal(result.record, record);
  });
});

describe('classify', () => {
  const record = (retries: number) => ({ ...startRecord('create', 0), retries });

  it('backs off ordinary errors exponentially by default', () => {
    const s = spec();
    const delays = [0, 1, 2, 10].map((n) => classify(s, new Error('x'), record(n), 0)).map((o) => (o.kind === 'retry' ? o.delayMs : -1));
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 60_000]);
  });

  it('honours errors: permanent and ignored', () => {
    assert.equal(classify(spec({ errors: 'permanent' }), new Error('x'), record(0), 0).kind, 'failure');
    assert.equal(classify(spec({ errors: 'ignored' }), new Error('x'), record(0), 0).kind, 'success');
  });

  it('counts retries after the first attempt', () => {
    const s = spec({ retries: 2 });
    assert.equal(classify(s, new Error('x'), record(0), 0).kind, 'retry');
    assert.equal(classify(s, new Error('x'), record(1), 0).kind, 'retry');
    const third = classify(s, new Error('x'), record(2), 0);
    assert.ok(third.kind === 'failure' && third.error instanceof HandlerRetriesError);
  });

  it('fails ahead of a retry that would start past the timeout', () => {
    const out = classify(spec({ timeout: '10s' }), new TemporaryError('x', { delay: '20s' }), record(0), 0);
    assert.ok(out.kind === 'failure' && out.error instanceof HandlerTimeoutError);
  });
});
