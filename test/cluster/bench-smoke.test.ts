/**
 * The benchmark at a tiny size (N = 5, refresh 2 s) on a control plane of its own: every contender
 * that can be installed on this machine does the whole CVC job right. It checks results, never
 * times: the numbers belong to `node bench/run.ts`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { down } from '../../controlplane/src/plane.ts';
import { runBench, type BenchReport } from '../../bench/harness/bench.ts';
import { CONTENDERS } from '../../bench/harness/contenders.ts';

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
  workloads: ['idle', 'burst', 'steady', 'restart'],
  refreshSeconds: 2,
  steadyRounds: 2,
  creatorConcurrency: 4,
  settleMs: 2_000,
  quietWindowMs: 4_000,
  planeDir: join(dir, 'plane'),
  logDir: join(dir, 'logs'),
  log: (line) => process.stderr.write(`${line}\n`),
});

describe('the benchmark at N = 5', () => {
  it('runs every contender it lists, or says why not', () => {
    assert.deepEqual(report.results.map((r) => r.contender), CONTENDERS.map((c) => c.name));
    for (const r of report.results.filter((x) => x.status === 'skipped')) {
      assert.ok(r.reason, `${r.contender} was skipped without a reason`);
      process.stderr.write(`skipped ${r.contender}: ${r.reason}\n`);
    }
    assert.ok(report.results.some((r) => r.status !== 'skipped'), 'no contender could run here');
  });

  for (const contender of CONTENDERS) {
    it(`${contender.name} writes the right value into every CVC, keeps it right and catches up after a restart`, (t) => {
      const r = report.results.find((x) => x.contender === contender.name);
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
});
