#!/usr/bin/env node
/**
 * Runs the fault suite against the reference operators and writes the results.
 *
 *   node chaos/run.ts [--scenarios a,b] [--small] [--keep-plane]
 *
 * Results: chaos/results/<timestamp>.json and chaos/results/latest.md (the small suite writes
 * chaos/results/small-latest.md, so it never replaces the published figures). Operator logs:
 * ~/.cache/operon/chaos/logs/<timestamp>/. The suite brings up its own control plane in
 * ~/.cache/operon/chaos/plane (OPERON_CHAOS_PLANE_DIR), because its faults kill the plane's
 * components, and stops it at the end unless --keep-plane.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { down } from '../src/cluster/plane.ts';
import { markdown } from './harness/report.ts';
import { FULL, runSuite, selectScenarios, SMALL } from './harness/suite.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cache = process.env.OPERON_CHAOS_CACHE ?? join(homedir(), '.cache', 'operon', 'chaos');

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string' },
    small: { type: 'boolean', default: false },
    'keep-plane': { type: 'boolean', default: false },
  },
});
const scenarios = (values.scenarios ?? '').split(',').map((s) => s.trim()).filter(Boolean);
try {
  selectScenarios(scenarios);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const planeDir = process.env.OPERON_CHAOS_PLANE_DIR ?? join(cache, 'plane');
const t0 = performance.now();
const report = await runSuite({
  repo,
  sizes: values.small ? SMALL : FULL,
  scenarios,
  planeDir,
  logDir: join(cache, 'logs', stamp),
  log: (line) => console.error(line),
}).finally(async () => {
  if (!values['keep-plane']) await down({ dir: planeDir, log: (line) => console.error(line) });
});

const results = join(repo, 'chaos', 'results');
mkdirSync(results, { recursive: true });
const file = `${values.small ? 'small-' : ''}${stamp}.json`;
writeFileSync(join(results, file), JSON.stringify(report, null, 2) + '\n');
const md = markdown(report);
writeFileSync(join(results, values.small ? 'small-latest.md' : 'latest.md'), md);
console.log(md);
console.error(`results: chaos/results/${file}, chaos/results/${values.small ? 'small-latest.md' : 'latest.md'} (${Math.round((performance.now() - t0) / 1000)} s)`);
process.exitCode = report.results.every((r) => r.status === 'ok') ? 0 : 1;
