/**
 * A run of several passes: the order of contenders alternates between passes, and the report
 * gives each contender's median over its completed passes with the ratio to controller-runtime's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { passOrder, type BenchReport, type ContenderResult } from '../../../bench/harness/bench.ts';
import { markdown, mergeReports } from '../../../bench/harness/report.ts';
import { median } from '../../../bench/harness/stats.ts';

const none = { total: 0, byVerb: {}, cvcWrites: 0, cvcStatusWrites: 0, detail: {} };
const latency = (p99: number): { count: number; p50: number; p90: number; p99: number; max: number } => ({ count: 1, p50: p99, p90: p99, p99, max: p99 });

function burstRow(contender: string, pass: number, objectsPerSecond: number, cpuSeconds: number, status: ContenderResult['status'] = 'ok'): ContenderResult {
  return {
    contender,
    about: contender,
    n: 1000,
    pass,
    status,
    burst: { complete: status === 'ok', correct: 1000, createSeconds: 1, seconds: 1000 / objectsPerSecond, objectsPerSecond, latencyMs: latency(500), peakRssMiB: 80, cpuSeconds, requests: none, priceRequests: 4 },
  };
}

function report(results: ContenderResult[]): BenchReport {
  return {
    startedAt: '2026-12-06T00:00:00.000Z',
    finishedAt: '2026-12-06T00:10:00.000Z',
    machine: { nproc: 2, cpu: 'test', memoryMiB: 4096, kernel: '6' },
    versions: {},
    settings: { sizes: [1000], workloads: ['burst'], refreshSeconds: 15, steadyRounds: 4, creatorConcurrency: 32, settleMs: 0, quietWindowMs: 0, repeat: 3 },
    creation: [],
    results,
    notes: [],
  };
}

describe('passOrder', () => {
  it('runs the contenders as named on odd passes and reversed on even ones', () => {
    assert.deepEqual(passOrder(['a', 'b', 'c'], 1), ['a', 'b', 'c']);
    assert.deepEqual(passOrder(['a', 'b', 'c'], 2), ['c', 'b', 'a']);
    assert.deepEqual(passOrder(['a', 'b', 'c'], 3), ['a', 'b', 'c']);
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });
});

describe('the report of several passes', () => {
  const rows = [
    burstRow('operon', 1, 300, 1.2),
    burstRow('controller-runtime', 1, 320, 1.0),
    burstRow('controller-runtime', 2, 300, 1.1),
    burstRow('operon', 2, 360, 0.9),
    burstRow('operon', 3, 330, 1.0),
    burstRow('controller-runtime', 3, 310, 1.3),
  ];

  it('names each pass in the tables and gives the medians with their ranges and ratios', () => {
    const text = markdown(report(rows));
    assert.match(text, /\| operon #2 \|/);
    assert.match(text, /\| controller-runtime #3 \|/);
    // operon: median 330 (300–360) objects/s, CPU 1.00 (0.90–1.20); controller-runtime: 310, 1.10.
    assert.match(text, /\| operon \| 3 \| 330 \(300–360\) \| 1\.06× \| 1 \(0\.90–1\.20\) \| 0\.91× \|/);
    assert.match(text, /\| controller-runtime \| 3 \| 310 \(300–320\) \| 1\.00× \| 1\.10 \(1–1\.30\) \| 1\.00× \|/);
  });

  it('leaves a pass that did not complete out of the medians', () => {
    const text = markdown(report([...rows.slice(0, 5), burstRow('controller-runtime', 3, 10, 9, 'incomplete')]));
    assert.match(text, /\| controller-runtime \| 2 \| 310 \(300–320\) \|/);
  });

  it('keeps every pass when runs are merged', () => {
    const merged = mergeReports([report(rows), report([burstRow('kopf', 1, 80, 3)])]);
    assert.equal(merged.results.length, rows.length + 1);
  });
});
