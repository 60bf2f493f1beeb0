import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/base/clock.ts';
import { Backoff } from '../../../src/base/backoff.ts';
import { recordingLogger } from '../../../src/base/logger.ts';
import type { WatcherEvent } from '../../../src/watch/machine.ts';
import type { WatcherListener, WatcherOptions } from '../../../src/watch/watcher.ts';
import { Watcher } from '../../../src/watch/watcher.ts';
import type { Obj } from './scripted-source.ts';
import { added, badRequest, bookmark, expired, forbidden, gone, internal, obj, page, ScriptedSource, settle } from './scripted-source.ts';

const watchAt = (resourceVersion: string) => ({ resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 290 });

function setup(script: (source: ScriptedSource) => void, options: Partial<WatcherOptions<Obj>> = {}, listener?: WatcherListener<Obj>) {
  const clock = new ManualClock();
  const source = new ScriptedSource();
  source.now = () => clock.now();
  script(source);
  const { logger, records } = recordingLogger();
  const backoff = new Backoff({ initialMs: 800, maxMs: 30_000, jitter: 'none', resetAfterMs: 120_000 });
  const watcher = new Watcher<Obj>({ source, clock, backoff, logger, ...options });
  const events: WatcherEvent<Obj>[] = [];
  const running = watcher.run(
    listener ??
      ((event) => {
        events.push(event);
      }),
  );
  const types = (): string[] => events.map((e) => e.type);
  /** Moves the clock to the pending retry and lets the attempt run; returns the delay waited. */
  const retry = async (): Promise<number> => {
    await settle();
    const status = watcher.status();
    assert.equal(status.phase, 'backing-off');
    assert.ok(status.retryAt !== undefined);
    const delay = status.retryAt - clock.now();
    await clock.advance(delay);
    await settle();
    return delay;
  };
  return { clock, source, watcher, events, types, running, records, retry };
}

describe('watcher driver', () => {
  it('lists page by page, then watches from the list resourceVersion', async () => {
    const t = setup((s) => s.listScript.push(page([obj('a', '1'), obj('b', '2')], '5', 'c1'), page([obj('c', '3')], '5')));
    await settle();
    assert.deepEqual(t.source.lists, [{ limit: 500 }, { limit: 500, continue: 'c1' }]);
    assert.deepEqual(t.source.watches, [watchAt('5')]);
    assert.deepEqual(t.types(), ['Init', 'InitApply', 'InitApply', 'InitApply', 'InitDone']);
    const status = t.watcher.status();
    assert.equal(status.phase, 'watching');
    assert.equal(status.healthy, true);
    assert.equal(status.resourceVersion, '5');
    await t.watcher.stop();
    await t.running;
  });

  it('resumes from the newest resourceVersion, bookmarks included, when the stream ends, without relisting', async () => {
    const t = setup((s) => {
      s.listScript.push(page([], '5'));
      s.watchScript.push([added(obj('d', '6')), bookmark('9')]);
    });
    await settle();
    assert.deepEqual(t.source.watches, [watchAt('5'), watchAt('9')]);
    assert.equal(t.source.lists.length, 1);
    assert.deepEqual(t.types(), ['Init', 'InitDone', 'Apply']);
    assert.equal(t.watcher.status().reconnects, 1);
    assert.equal(t.watcher.status().relists, 0);
    await t.watcher.stop();
  });

  it('relists on 410 at connect and on an in-stream 410 ERROR event', async () => {
    const t = setup((s) => {
      s.listScript.push(page([obj('a', '1')], '5'), page([obj('a', '1')], '20'), page([], '30'));
      s.watchScript.push(expired(), 'open');
    });
    await settle();
    assert.equal(t.source.lists.length, 2, '410 at connect relists');
    t.source.stream.push(added(obj('b', '21')), gone());
    await settle();
    assert.equal(t.source.lists.length, 3, 'in-stream 410 relists');
    assert.ok(t.source.streams[1]?.aborted, 'the expired stream is closed');
    assert.deepEqual(t.source.watches.at(-1), watchAt('30'));
    assert.deepEqual(t.types(), ['Init', 'InitApply', 'InitDone', 'Init', 'InitApply', 'InitDone', 'Apply', 'Init', 'InitDone']);
    assert.equal(t.watcher.status().relists, 2);
    assert.equal(t.watcher.status().lastError?.kind, 'Expired');
    await t.watcher.stop();
  });

  it('restarts the list without the continue token when the token expired', async () => {
    const t = setup((s) => s.listScript.push(page([obj('a', '1')], '5', 'c1'), expired(), page([obj('a', '1')], '6', 'c2'), page([obj('b', '2')], '6')));
    await settle();
    assert.deepEqual(t.source.lists, [{ limit: 500 }, { limit: 500, continue: 'c1' }, { limit: 500 }, { limit: 500, continue: 'c2' }]);
    assert.deepEqual(t.types(), ['Init', 'InitApply', 'Init', 'InitApply', 'InitApply', 'InitDone']);
    assert.deepEqual(t.source.watches, [watchAt('6')]);
    await t.watcher.stop();
  });

  it('retries any other error forever with growing delays, and resets the backoff after a healthy period', async () => {
    const t = setup((s) => {
      s.listFallback = internal();
    });
    const delays: number[] = [];
    for (let i = 0; i < 120; i++) delays.push(await t.retry());
    assert.equal(t.source.lists.length, 121, 'every retry is an attempt; it never gives up');
    assert.deepEqual(delays.slice(0, 8), [800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
    assert.ok(delays.slice(6).every((d) => d === 30_000), 'capped at 30 s');

    t.source.listFallback = page([obj('a', '1')], '5');
    await t.retry();
    assert.equal(t.watcher.status().phase, 'watching');
    // Healthy for three minutes: bookmarks arrive every minute.
    for (let i = 0; i < 3; i++) {
      await t.clock.advance(60_000);
      t.source.stream.push(bookmark(`${6 + i}`));
      await settle();
    }
    t.source.stream.fail(internal());
    assert.equal(await t.retry(), 800, 'back to the initial delay');
    assert.deepEqual(t.source.watches.at(-1), watchAt('8'));
    await t.watcher.stop();
  });

  it('does not reset the backoff after a success that did not last', async () => {
    const t = setup((s) => {
      s.listScript.push(page([], '5'));
      s.watchFallback = internal();
    });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) delays.push(await t.retry());
    assert.deepEqual(delays, [800, 1600, 3200, 6400]);
    await t.watcher.stop();
  });

  it('reconnects a stalled stream from the last resourceVersion after the idle timeout', async () => {
    const t = setup((s) => s.listScript.push(page([], '5')), { idleTimeoutMs: 295_000 });
    await settle();
    t.source.stream.push(added(obj('a', '6')));
    await settle();
    await t.clock.advance(294_999);
    await settle();
    assert.equal(t.source.watches.length, 1, 'not before the idle timeout');
    await t.clock.advance(1);
    await settle();
    assert.deepEqual(t.source.watches, [watchAt('5'), watchAt('6')]);
    assert.ok(t.source.streams[0]?.aborted, 'the stalled stream is aborted');
    assert.equal(t.source.lists.length, 1);
    assert.equal(t.watcher.status().reconnects, 1);
    await t.watcher.stop();
  });

  it('regression #17: a stall is logged at warn and makes the watch not current until a new stream answers (a bookmark is enough)', async () => {
    const t = setup((s) => s.listScript.push(page([], '5')), { idleTimeoutMs: 90_000 });
    await settle();
    t.source.stream.push(added(obj('a', '6')));
    await settle();
    assert.equal(t.watcher.status().current, true);
    const quietFrom = t.clock.now();
    await t.clock.advance(90_000);
    await settle();
    const stalled = t.watcher.status();
    assert.equal(stalled.current, false, 'a silent stream is not trusted to follow the server');
    assert.equal(stalled.stalledSince, quietFrom + 90_000);
    assert.equal(stalled.healthy, true, 'a stall alone is no reason to restart');
    assert.ok(t.records.some((r) => r.level === 'warn' && /watch stalled/.test(r.msg)), 'the stall is logged at warn');
    // The reconnect is accepted but silent too (a black hole): still not current, even past it.
    await t.clock.advance(90_000);
    await settle();
    assert.equal(t.watcher.status().current, false);
    assert.equal(t.watcher.status().stalledSince, quietFrom + 90_000, 'stale since the first stall');
    t.source.stream.push(bookmark('9'));
    await settle();
    assert.equal(t.watcher.status().current, true, 'a stream that answers again, if only with a bookmark, is current');
    assert.equal(t.watcher.status().stalledSince, undefined);
    await t.watcher.stop();
    await t.running;
  });

  it('counts silence from the start of each read, never the time the consumer holds an event', async () => {
    let release = (): void => {};
    const t = setup(
      (s) => s.listScript.push(page([], '5')),
      { idleTimeoutMs: 1_000 },
      (event) => (event.type === 'Apply' && event.object.metadata.name === 'slow' ? new Promise<void>((resolve) => (release = resolve)) : undefined),
    );
    await settle();
    await t.clock.advance(900);
    t.source.stream.push(added(obj('a', '6'))); // a read that waited 900 ms
    await settle();
    await t.clock.advance(900); // 1,800: the next read has waited 900 ms
    await settle();
    assert.equal(t.source.watches.length, 1);
    t.source.stream.push(added(obj('slow', '7')));
    await settle();
    await t.clock.advance(5_000); // the consumer holds 'slow' for 5 s: not silence
    await settle();
    assert.equal(t.source.watches.length, 1, 'no reconnect while the consumer is busy');
    release();
    await settle();
    await t.clock.advance(999);
    await settle();
    assert.equal(t.source.watches.length, 1, 'not before a read has waited the full idle timeout');
    await t.clock.advance(1);
    await settle();
    assert.deepEqual(t.source.watches, [watchAt('5'), watchAt('7')]);
    assert.equal(t.watcher.status().reconnects, 1);
    await t.watcher.stop();
    await t.running;
  });

  it('stops at once while waiting on a silent stream, and leaves no timer behind', async () => {
    const t = setup((s) => s.listScript.push(page([], '5')), { idleTimeoutMs: 1_000 });
    await settle();
    t.source.stream.push(added(obj('a', '6')));
    await settle();
    await t.watcher.stop();
    await t.running;
    assert.equal(t.clock.pending, 0);
    assert.ok(t.source.streams[0]?.aborted);
  });

  it('uses the streaming initial list up to the initial-events-end bookmark, then plain watches', async () => {
    const t = setup(() => {}, { streamingList: true });
    await settle();
    assert.deepEqual(t.source.watches[0], { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true, timeoutSeconds: 290 });
    t.source.stream.push(added(obj('a', '3')), added(obj('b', '4')), bookmark('7', true));
    await settle();
    assert.deepEqual(t.types(), ['Init', 'InitApply', 'InitApply', 'InitDone']);
    assert.equal(t.watcher.status().phase, 'watching');
    t.source.stream.end();
    await settle();
    assert.deepEqual(t.source.watches[1], watchAt('7'));
    assert.equal(t.source.lists.length, 0);
    await t.watcher.stop();
  });

  it('falls back to LIST+WATCH when the server refuses the streaming list, and remembers it', async () => {
    const t = setup(
      (s) => {
        s.watchScript.push(badRequest());
        s.listScript.push(page([obj('a', '1')], '5'), page([], '9'));
      },
      { streamingList: true },
    );
    await settle();
    assert.equal(t.source.lists.length, 1);
    assert.deepEqual(t.source.watches[1], watchAt('5'));
    assert.equal(t.watcher.status().lastError?.kind, 'BadRequest');
    t.source.stream.push(gone());
    await settle();
    assert.equal(t.source.lists.length, 2, 'the relist is a LIST again');
    assert.equal(t.source.watches.filter((w) => w.sendInitialEvents).length, 1);
    await t.watcher.stop();
  });

  it('awaits an async listener before reading the next event (backpressure, order kept)', async () => {
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: string[] = [];
    const t = setup(
      (s) => s.listScript.push(page([], '5')),
      {},
      async (event) => {
        if (event.type !== 'Apply') return;
        seen.push(event.object.metadata.resourceVersion);
        if (seen.length === 1) await gate;
        if (seen.length === 2) throw new Error('listener bug');
      },
    );
    await settle();
    t.source.stream.push(added(obj('a', '6')), added(obj('a', '7')), added(obj('a', '8')));
    await settle();
    assert.deepEqual(seen, ['6']);
    assert.equal(t.source.stream.pulls, 1, 'nothing more is read while the listener works');
    release();
    await settle();
    assert.deepEqual(seen, ['6', '7', '8'], 'a throwing listener does not stop the watch');
    assert.ok(t.records.some((r) => r.level === 'error' && /listener failed/.test(r.msg)));
    await t.watcher.stop();
  });
});

describe('watcher stop and health', () => {
  for (const when of ['watching', 'backing-off', 'listing'] as const) {
    it(`stops cleanly while ${when}: no error, no event, no error log`, async () => {
      const t = setup((s) => {
        if (when === 'watching') s.listScript.push(page([], '5'));
        if (when === 'backing-off') s.listFallback = internal();
      });
      // A LIST that never answers: stop must not wait for it.
      if (when === 'listing') t.source.list = (options) => (t.source.lists.push(options), new Promise(() => {}));
      await settle();
      assert.equal(t.watcher.status().phase, when);
      const before = t.events.length;
      const errorBefore = t.watcher.status().lastError;
      await t.watcher.stop();
      await t.running;
      const status = t.watcher.status();
      assert.equal(status.phase, 'stopped');
      assert.deepEqual(status.lastError, errorBefore);
      assert.equal(t.events.length, before);
      assert.ok(!t.records.some((r) => r.level === 'error'), JSON.stringify(t.records));
      if (when === 'watching') assert.ok(t.source.stream.aborted);
      await t.clock.advance(60_000);
      await settle();
      assert.equal(t.source.lists.length + t.source.watches.length, when === 'watching' ? 2 : 1, 'no request after stop');
    });
  }

  it('can be stopped from inside its listener, by a signal, and before it ran', async () => {
    const t = setup(
      (s) => s.listScript.push(page([], '5')),
      {},
      async (event) => {
        if (event.type === 'InitDone') await t.watcher.stop();
      },
    );
    await t.running;
    assert.equal(t.watcher.status().phase, 'stopped');

    const controller = new AbortController();
    const s = setup((src) => src.listScript.push(page([], '5')), { signal: controller.signal });
    await settle();
    controller.abort();
    await s.running;
    assert.equal(s.watcher.status().phase, 'stopped');

    const source = new ScriptedSource();
    const idle = new Watcher<Obj>({ source, clock: new ManualClock() });
    await idle.stop();
    await idle.run(() => {});
    assert.equal(source.lists.length, 0);
  });

  it('ends the iterator form when the consumer breaks out', async () => {
    const source = new ScriptedSource();
    source.listScript.push(page([obj('a', '1')], '5'));
    const watcher = new Watcher<Obj>({ source, clock: new ManualClock() });
    const types: string[] = [];
    for await (const event of watcher.events()) {
      types.push(event.type);
      if (event.type === 'InitDone') break;
    }
    assert.deepEqual(types, ['Init', 'InitApply', 'InitDone']);
    await watcher.stop();
    assert.equal(watcher.status().phase, 'stopped');
    assert.throws(() => watcher.events(), /already running/);
  });

  it('turns unhealthy after unhealthyAfterMs of Forbidden, with the error and its hint, and healthy again on recovery', async () => {
    const t = setup((s) => {
      s.listFallback = forbidden();
    });
    await settle();
    const start = t.clock.now();
    let status = t.watcher.status();
    assert.equal(status.healthy, true, 'one failure is not yet unhealthy');
    assert.equal(status.lastError?.kind, 'Forbidden');
    assert.match(status.lastError?.hint ?? '', /grant the operator's ServiceAccount the verb "list" on "configmaps"/);
    while (t.clock.now() - start < 150_000) {
      assert.equal(t.watcher.status().healthy, true);
      await t.retry();
    }
    status = t.watcher.status();
    assert.equal(status.healthy, false);
    assert.equal(status.lastError?.kind, 'Forbidden');
    assert.ok(t.records.some((r) => r.level === 'warn' && r['kind'] === 'Forbidden'));

    t.source.listFallback = page([], '5');
    await t.retry();
    status = t.watcher.status();
    assert.equal(status.healthy, true);
    assert.equal(status.phase, 'watching');
    await t.watcher.stop();
  });

  it('turns unhealthy when only the watch is forbidden, without relisting', async () => {
    const t = setup((s) => {
      s.listScript.push(page([], '5'));
      s.watchFallback = forbidden('watch');
    });
    await settle();
    const start = t.clock.now();
    while (t.clock.now() - start < 150_000) await t.retry();
    const status = t.watcher.status();
    assert.equal(status.healthy, false);
    assert.match(status.lastError?.hint ?? '', /"watch"/);
    assert.equal(t.source.lists.length, 1);
    assert.ok(t.source.watches.length > 5);
    await t.watcher.stop();
  });

  it('is healthy again as soon as a refused watch is accepted, before any event (regression: it stayed unhealthy until the first event, up to a minute on a quiet resource)', async () => {
    const t = setup((s) => {
      s.reportsConnected = true;
      s.listScript.push(page([], '5'));
      s.watchFallback = forbidden('watch');
    });
    await settle();
    const start = t.clock.now();
    while (t.clock.now() - start < 150_000) await t.retry();
    assert.equal(t.watcher.status().healthy, false);

    t.source.watchFallback = 'open';
    await t.retry();
    const status = t.watcher.status();
    assert.equal(status.phase, 'watching');
    assert.equal(status.healthy, true);
    assert.equal(status.connectedAt, t.clock.now());
    assert.equal(t.source.stream.pulls, 1, 'no event arrived');
    await t.watcher.stop();
  });
});
