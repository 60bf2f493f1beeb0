import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/base/clock.ts';
import { WorkQueue } from '../../../src/engine/queue.ts';
import { Metrics, WORKQUEUE_DURATION_BUCKETS, type WatchHealth } from '../../../src/server/metrics.ts';

/** The value of one sample line of the exposition, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Metrics', () => {
  it('loads prom-client lazily: importing the server layer does not', async () => {
    // A fresh process, so modules loaded by other tests do not count.
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', "await import('./src/server/index.ts'); const { createRequire } = await import('node:module'); console.log(Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('prom-client')));"],
      { encoding: 'utf8' },
    );
    assert.equal(out.trim(), 'false');
  });

  it('exposes controller-runtime reconcile metrics, pre-initialised and counted by result', async () => {
    const metrics = await Metrics.load({ defaultMetrics: false });
    const hooks = metrics.controllerMetrics('printers', { maxConcurrentReconciles: 8 });
    let text = (await metrics.exposition()).body;
    for (const result of ['success', 'error', 'requeue', 'requeue_after']) {
      assert.equal(sample(text, `controller_runtime_reconcile_total{controller="printers",result="${result}"}`), 0);
    }
    hooks.reconciled?.({ key: 'a/b', outcome: 'success', durationMs: 20, timedOut: false });
    hooks.reconciled?.({ key: 'a/b', outcome: 'success', durationMs: 30, timedOut: false });
    hooks.reconciled?.({ key: 'a/b', outcome: 'requeue_after', durationMs: 5, timedOut: false });
    hooks.reconciled?.({ key: 'a/b', outcome: 'error', durationMs: 2000, timedOut: true });
    hooks.reconciled?.({ key: 'a/c', outcome: 'terminal_error', durationMs: 1, timedOut: false });
    hooks.activeWorkers?.(3);
    const exposition = await metrics.exposition();
    text = exposition.body;
    assert.match(exposition.contentType, /^text\/plain/);
    assert.equal(sample(text, 'controller_runtime_reconcile_total{controller="printers",result="success"}'), 2);
    assert.equal(sample(text, 'controller_runtime_reconcile_total{controller="printers",result="requeue_after"}'), 1);
    assert.equal(sample(text, 'controller_runtime_reconcile_total{controller="printers",result="error"}'), 2, 'a terminal error is an error');
    assert.equal(sample(text, 'controller_runtime_reconcile_errors_total{controller="printers"}'), 2);
    assert.equal(sample(text, 'controller_runtime_terminal_reconcile_errors_total{controller="printers"}'), 1);
    assert.equal(sample(text, 'controller_runtime_reconcile_timeouts_total{controller="printers"}'), 1);
    assert.equal(sample(text, 'controller_runtime_reconcile_time_seconds_count{controller="printers"}'), 5);
    assert.equal(sample(text, 'controller_runtime_reconcile_time_seconds_bucket{le="0.025",controller="printers"}'), 3);
    assert.equal(sample(text, 'controller_runtime_reconcile_time_seconds_bucket{le="60",controller="printers"}'), 5);
    assert.equal(sample(text, 'controller_runtime_active_workers{controller="printers"}'), 3);
    assert.equal(sample(text, 'controller_runtime_max_concurrent_reconciles{controller="printers"}'), 8);
    assert.match(text, /# TYPE controller_runtime_reconcile_time_seconds histogram/);
  });

  it('exposes workqueue metrics driven by a real WorkQueue', async () => {
    const metrics = await Metrics.load({ defaultMetrics: false });
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock, metrics: metrics.queueMetrics('printers') });
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    let text = (await metrics.exposition()).body;
    assert.equal(sample(text, 'workqueue_depth{name="printers",controller="printers"}'), 2);
    await clock.advance(1500);
    const key = await queue.get();
    assert.equal(key, 'ns/a');
    await clock.advance(250);
    queue.done('ns/a');
    queue.addRateLimited('ns/a');
    await clock.advance(10);
    text = (await metrics.exposition()).body;
    assert.equal(sample(text, 'workqueue_adds_total{name="printers",controller="printers"}'), 3);
    assert.equal(sample(text, 'workqueue_retries_total{name="printers",controller="printers"}'), 1);
    assert.equal(sample(text, 'workqueue_depth{name="printers",controller="printers"}'), 2);
    assert.equal(sample(text, 'workqueue_queue_duration_seconds_count{name="printers",controller="printers"}'), 1);
    assert.equal(sample(text, 'workqueue_queue_duration_seconds_sum{name="printers",controller="printers"}'), 1.5);
    assert.equal(sample(text, 'workqueue_work_duration_seconds_sum{name="printers",controller="printers"}'), 0.25);
    assert.equal(sample(text, 'workqueue_work_duration_seconds_bucket{le="1",name="printers",controller="printers"}'), 1);
    queue.shutDown();
  });

  it('uses client-go\'s workqueue buckets', () => {
    assert.deepEqual(WORKQUEUE_DURATION_BUCKETS, [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000]);
  });

  it('samples watch health at scrape time, counting relists and reconnects as counters', async () => {
    const clock = new ManualClock(1_000_000);
    const metrics = await Metrics.load({ defaultMetrics: false, clock });
    let status: WatchHealth = {
      healthy: true,
      watches: [
        { relists: 1, reconnects: 2, lastEventAt: 1_000_000 - 4_000 },
        { relists: 0, reconnects: 1, lastEventAt: 1_000_000 - 1_000 },
      ],
    };
    const stop = metrics.watchMetrics('printers.demo.operon.dev', () => status);
    let text = (await metrics.exposition()).body;
    const r = '{resource="printers.demo.operon.dev"}';
    assert.equal(sample(text, `operon_watch_relists_total${r}`), 1);
    assert.equal(sample(text, `operon_watch_reconnects_total${r}`), 3);
    assert.equal(sample(text, `operon_watch_last_event_age_seconds${r}`), 4, 'the stalest watch');
    assert.equal(sample(text, `operon_watch_healthy${r}`), 1);

    status = { healthy: false, watches: [{ relists: 2, reconnects: 5, lastEventAt: 1_000_000 - 4_000 }, { relists: 0, reconnects: 1 }] };
    await clock.advance(6_000);
    text = (await metrics.exposition()).body;
    assert.equal(sample(text, `operon_watch_relists_total${r}`), 2);
    assert.equal(sample(text, `operon_watch_reconnects_total${r}`), 6);
    assert.equal(sample(text, `operon_watch_last_event_age_seconds${r}`), 10);
    assert.equal(sample(text, `operon_watch_healthy${r}`), 0);

    stop();
    text = (await metrics.exposition()).body;
    assert.equal(sample(text, `operon_watch_healthy${r}`), undefined, 'a stopped source is no longer reported');
  });

  it('exposes leader election status and slow-path renewals per lease, as client-go names them', async () => {
    const metrics = await Metrics.load({ defaultMetrics: false });
    const hooks = metrics.leaderElectionMetrics('printers.operon.dev');
    let text = (await metrics.exposition()).body;
    assert.equal(sample(text, 'leader_election_master_status{name="printers.operon.dev"}'), 0);
    assert.equal(sample(text, 'leader_election_slowpath_total{name="printers.operon.dev"}'), 0);
    hooks.leading(true);
    hooks.slowpath();
    text = (await metrics.exposition()).body;
    assert.equal(sample(text, 'leader_election_master_status{name="printers.operon.dev"}'), 1);
    assert.equal(sample(text, 'leader_election_slowpath_total{name="printers.operon.dev"}'), 1);
    hooks.leading(false);
    assert.equal(sample((await metrics.exposition()).body, 'leader_election_master_status{name="printers.operon.dev"}'), 0);
  });

  it('lets operators register their own metrics on the same registry', async () => {
    const metrics = await Metrics.load({ defaultMetrics: false });
    const requests = metrics.counter({ name: 'cvc_price_requests_total', help: 'Price API requests', labelNames: ['result'] as const });
    requests.inc({ result: 'ok' }, 2);
    metrics.gauge({ name: 'cvc_last_price', help: 'Last price' }).set(64000);
    metrics.histogram({ name: 'cvc_price_request_seconds', help: 'Latency', buckets: [0.1, 1] }).observe(0.3);
    const text = (await metrics.exposition()).body;
    assert.equal(sample(text, 'cvc_price_requests_total{result="ok"}'), 2);
    assert.equal(sample(text, 'cvc_last_price'), 64000);
    assert.equal(sample(text, 'cvc_price_request_seconds_bucket{le="1"}'), 1);
  });

  it('includes Node process metrics by default, and keeps registries apart', async () => {
    const a = await Metrics.load();
    const b = await Metrics.load({ defaultMetrics: false });
    a.controllerMetrics('x');
    const textA = (await a.exposition()).body;
    const textB = (await b.exposition()).body;
    assert.match(textA, /^process_resident_memory_bytes /m);
    assert.match(textA, /^nodejs_eventloop_lag_seconds /m);
    assert.doesNotMatch(textB, /process_resident_memory_bytes/);
    assert.doesNotMatch(textB, /controller="x"/);
  });
});
