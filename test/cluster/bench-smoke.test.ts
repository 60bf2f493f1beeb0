/**
 * The benchmark at a tiny size (N = 5, refresh 2 s) on a control plane of its own: every contender
 * that can be installed on this machine does the whole CVC job right, and every Printer program
 * gives each Printer exactly one Pod it controls and a `status.phase` equal to that Pod's finished
 * phase. It checks results, never times: the numbers belong to `node bench/run.ts`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { down } from '../../src/cluster/plane.ts';
import { runBench, type BenchReport } from '../../bench/harness/bench.ts';
import { CONTENDERS, CVC_WORKLOADS, printerProgram } from '../../bench/harness/contenders.ts';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const N = 5;
const dir = mkdtempSync(join(tmpdir(), 'operon-bench-smoke-'));
after(async () => {
  await down({ dir: join(dir, 'plane'), log: () => {} });
  rmSync(dir, { recursive: true, force: true });
});

const report: BenchReport = await runBench({
  repo,
  sizes: [N],
  contenders: [...CONTENDERS],
  workloads: ['idle', 'burst', 'steady', 'restart', 'printer'],
  refreshSeconds: 2,
  steadyRounds: 2,
  creatorConcurrency: 4,
  settleMs: 2_000,
  quietWindowMs: 4_000,
  planeDir: join(dir, 'plane'),
  logDir: join(dir, 'logs'),
  log: (line) => process.stderr.write(`${line}\n`),
});

const cvcContenders = CONTENDERS.filter((c) => (c.workloads ?? CVC_WORKLOADS).some((w) => CVC_WORKLOADS.includes(w)));
const printerContenders = CONTENDERS.filter((c) => printerProgram(c) !== undefined);

describe('the benchmark at N = 5', () => {
  it('runs every contender it lists, or says why not', () => {
    assert.deepEqual(report.results.filter((r) => !r.workload).map((r) => r.contender), cvcContenders.map((c) => c.name));
    assert.deepEqual(report.results.filter((r) => r.workload === 'printer').map((r) => r.contender), printerContenders.map((c) => c.name));
    for (const r of report.results.filter((x) => x.status === 'skipped')) {
      assert.ok(r.reason, `${r.contender} was skipped without a reason`);
      process.stderr.write(`skipped ${r.contender}: ${r.reason}\n`);
    }
    assert.ok(report.results.some((r) => r.status !== 'skipped'), 'no contender could run here');
  });

  for (const contender of cvcContenders) {
    it(`${contender.name} writes the right value into every CVC, keeps it right and catches up after a restart`, (t) => {
      const r = report.results.find((x) => x.contender === contender.name && !x.workload);
      assert.ok(r);
      if (r.status === 'skipped') return t.skip(r.reason);
      assert.equal(r.status, 'ok', `${r.contender}: ${r.reason ?? JSON.stringify({ burst: r.burst?.wrong, steady: r.steady?.wrong, restart: r.restart?.wrong })}; log: ${r.log}`);
      assert.equal(r.burst?.correct, N);
      assert.equal(r.burst?.latencyMs.count, N);
      if ((contender.workloads ?? ['steady']).includes('steady')) {
        assert.equal(r.steady?.converged, true);
        assert.equal(r.restart?.caughtUp, true);
      }
    });
  }

  for (const contender of printerContenders) {
    it(`${contender.name}'s Printer operator gives every Printer one Pod and a status that follows it`, (t) => {
      const r = report.results.find((x) => x.contender === contender.name && x.workload === 'printer');
      assert.ok(r);
      if (r.status === 'skipped') return t.skip(r.reason);
      const p = r.printer;
      assert.equal(r.status, 'ok', `${r.contender} printer: ${r.reason ?? JSON.stringify(p?.wrong)}; log: ${r.log}`);
      assert.ok(p);
      // "done" is the harness's judgement per Printer: exactly one Pod ever, controlled by it, and
      // (unless the program writes no status) finished, with status.phase equal to its phase.
      if (!p.statusJudged) t.diagnostic(`${r.contender}: writes no status; only its Pods are checked`);
      assert.equal(p.done, N);
      assert.equal(p.withPod, N);
      assert.equal(p.extraPods, 0, 'a Printer got a second Pod');
      assert.equal(p.strayPods, 0, 'a Pod no Printer controls');
      assert.equal(p.latencyMs.count, N);
    });
  }
});
