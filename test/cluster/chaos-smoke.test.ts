/**
 * The fault suite (chaos/) at a tiny size on the test run's shared plane: only faults on the
 * operator's side (SIGKILLs of the operator, a stalling and resetting proxy, a 429 storm, hostile
 * input), since other test files use this plane's API server and etcd at the same time; the
 * control-plane and webhook faults run in `node chaos/run.ts` on a plane of its own.
 *
 * It checks correctness only (every scenario's checks hold: nothing lost, no duplicate Pod, no
 * write beyond the needed ones, convergence), never times: the numbers belong to the full run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { runSuite, type SuiteReport } from '../../chaos/harness/suite.ts';
import type { Sizes } from '../../chaos/harness/scenario.ts';
import { useCluster } from '../support/cluster.ts';
import { useCvcCrd } from '../support/cvc-crd.ts';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const cluster = await useCluster();
// The CVC CRD with the plane's conversion webhook, as every file that stores CVCs has it.
await useCvcCrd(cluster);
const dir = mkdtempSync(join(tmpdir(), 'operon-chaos-smoke-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SCENARIOS = ['operator-kills', 'printer-kills', 'hostile-network', '429-storm', 'bad-input'];
const SMOKE: Sizes = {
  cvcs: 10,
  burstCvcs: 12,
  operatorKills: 2,
  printers: 8,
  printersDeleted: 2,
  printerKills: 2,
  scaleCvcs: 0,
  refreshSeconds: 3,
  scaleRefreshSeconds: 3,
  apiserverDownMs: 0,
  etcdDownMs: 0,
  quietMs: 3_000,
  stallMs: 2_000,
  stallWatches: false,
  hostileMs: 3_000,
  stormMs: 3_000,
  pauseMs: 0,
  webhookKills: 0,
  convergeTimeoutMs: 60_000,
};

const report: SuiteReport = await runSuite({
  repo,
  sizes: SMOKE,
  scenarios: SCENARIOS,
  plane: cluster.state,
  planeDir: cluster.state.dir,
  namespaceSuffix: `-${Math.random().toString(36).slice(2, 7)}`,
  logDir: join(dir, 'logs'),
  log: (line) => process.stderr.write(`${line}\n`),
});

describe('the fault suite at a tiny size', () => {
  it('runs every scenario it was asked for', () => {
    assert.deepEqual(report.results.map((r) => r.name).sort(), [...SCENARIOS].sort());
  });

  for (const name of SCENARIOS) {
    it(`${name}: converges with nothing lost, duplicated or written twice`, () => {
      const r = report.results.find((x) => x.name === name);
      assert.ok(r);
      const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.what}: ${c.detail ?? ''}`);
      assert.equal(r.reason, undefined, `${name} could not run: ${r.reason}; log: ${r.logFile}`);
      assert.deepEqual(failed, [], `log: ${r.logFile}`);
      assert.ok(r.checks.length > 0);
      assert.equal(r.status, 'ok');
      assert.equal(r.lost, 0);
      assert.notEqual(r.convergeSeconds, null);
      if (r.duplicatePods !== undefined) assert.equal(r.duplicatePods, 0);
      if (r.quietWrites !== undefined) assert.equal(r.quietWrites, 0);
    });
  }
});
