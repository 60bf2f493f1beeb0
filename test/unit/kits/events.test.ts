import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, flushMicrotasks } from '../../../src/base/clock.ts';
import { recordingLogger } from '../../../src/base/logger.ts';
import { ApiError } from '../../../src/client/errors.ts';
import type { KubeObject } from '../../../src/client/types.ts';
import { EventRecorder, truncateBytes, type CoreEvent, type EventClient, type EventRecorderOptions } from '../../../src/kits/events.ts';

interface Call {
  verb: 'create' | 'patch';
  namespace: string | undefined;
  name: string;
  body: CoreEvent | { count: number; lastTimestamp: string };
}

/** A client that records Event posts; `fail` makes the next calls throw. */
function recordingClient() {
  const calls: Call[] = [];
  let seq = 0;
  const state = { fail: undefined as unknown, patchNotFound: false };
  const client: EventClient = {
    create: async (_ref, body, options) => {
      if (state.fail) throw state.fail;
      const name = `${(body.metadata?.generateName ?? '')}${++seq}`;
      calls.push({ verb: 'create', namespace: options?.namespace, name, body: body as unknown as CoreEvent });
      return { ...body, metadata: { ...body.metadata, name, uid: `u${seq}`, resourceVersion: `${seq}` } } as never;
    },
    patch: async (_ref, name, patch, options) => {
      if (state.fail) throw state.fail;
      if (state.patchNotFound) throw new ApiError({ kind: 'NotFound', code: 404, message: `events "${name}" not found` });
      assert.equal(patch.type, 'merge');
      calls.push({ verb: 'patch', namespace: options?.namespace, name, body: (patch as { body: Call['body'] }).body });
      return {} as never;
    },
  };
  return { client, calls, state };
}

const printer: KubeObject = {
  apiVersion: 'demo.operon.dev/v1',
  kind: 'Printer',
  metadata: { name: 'p1', namespace: 'ns-a', uid: 'uid-p1', resourceVersion: '42' },
};

function setup(options: Partial<EventRecorderOptions> = {}) {
  const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
  const { client, calls, state } = recordingClient();
  const { logger, records } = recordingLogger();
  const recorder = new EventRecorder({ client, component: 'printer-operator', instance: 'pod-0', clock, logger, ...options });
  return { clock, calls, state, records, recorder };
}

describe('EventRecorder', () => {
  it('posts a core v1 Event about the object, in its namespace, with the reporting fields', async () => {
    const { recorder, calls } = setup();
    recorder.info(printer, 'Printing', 'printing hello');
    await recorder.flush();
    assert.equal(calls.length, 1);
    const { verb, namespace, body } = calls[0] as Call;
    assert.equal(verb, 'create');
    assert.equal(namespace, 'ns-a');
    assert.deepEqual(body, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: 'p1.', namespace: 'ns-a' },
      involvedObject: { apiVersion: 'demo.operon.dev/v1', kind: 'Printer', name: 'p1', namespace: 'ns-a', uid: 'uid-p1', resourceVersion: '42' },
      type: 'Normal',
      reason: 'Printing',
      message: 'printing hello',
      source: { component: 'printer-operator' },
      reportingComponent: 'printer-operator',
      reportingInstance: 'pod-0',
      count: 1,
      firstTimestamp: '2025-01-01T00:00:00Z',
      lastTimestamp: '2025-01-01T00:00:00Z',
    });
  });

  it('puts Events about cluster-scoped objects in the default namespace', async () => {
    const { recorder, calls } = setup();
    recorder.warn({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'u' } }, 'Cordoned', 'x');
    await recorder.flush();
    assert.equal(calls[0]?.namespace, 'default');
    assert.equal((calls[0]?.body as CoreEvent).involvedObject.namespace, undefined);
    assert.equal((calls[0]?.body as CoreEvent).type, 'Warning');
  });

  it('aggregates repeats within the window into count and lastTimestamp patches of one Event', async () => {
    const { recorder, calls, clock } = setup();
    recorder.warn(printer, 'PaperLow', 'less than 10 sheets');
    await recorder.flush();
    await clock.advance(30_000);
    recorder.warn(printer, 'PaperLow', 'less than 10 sheets');
    await recorder.flush();
    await clock.advance(30_000);
    recorder.warn(printer, 'PaperLow', 'less than 10 sheets');
    await recorder.flush();
    assert.deepEqual(
      calls.map((c) => [c.verb, c.name, c.body.count, c.body.lastTimestamp]),
      [
        ['create', 'p1.1', 1, '2025-01-01T00:00:00Z'],
        ['patch', 'p1.1', 2, '2025-01-01T00:00:30Z'],
        ['patch', 'p1.1', 3, '2025-01-01T00:01:00Z'],
      ],
    );
    assert.equal(calls[1]?.namespace, 'ns-a');
    assert.deepEqual(recorder.stats, { created: 1, patched: 2, throttled: 0, failed: 0, ignored: 0 });
  });

  it('coalesces repeats queued while a post is pending into one post carrying the full count', async () => {
    const { recorder, calls } = setup();
    for (let i = 0; i < 5; i++) recorder.warn(printer, 'PaperLow', 'low');
    await recorder.flush();
    assert.deepEqual(calls.map((c) => [c.verb, c.body.count]), [['create', 5]]);
  });

  it('keeps different messages, reasons and types apart', async () => {
    const { recorder, calls } = setup();
    recorder.warn(printer, 'PaperLow', 'a');
    recorder.warn(printer, 'PaperLow', 'b');
    recorder.warn(printer, 'Jammed', 'a');
    recorder.info(printer, 'PaperLow', 'a');
    await recorder.flush();
    assert.equal(calls.filter((c) => c.verb === 'create').length, 4);
  });

  it('starts a new Event once the aggregation window has passed', async () => {
    const { recorder, calls, clock } = setup({ aggregationWindowMs: 60_000 });
    recorder.warn(printer, 'PaperLow', 'low');
    await recorder.flush();
    await clock.advance(60_001);
    recorder.warn(printer, 'PaperLow', 'low');
    await recorder.flush();
    assert.deepEqual(calls.map((c) => [c.verb, c.body.count]), [['create', 1], ['create', 1]]);
  });

  it('creates the Event again when the one being patched is gone (event TTL)', async () => {
    const { recorder, calls, state } = setup();
    recorder.warn(printer, 'PaperLow', 'low');
    await recorder.flush();
    state.patchNotFound = true;
    recorder.warn(printer, 'PaperLow', 'low');
    await recorder.flush();
    assert.deepEqual(calls.map((c) => [c.verb, c.body.count]), [['create', 1], ['create', 2]]);
  });

  it('spam filter: 25 posts per object in a burst, then one per 5 minutes; held-back repeats are still counted', async () => {
    const { recorder, calls, clock } = setup();
    for (let i = 0; i < 30; i++) {
      recorder.warn(printer, 'Flapping', `message ${i}`);
      await recorder.flush();
    }
    assert.equal(calls.length, 25);
    assert.equal(recorder.stats.throttled, 5);
    // Another object has its own bucket.
    recorder.warn({ ...printer, metadata: { ...printer.metadata, name: 'p2', uid: 'uid-p2' } }, 'Flapping', 'x');
    await recorder.flush();
    assert.equal(calls.length, 26);

    // A repeat of message 0 is held back, then goes through with the refill, carrying both counts.
    recorder.warn(printer, 'Flapping', 'message 0');
    await recorder.flush();
    assert.equal(calls.length, 26);
    await clock.advance(5 * 60_000);
    recorder.warn(printer, 'Flapping', 'message 0');
    await recorder.flush();
    assert.equal(calls.length, 27);
    assert.deepEqual([calls[26]?.verb, calls[26]?.name, calls[26]?.body.count], ['patch', 'p1.1', 3]);
  });

  it('truncates messages to 1 KiB of UTF-8 and reasons to 128 bytes', async () => {
    const { recorder, calls } = setup();
    const long = `start ${'é'.repeat(2000)} the cause`;
    recorder.warn(printer, 'R'.repeat(300), long);
    await recorder.flush();
    const body = calls[0]?.body as CoreEvent;
    assert.ok(Buffer.byteLength(body.message ?? '') <= 1024);
    assert.ok(body.message?.startsWith('start '));
    assert.ok(body.message?.endsWith(' the cause'), 'the end, where the cause usually is, survives');
    assert.ok(body.message?.includes('…'));
    assert.equal(Buffer.byteLength(body.reason ?? ''), 128);
  });

  it('never throws into the caller, and logs failures once per interval with the number not logged', async () => {
    const { recorder, state, records, clock } = setup({ spamBurst: 100 });
    state.fail = new ApiError({ kind: 'Forbidden', code: 403, message: 'events is forbidden' });
    for (let i = 0; i < 3; i++) {
      assert.doesNotThrow(() => recorder.warn(printer, 'X', `m${i}`));
      await recorder.flush();
    }
    let warnings = records.filter((r) => r.level === 'warn');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.msg ?? '', /could not post a Kubernetes Event/);
    assert.equal(warnings[0]?.name, 'p1');
    await clock.advance(60_000);
    recorder.warn(printer, 'X', 'again');
    await recorder.flush();
    warnings = records.filter((r) => r.level === 'warn');
    assert.equal(warnings.length, 2);
    assert.equal(warnings[1]?.failuresNotLogged, 2);
    assert.equal(recorder.stats.failed, 4);
  });

  it('describes errors in exception(), with the hint of Operon errors', async () => {
    const { recorder, calls } = setup();
    recorder.exception(printer, new ApiError({ kind: 'Forbidden', code: 403, message: 'pods is forbidden', hint: 'grant create on pods' }));
    recorder.exception(printer, 'plain text');
    await recorder.flush();
    const [a, b] = calls.map((c) => c.body as CoreEvent);
    assert.equal(a?.type, 'Warning');
    assert.equal(a?.reason, 'Exception');
    assert.equal(a?.message, 'ApiError: pods is forbidden (grant create on pods)');
    assert.equal(b?.message, 'plain text');
  });

  it('ignores Events about Events and objects without a name', async () => {
    const { recorder, calls } = setup();
    recorder.info({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'e', namespace: 'ns-a' } }, 'X', 'y');
    recorder.info({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'p-' } }, 'X', 'y');
    await recorder.flush();
    assert.equal(calls.length, 0);
    assert.equal(recorder.stats.ignored, 2);
  });

  it('bounds memory: the LRU forgets the oldest series, whose repeat then starts a new Event', async () => {
    const { recorder, calls } = setup({ cacheSize: 2, spamBurst: 100 });
    recorder.warn(printer, 'A', 'a');
    recorder.warn(printer, 'B', 'b');
    await recorder.flush();
    recorder.warn(printer, 'C', 'c'); // evicts A
    await recorder.flush();
    recorder.warn(printer, 'C', 'c'); // still cached: patched
    recorder.warn(printer, 'A', 'a'); // forgotten: created again
    await recorder.flush();
    assert.deepEqual(calls.map((c) => [c.verb, (c.body as CoreEvent).reason ?? c.name]), [
      ['create', 'A'],
      ['create', 'B'],
      ['create', 'C'],
      ['patch', 'p1.3'],
      ['create', 'A'],
    ]);
  });

  it('drops a series evicted before its post: the queue never outgrows the LRU', async () => {
    const { recorder, calls } = setup({ cacheSize: 2, spamBurst: 100 });
    recorder.warn(printer, 'A', 'a');
    recorder.warn(printer, 'B', 'b');
    recorder.warn(printer, 'C', 'c');
    await recorder.flush();
    assert.deepEqual(calls.map((c) => (c.body as CoreEvent).reason), ['B', 'C']);
  });

  it('does not run posts in the caller\'s turn', async () => {
    const { recorder, calls } = setup();
    recorder.info(printer, 'X', 'y');
    assert.equal(calls.length, 0);
    await flushMicrotasks();
    await recorder.flush();
    assert.equal(calls.length, 1);
  });
});

describe('truncateBytes', () => {
  it('keeps short text, never splits a character and respects the byte budget', () => {
    assert.equal(truncateBytes('short', 1024, true), 'short');
    const cut = truncateBytes('😀'.repeat(600), 1024, true);
    assert.ok(Buffer.byteLength(cut) <= 1024);
    assert.ok(!cut.includes('\uFFFD'));
    assert.equal(truncateBytes('abcdef', 5, false), 'ab…');
  });
});
