import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../../src/client/errors.ts';
import type { StepResult, WatchConfig, WatcherInput, WatcherState } from '../../../src/watch/machine.ts';
import { initialState, isStaleResourceVersion, step, watchConfig } from '../../../src/watch/machine.ts';
import type { Obj } from './scripted-source.ts';
import { added, badRequest, bookmark, deleted, errorEvent, expired, forbidden, gone, internal, modified, obj, page, tooLarge } from './scripted-source.ts';

const config = watchConfig({ namespace: 'shop', labelSelector: 'app=web' });
const sel = { namespace: 'shop', labelSelector: 'app=web' };
const watchFrom = (resourceVersion: string) => ({ type: 'Watch', options: { ...sel, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 290 } });
const firstPage = { type: 'List', options: { ...sel, limit: 500 } };

/** Steps through `inputs` from the initial state; returns every result. */
function walk(inputs: WatcherInput<Obj>[], cfg: WatchConfig = config, from: WatcherState = initialState(cfg)): StepResult<Obj>[] {
  const results: StepResult<Obj>[] = [];
  let state = from;
  for (const input of inputs) {
    const r = step<Obj>(state, input, cfg);
    results.push(r);
    state = r.state;
  }
  return results;
}
const last = <X>(xs: X[]): X => {
  const x = xs.at(-1);
  assert.ok(x !== undefined);
  return x;
};

/** The state after an initial one-page list at resourceVersion 10. */
function watchingAt10(cfg: WatchConfig = config): WatcherState {
  return last(walk([{ type: 'Start' }, { type: 'PageListed', list: page([obj('a', '3', 'shop')], '10') }], cfg)).state;
}

describe('watch machine: initial list', () => {
  it('starts with Init and the first page, with selectors and limit = pageSize', () => {
    const [r] = walk([{ type: 'Start' }]);
    assert.deepEqual(r?.events, [{ type: 'Init' }]);
    assert.deepEqual(r?.effects, [firstPage]);
    assert.equal(r?.state.phase, 'ListingPage');
  });

  it('follows continue tokens, then watches from the list resourceVersion with bookmarks and a timeout under 295 s', () => {
    const a = obj('a', '3', 'shop');
    const b = obj('b', '4', 'shop');
    const c = obj('c', '5', 'shop');
    const rs = walk([{ type: 'Start' }, { type: 'PageListed', list: page([a, b], '10', 'c1') }, { type: 'PageListed', list: page([c], '10') }]);
    assert.deepEqual(rs[1]?.events, [{ type: 'InitApply', object: a }, { type: 'InitApply', object: b }]);
    assert.deepEqual(rs[1]?.effects, [{ type: 'List', options: { ...sel, limit: 500, continue: 'c1' } }]);
    assert.deepEqual(rs[2]?.events, [{ type: 'InitApply', object: c }, { type: 'InitDone' }]);
    assert.deepEqual(rs[2]?.effects, [watchFrom('10')]);
    assert.deepEqual(rs[2]?.state, { phase: 'Watching', resourceVersion: '10', streaming: false, expiredInARow: 0 });
  });

  it('asks for one unpaginated LIST when pageSize is 0', () => {
    const [r] = walk([{ type: 'Start' }], watchConfig({ pageSize: 0 }));
    assert.deepEqual(r?.effects, [{ type: 'List', options: {} }]);
  });

  it('rejects a watch timeout of 295 s or more (kubernetes#6513)', () => {
    assert.throws(() => watchConfig({ timeoutSeconds: 295 }), RangeError);
    assert.throws(() => watchConfig({ timeoutSeconds: 0 }), RangeError);
    assert.equal(watchConfig({ timeoutSeconds: 294 }).timeoutSeconds, 294);
  });
});

describe('watch machine: failures while listing', () => {
  const table: Array<{ name: string; error: unknown; continueToken?: string; expect: { effects: unknown[]; events: unknown[]; recovery: string } }> = [
    {
      name: 'an expired continue token restarts the list from page one with a new Init',
      error: expired(),
      continueToken: 'c1',
      expect: { effects: [firstPage], events: [{ type: 'Init' }], recovery: 'restart-list' },
    },
    { name: 'a 500 on a later page backs off and keeps the page', error: internal(), continueToken: 'c1', expect: { effects: [{ type: 'Backoff' }], events: [], recovery: 'retry' } },
    { name: 'a 403 backs off (never gives up)', error: forbidden(), expect: { effects: [{ type: 'Backoff' }], events: [], recovery: 'retry' } },
    { name: 'a transport failure backs off', error: new TypeError('fetch failed'), expect: { effects: [{ type: 'Backoff' }], events: [], recovery: 'retry' } },
    {
      name: 'a Retry-After is passed on to the backoff',
      error: new ApiError({ kind: 'TooManyRequests', code: 429, message: 'slow down', retryAfterMs: 3000 }),
      expect: { effects: [{ type: 'Backoff', retryAfterMs: 3000 }], events: [], recovery: 'retry' },
    },
  ];
  for (const t of table) {
    it(t.name, () => {
      const from: WatcherState = { phase: 'ListingPage', continueToken: t.continueToken, streaming: false, expiredInARow: 0 };
      const r = step<Obj>(from, { type: 'RequestFailed', error: t.error }, config);
      assert.deepEqual(r.effects, t.expect.effects);
      assert.deepEqual(r.events, t.expect.events);
      assert.equal(r.failure?.recovery, t.expect.recovery);
    });
  }

  it('retries the same page after the backoff, without a new Init', () => {
    const from: WatcherState = { phase: 'ListingPage', continueToken: 'c1', streaming: false, expiredInARow: 0 };
    const rs = walk([{ type: 'RequestFailed', error: internal() }, { type: 'BackoffElapsed' }], config, from);
    assert.deepEqual(rs[1]?.events, []);
    assert.deepEqual(rs[1]?.effects, [{ type: 'List', options: { ...sel, limit: 500, continue: 'c1' } }]);
  });
});

describe('watch machine: watching', () => {
  it('applies and deletes, and tracks the newest resourceVersion, bookmarks included', () => {
    const a = obj('a', '11', 'shop');
    const rs = walk([{ type: 'Event', event: added(a) }, { type: 'Event', event: modified(obj('a', '12', 'shop')) }, { type: 'Event', event: deleted(obj('a', '13', 'shop')) }, { type: 'Event', event: bookmark('20') }], config, watchingAt10());
    assert.deepEqual(rs.map((r) => r.events.map((e) => e.type)), [['Apply'], ['Apply'], ['Delete'], []]);
    assert.deepEqual(rs.map((r) => (r.state.phase === 'Watching' ? r.state.resourceVersion : '')), ['11', '12', '13', '20']);
    assert.ok(rs.every((r) => r.effects.length === 0), 'reading on needs no new IO');
  });

  it('re-watches from the newest resourceVersion when the stream ends, without relisting', () => {
    const rs = walk([{ type: 'Event', event: bookmark('42') }, { type: 'StreamEnded', delivered: 1 }], config, watchingAt10());
    assert.deepEqual(rs[1]?.effects, [watchFrom('42')]);
    assert.deepEqual(rs[1]?.events, []);
  });

  it('backs off before re-watching after a stream that ended empty (a proxy closing at once)', () => {
    const rs = walk([{ type: 'StreamEnded', delivered: 0 }, { type: 'BackoffElapsed' }], config, watchingAt10());
    assert.deepEqual(rs[0]?.effects, [{ type: 'Backoff' }]);
    assert.deepEqual(rs[1]?.effects, [watchFrom('10')]);
  });

  it('reconnects from the last resourceVersion on an idle timeout', () => {
    const r = step<Obj>(watchingAt10(), { type: 'IdleTimeout' }, config);
    assert.deepEqual(r.effects, [{ type: 'CloseWatch' }, watchFrom('10')]);
    assert.equal(r.failure?.recovery, 'rewatch');
  });

  const relists: Array<{ name: string; input: WatcherInput<Obj>; close: boolean }> = [
    { name: '410 at connect', input: { type: 'RequestFailed', error: expired() }, close: false },
    { name: '410 as an in-stream ERROR event', input: { type: 'Event', event: gone() }, close: true },
    { name: '504 ResourceVersionTooLarge at connect', input: { type: 'RequestFailed', error: tooLarge() }, close: false },
    {
      name: '504 ResourceVersionTooLarge in the stream',
      input: { type: 'Event', event: errorEvent({ code: 504, reason: 'Timeout', message: 'Too large resource version: 12, current: 10', details: { causes: [{ reason: 'ResourceVersionTooLarge' }] } }) },
      close: true,
    },
  ];
  for (const t of relists) {
    it(`relists on ${t.name}`, () => {
      const r = step<Obj>(watchingAt10(), t.input, config);
      assert.deepEqual(r.effects, [...(t.close ? [{ type: 'CloseWatch' }] : []), firstPage]);
      assert.deepEqual(r.events, [{ type: 'Init' }]);
      assert.equal(r.failure?.recovery, 'relist');
      assert.ok(isStaleResourceVersion(r.failure?.error));
    });
  }

  it('backs off before a second relist when the first made no progress (no 410 loop)', () => {
    const rs = walk(
      [{ type: 'Event', event: gone() }, { type: 'PageListed', list: page([], '11') }, { type: 'RequestFailed', error: expired() }, { type: 'BackoffElapsed' }],
      config,
      watchingAt10(),
    );
    assert.deepEqual(rs[2]?.effects, [{ type: 'Backoff' }]);
    assert.deepEqual(rs[2]?.events, []);
    assert.deepEqual(rs[3]?.events, [{ type: 'Init' }]);
    assert.deepEqual(rs[3]?.effects, [firstPage]);
  });

  it('relists at once again after the watch made progress', () => {
    const rs = walk(
      [{ type: 'Event', event: gone() }, { type: 'PageListed', list: page([], '11') }, { type: 'Event', event: bookmark('12') }, { type: 'RequestFailed', error: expired() }],
      config,
      watchingAt10(),
    );
    assert.deepEqual(rs[3]?.effects, [firstPage]);
  });

  it('backs off and resumes from the same resourceVersion on any other error, at connect or in the stream', () => {
    for (const input of [
      { type: 'RequestFailed', error: internal() },
      { type: 'RequestFailed', error: forbidden('watch') },
      { type: 'Event', event: errorEvent({ code: 500, reason: 'InternalError', message: 'boom' }) },
    ] satisfies WatcherInput<Obj>[]) {
      const rs = walk([input, { type: 'BackoffElapsed' }], config, watchingAt10());
      assert.deepEqual(rs[0]?.effects.at(-1), { type: 'Backoff' });
      assert.equal(rs[0]?.state.phase, 'BackingOff');
      assert.deepEqual(rs[1]?.effects, [watchFrom('10')]);
      assert.deepEqual(rs[1]?.events, []);
    }
  });

  it('ignores inputs that do not belong to the state (a late event after a close)', () => {
    const listing: WatcherState = { phase: 'ListingPage', continueToken: undefined, streaming: false, expiredInARow: 0 };
    const r = step<Obj>(listing, { type: 'Event', event: added(obj('x', '1')) }, config);
    assert.deepEqual(r, { state: listing, effects: [], events: [] });
  });
});

describe('watch machine: streaming initial list', () => {
  const streaming = watchConfig({ streamingList: true });
  const initialWatch = { type: 'Watch', options: { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true, timeoutSeconds: 290 } };

  it('buffers the initial events and ends at the initial-events-end bookmark', () => {
    const a = obj('a', '5');
    const rs = walk([{ type: 'Start' }, { type: 'Event', event: added(a) }, { type: 'Event', event: bookmark('6') }, { type: 'Event', event: bookmark('7', true) }, { type: 'StreamEnded', delivered: 4 }], streaming);
    assert.deepEqual(rs[0]?.effects, [initialWatch]);
    assert.deepEqual(rs[0]?.events, [{ type: 'Init' }]);
    assert.deepEqual(rs[1]?.events, [{ type: 'InitApply', object: a }]);
    assert.deepEqual(rs[2]?.events, [], 'an ordinary bookmark does not end the initial list');
    assert.deepEqual(rs[3]?.events, [{ type: 'InitDone' }]);
    assert.deepEqual(rs[3]?.effects, [], 'the same stream goes on as the watch');
    assert.deepEqual(rs[4]?.effects, [{ type: 'Watch', options: { resourceVersion: '7', allowWatchBookmarks: true, timeoutSeconds: 290 } }], 'a resumed watch does not ask for initial events');
  });

  for (const error of [badRequest(), forbidden('watch'), new ApiError({ kind: 'Invalid', code: 422, message: 'resourceVersionMatch: Forbidden' })]) {
    it(`falls back to LIST+WATCH for good when the server refuses it (${error.kind})`, () => {
      const rs = walk([{ type: 'Start' }, { type: 'RequestFailed', error }, { type: 'PageListed', list: page([], '9') }, { type: 'RequestFailed', error: expired() }], streaming);
      assert.equal(rs[1]?.failure?.recovery, 'fallback-to-list');
      assert.deepEqual(rs[1]?.effects, [{ type: 'List', options: { limit: 500 } }]);
      assert.deepEqual(rs[1]?.events, [{ type: 'Init' }]);
      assert.deepEqual(rs[3]?.effects, [{ type: 'List', options: { limit: 500 } }], 'the fallback is remembered across relists');
    });
  }

  it('restarts the streaming list after other failures, with a new Init', () => {
    const rs = walk([{ type: 'Start' }, { type: 'Event', event: added(obj('a', '5')) }, { type: 'RequestFailed', error: internal() }, { type: 'BackoffElapsed' }], streaming);
    assert.deepEqual(rs[2]?.effects, [{ type: 'Backoff' }]);
    assert.deepEqual(rs[3]?.events, [{ type: 'Init' }]);
    assert.deepEqual(rs[3]?.effects, [initialWatch]);
  });

  it('restarts when the initial stream ends or stalls before its end bookmark', () => {
    const ended = walk([{ type: 'Start' }, { type: 'Event', event: added(obj('a', '5')) }, { type: 'StreamEnded', delivered: 1 }], streaming);
    assert.deepEqual(ended[2]?.events, [{ type: 'Init' }]);
    assert.deepEqual(ended[2]?.effects, [initialWatch]);
    const stalled = walk([{ type: 'Start' }, { type: 'IdleTimeout' }], streaming);
    assert.deepEqual(stalled[1]?.effects, [{ type: 'CloseWatch' }, initialWatch]);
  });
});

describe('watch machine: invariants', () => {
  it('is pure: the input state is not mutated', () => {
    const state = Object.freeze(watchingAt10());
    const before = structuredClone(state);
    step<Obj>(state, { type: 'Event', event: bookmark('99') }, config);
    step<Obj>(state, { type: 'RequestFailed', error: expired() }, config);
    assert.deepEqual(state, before);
  });

  it('over a long random walk: at most one IO effect per step, and never a state with nothing to wait on', () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <X>(xs: X[]): X => xs[Math.floor(random() * xs.length)] as X;
    for (const cfg of [config, watchConfig({ streamingList: true })]) {
      let r = step<Obj>(initialState(cfg), { type: 'Start' }, cfg);
      let streamOpen = r.effects.some((e) => e.type === 'Watch');
      const errors = [expired(), internal(), forbidden(), badRequest(), tooLarge(), new Error('socket hang up')];
      for (let i = 0; i < 5000; i++) {
        const s = r.state;
        let input: WatcherInput<Obj>;
        if (s.phase === 'BackingOff') input = { type: 'BackoffElapsed' };
        else if (s.phase === 'ListingPage') input = random() < 0.7 ? { type: 'PageListed', list: page([obj(`o${i}`, `${i}`)], `${i}`, random() < 0.3 ? `c${i}` : undefined) } : { type: 'RequestFailed', error: pick(errors) };
        else {
          assert.ok(streamOpen, `no stream open in ${s.phase}`);
          input = pick<WatcherInput<Obj>>([
            { type: 'Event', event: added(obj(`o${i}`, `${i}`)) },
            { type: 'Event', event: bookmark(`${i}`, random() < 0.3) },
            { type: 'Event', event: gone() },
            { type: 'Event', event: errorEvent({ code: 500 }) },
            { type: 'StreamEnded', delivered: Math.floor(random() * 2) },
            { type: 'RequestFailed', error: pick(errors) },
            { type: 'IdleTimeout' },
          ]);
          if (input.type === 'StreamEnded' || input.type === 'RequestFailed') streamOpen = false;
        }
        r = step<Obj>(s, input, cfg);
        const io = r.effects.filter((e) => e.type !== 'CloseWatch');
        assert.ok(io.length <= 1, `more than one IO effect after ${input.type} in ${s.phase}`);
        if (r.effects.some((e) => e.type === 'CloseWatch')) streamOpen = false;
        if (io[0]?.type === 'Watch') streamOpen = true;
        if (io.length === 0) assert.ok(streamOpen && (r.state.phase === 'Watching' || r.state.phase === 'StreamingInitial'), `stuck in ${r.state.phase} after ${input.type}`);
      }
    }
  });
});
