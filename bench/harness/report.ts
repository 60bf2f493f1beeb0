/**
 * The report of a run: Markdown tables for people and the README, and an SVG chart (converted to
 * PNG by rsvg-convert when it is installed) of throughput and memory per contender.
 */
import { execFileSync } from 'node:child_process';
import { requests, type BenchReport, type ContenderResult, type PrinterResult } from './bench.ts';
import { median } from './stats.ts';

const fmt = (x: number | undefined, places = 1): string => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(places).replace(/\.0+$/, ''));

/** CVC writes, with the status-subresource share when there is one. */
function writes(r: { cvcWrites: number; cvcStatusWrites?: number }): string {
  return r.cvcStatusWrites ? `${r.cvcWrites} (${r.cvcStatusWrites} status)` : String(r.cvcWrites);
}

/** A row's contender, with its pass in a run of several. */
function label(r: ContenderResult): string {
  return r.pass ? `${r.contender} #${r.pass}` : r.contender;
}

/** A row's name in lists that mix both kinds of rows. */
function rowName(r: ContenderResult): string {
  return r.workload ? `${label(r)} (${r.workload})` : label(r);
}

function state(r: ContenderResult): string {
  if (r.status === 'ok') return '';
  return ` (${r.status}${r.reason ? `: ${r.reason}` : ''})`;
}

/**
 * Several runs as one report (e.g. N = 1,000 from one run and N = 10,000 from another, or one
 * contender measured again): sizes in order, the machine and versions of the newest run.
 */
export function mergeReports(reports: BenchReport[]): BenchReport {
  if (reports.length === 1) return reports[0] as BenchReport;
  const newest = reports[reports.length - 1] as BenchReport;
  const sizes = [...new Set(reports.flatMap((r) => r.settings.sizes))].sort((a, b) => a - b);
  const bySize = (n: number): BenchReport | undefined => [...reports].reverse().find((r) => r.creation.some((c) => c.n === n));
  const printersBySize = (n: number): BenchReport | undefined => [...reports].reverse().find((r) => r.printerCreation?.some((c) => c.n === n));
  const printerCreation = sizes.flatMap((n) => printersBySize(n)?.printerCreation?.filter((c) => c.n === n) ?? []);
  return {
    ...newest,
    startedAt: reports.map((r) => r.startedAt).sort()[0] as string,
    finishedAt: reports.map((r) => r.finishedAt).sort().pop() as string,
    settings: { ...newest.settings, sizes, steadyMaxN: undefined, printerMaxN: undefined, workloads: [...new Set(reports.flatMap((r) => r.settings.workloads))] },
    creation: sizes.flatMap((n) => bySize(n)?.creation.filter((c) => c.n === n) ?? []),
    ...(printerCreation.length ? { printerCreation } : {}),
    results: sizes.flatMap((n) => {
      // Per contender, kind of row (CVC or printer) and pass, the newest run that has it at this
      // size; a skip never hides a measurement.
      const rows = new Map<string, ContenderResult>();
      for (const r of reports.flatMap((report) => report.results.filter((x) => x.n === n))) {
        const key = rowName(r);
        if (r.status === 'skipped' && rows.has(key) && rows.get(key)?.status !== 'skipped') continue;
        rows.set(key, r);
      }
      return [...rows.values()];
    }),
    notes: [...reports.flatMap((r) => r.notes), `Merged from runs started ${reports.map((r) => r.startedAt).join(', ')}; each contender at each size comes from the newest run that measured it.`],
  };
}

/** The printer workload's table for the rows that ran it at size `n`. */
function printerTable(rows: ContenderResult[], n: number, creation: { seconds: number; objectsPerSecond: number } | undefined): string[] {
  const lines = [
    '**Printer burst** (create N Printers; time until every Printer has its Pod, and until every `status.phase` is its finished Pod\'s phase)',
    '',
  ];
  if (creation) lines.push(`Printer creator alone (no operator running): ${creation.seconds} s, ${creation.objectsPerSecond} objects/s.`, '');
  lines.push(
    '| contender | done | time to all Pods s | time to all statuses s | objects/s | p50 ms | p90 ms | p99 ms | max ms | peak RSS MiB | CPU s | Pod creates | Printer writes | API requests (by verb) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const r of rows) {
    const p = r.printer as PrinterResult;
    const verbs = Object.entries(p.requests.byVerb).map(([v, c]) => `${v} ${c}`).join(', ');
    const judged = (x: string): string => (p.statusJudged ? x : 'n/a');
    const writes = p.printerStatusWrites ? `${p.printerWrites} (${p.printerStatusWrites} status)` : String(p.printerWrites);
    lines.push(
      `| ${label(r)}${state(r)} | ${p.done}/${n}${doneProblems(p)} | ${fmt(p.podsSeconds, 2)} | ${judged(fmt(p.seconds, 2))} | ${fmt(p.objectsPerSecond)} | ${judged(fmt(p.latencyMs.p50, 0))} | ${judged(fmt(p.latencyMs.p90, 0))} | ${judged(fmt(p.latencyMs.p99, 0))} | ${judged(fmt(p.latencyMs.max, 0))} | ${fmt(p.peakRssMiB)} | ${fmt(p.cpuSeconds, 2)} | ${p.podCreates} | ${writes} | ${verbs} |`,
    );
  }
  lines.push('');
  return lines;
}

/** What is wrong beyond time: Printers with a second Pod, Pods no Printer controls. */
function doneProblems(p: PrinterResult): string {
  const problems = [p.extraPods ? `${p.extraPods} with 2+ Pods` : '', p.strayPods ? `${p.strayPods} stray Pods` : ''].filter(Boolean);
  return problems.length ? ` (${problems.join(', ')})` : '';
}

/** The contender the medians are compared with when it ran. */
const BASELINE = 'controller-runtime';

/**
 * A run of several passes, per contender: the median of each figure over the passes that completed
 * it, its range, and its ratio to the baseline's median. Rows that did not complete are left out
 * of the medians (the tables above show them).
 */
function medianTables(rows: ContenderResult[]): string[] {
  type Figure = { title: string; pick: (r: ContenderResult) => number | undefined; places: number };
  const table = (caption: string, kind: (r: ContenderResult) => boolean, figures: Figure[]): string[] => {
    const chosen = rows.filter((r) => kind(r) && r.status === 'ok');
    const names = [...new Set(chosen.map((r) => r.contender))];
    type Stats = { mid: number; lo: number; hi: number; count: number };
    // Per contender, each figure's summary (undefined when no pass measured it), worked out once.
    const summaries = new Map(
      names.map((name) => [
        name,
        figures.map((f): Stats | undefined => {
          const values = chosen.filter((r) => r.contender === name).map(f.pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
          return values.length ? { mid: median(values), lo: Math.min(...values), hi: Math.max(...values), count: values.length } : undefined;
        }),
      ]),
    );
    const stats = (name: string, f: Figure): Stats | undefined => summaries.get(name)?.[figures.indexOf(f)];
    const cells = figures.filter((f) => names.some((name) => stats(name, f)));
    if (!cells.length) return [];
    const withBaseline = names.includes(BASELINE);
    const out = [
      `**${caption}**: median over the passes (range)${withBaseline ? `; ratio: the median ÷ ${BASELINE}'s (objects/s: above 1 is faster; seconds, CPU, writes: below 1 is less)` : '; no baseline in this run'}`,
      '',
      `| contender | passes | ${cells.map((f) => f.title + (withBaseline ? ' | ratio' : '')).join(' | ')} |`,
      `|---|---:|${cells.map(() => (withBaseline ? '---:|---:' : '---:')).join('|')}|`,
    ];
    for (const name of names) {
      const count = Math.max(0, ...cells.map((f) => stats(name, f)?.count ?? 0));
      const columns = cells.map((f) => {
        const s = stats(name, f);
        const base = withBaseline ? stats(BASELINE, f) : undefined;
        const value = s ? `${fmt(s.mid, f.places)} (${fmt(s.lo, f.places)}–${fmt(s.hi, f.places)})` : '—';
        if (!withBaseline) return value;
        return `${value} | ${s && base && base.mid > 0 ? `${(s.mid / base.mid).toFixed(2)}×` : '—'}`;
      });
      out.push(`| ${name} | ${count} | ${columns.join(' | ')} |`);
    }
    out.push('');
    return out;
  };
  return [
    ...table('Burst and restart', (r) => !r.workload, [
      { title: 'burst objects/s', pick: (r) => r.burst?.objectsPerSecond, places: 1 },
      { title: 'burst CPU s', pick: (r) => r.burst?.cpuSeconds, places: 2 },
      { title: 'burst p99 ms', pick: (r) => r.burst?.latencyMs.p99, places: 0 },
      { title: 'restart catch-up s', pick: (r) => (r.restart?.caughtUp ? r.restart.catchUpSeconds : undefined), places: 2 },
    ]),
    ...table('Printer burst', (r) => r.workload === 'printer', [
      { title: 'Printers/s', pick: (r) => r.printer?.objectsPerSecond, places: 1 },
      { title: 'CPU s', pick: (r) => r.printer?.cpuSeconds, places: 2 },
      { title: 'p99 ms', pick: (r) => r.printer?.latencyMs.p99, places: 0 },
      { title: 'writes', pick: (r) => r.printer?.printerWrites, places: 0 },
    ]),
  ];
}

/** Markdown: one section per N with burst, steady, restart, idle and printer tables, then skipped contenders. */
export function markdown(report: BenchReport): string {
  const m = report.machine;
  const lines: string[] = [
    `Run ${report.startedAt} → ${report.finishedAt} on ${m.nproc} CPUs (${m.cpu}), ${(m.memoryMiB / 1024).toFixed(1)} GiB, Linux ${m.kernel}.`,
    `Versions: ${Object.entries(report.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `Settings: REFRESH_SECONDS=${report.settings.refreshSeconds}, ${report.settings.steadyRounds} steady rounds${report.settings.steadyMaxN ? ` (steady only up to N = ${report.settings.steadyMaxN})` : ''}${report.settings.printerMaxN ? ` (printer only up to N = ${report.settings.printerMaxN})` : ''}, creator ${report.settings.creatorConcurrency} in flight, workloads ${report.settings.workloads.join(', ')}.`,
    '',
  ];
  for (const n of report.settings.sizes) {
    const rows = report.results.filter((r) => r.n === n);
    const creation = report.creation.find((c) => c.n === n);
    lines.push(`### N = ${n.toLocaleString('en-US')}`, '');
    if (creation) lines.push(`Creator alone (no operator running): ${creation.seconds} s, ${creation.objectsPerSecond} objects/s.`, '');
    const burst = rows.filter((r) => r.burst);
    if (burst.length) {
      lines.push(
        '**Burst** (create N, time until every value is right)',
        '',
        '| contender | done | time s | objects/s | p50 ms | p90 ms | p99 ms | max ms | peak RSS MiB | CPU s | CVC writes | API requests (by verb) | price requests |',
        '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
      );
      for (const r of burst) {
        const b = r.burst!;
        // Recomputed from the raw counters, so an older result file gets today's filtering.
        const verbs = Object.entries(requests(b.requests.detail).byVerb).map(([v, c]) => `${v} ${c}`).join(', ');
        lines.push(`| ${label(r)}${state(r)} | ${b.correct}/${n} | ${fmt(b.seconds, 2)} | ${fmt(b.objectsPerSecond)} | ${fmt(b.latencyMs.p50, 0)} | ${fmt(b.latencyMs.p90, 0)} | ${fmt(b.latencyMs.p99, 0)} | ${fmt(b.latencyMs.max, 0)} | ${fmt(b.peakRssMiB)} | ${fmt(b.cpuSeconds, 2)} | ${writes(b.requests)} | ${verbs} | ${b.priceRequests} |`);
      }
      const ceilings = burst.filter((r) => r.contender.startsWith('ceiling-') && r.status === 'ok');
      const best = ceilings.sort((a, b) => b.burst!.objectsPerSecond - a.burst!.objectsPerSecond)[0];
      if (best) lines.push('', `Ceiling (best of ${ceilings.length} concurrencies): ${fmt(best.burst!.objectsPerSecond)} objects/s with ${best.contender.slice('ceiling-'.length)} in flight.`);
      lines.push('');
    }
    const steady = rows.filter((r) => r.steady);
    if (steady.length) {
      lines.push(
        `**Steady state** (N CVCs, bitcoin's price changes once per refresh interval, so a quarter of the values must change each time; counts are per price change)`,
        '',
        '| contender | converged | CVC writes | needed | price requests | CPU s/min | RSS MiB | peak RSS MiB |',
        '|---|---|---:|---:|---:|---:|---:|---:|',
      );
      for (const r of steady) {
        const s = r.steady!;
        lines.push(`| ${label(r)}${state(r)} | ${s.converged ? 'yes' : 'NO'} | ${fmt(s.writesPerRefresh)}${s.requests.cvcStatusWrites ? ` (${fmt(s.requests.cvcStatusWrites / s.rounds)} status)` : ''} | ${fmt(s.neededWritesPerRefresh)} | ${fmt(s.priceRequestsPerRefresh)} | ${fmt(s.cpuSecondsPerMinute, 2)} | ${fmt(s.rssMiB)} | ${fmt(s.peakRssMiB)} |`);
      }
      lines.push('');
    }
    if (!steady.length && report.settings.workloads.includes('steady')) lines.push('Steady state: not run at this size.', '');
    const restart = rows.filter((r) => r.restart);
    if (restart.length) {
      lines.push(
        '**Restart** (prices changed while down: start → all values right; then a restart with nothing changed)',
        '',
        '| contender | catch-up s | CVC writes (values that changed) | writes, nothing changed | watched s |',
        '|---|---:|---:|---:|---:|',
      );
      for (const r of restart) {
        const s = r.restart!;
        lines.push(`| ${label(r)}${state(r)} | ${s.caughtUp ? fmt(s.catchUpSeconds, 2) : `not in ${fmt(s.catchUpSeconds, 0)}`} | ${s.catchUpRequests ? writes(s.catchUpRequests) : s.catchUpWrites} (${s.catchUpNeededWrites}) | ${writes(s.quietRequests)} | ${fmt(s.quietSeconds)} |`);
      }
      lines.push('');
    }
    const idle = rows.filter((r) => r.idle);
    if (idle.length) {
      lines.push('**Idle memory** (VmRSS)', '', '| contender | no objects MiB | N objects cached MiB |', '|---|---:|---:|');
      for (const r of idle) lines.push(`| ${label(r)} | ${fmt(r.idle!.emptyRssMiB)} | ${fmt(r.idle!.withObjectsRssMiB)} |`);
      lines.push('');
    }
    const printer = rows.filter((r) => r.printer);
    if (printer.length) lines.push(...printerTable(printer, n, report.printerCreation?.find((c) => c.n === n)));
    else if (report.settings.workloads.includes('printer') && n > (report.settings.printerMaxN ?? Infinity)) lines.push('Printer burst: not run at this size.', '');
    if (rows.some((r) => r.pass)) lines.push(...medianTables(rows));
    const failed = rows.filter((r) => r.status === 'failed' || r.status === 'skipped');
    for (const r of failed) lines.push(`- **${rowName(r)}** ${r.status}: ${r.reason ?? ''}`);
    if (failed.length) lines.push('');
  }
  for (const note of report.notes) lines.push(`- ${note}`);
  return lines.join('\n') + '\n';
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Bar panels per N: burst throughput (objects/s) and burst peak RSS (MiB); Printer burst throughput when measured. */
export function svgChart(report: BenchReport): string {
  const panels: Array<{ title: string; unit: string; bars: Array<{ label: string; value: number }> }> = [];
  for (const n of report.settings.sizes) {
    const barLabel = (r: ContenderResult): string => label(r) + (r.status === 'ok' ? '' : ` (${r.status})`);
    const rows = report.results.filter((r) => r.n === n && r.burst);
    if (rows.length) {
      panels.push({ title: `Burst throughput, N = ${n.toLocaleString('en-US')}`, unit: 'objects/s', bars: rows.map((r) => ({ label: barLabel(r), value: r.burst!.objectsPerSecond })) });
      panels.push({ title: `Peak RSS during burst, N = ${n.toLocaleString('en-US')}`, unit: 'MiB', bars: rows.map((r) => ({ label: barLabel(r), value: r.burst!.peakRssMiB })) });
    }
    const printers = report.results.filter((r) => r.n === n && r.printer);
    if (printers.length) panels.push({ title: `Printer burst, N = ${n.toLocaleString('en-US')}`, unit: 'Printers/s', bars: printers.map((r) => ({ label: barLabel(r), value: r.printer!.objectsPerSecond })) });
  }
  const width = 900;
  const barH = 22;
  const labelW = 230;
  const plotW = width - labelW - 110;
  const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];
  const names = [...new Set(report.results.map((r) => r.contender))];
  const color = (label: string): string => palette[Math.max(0, names.indexOf(label.split(' ')[0] ?? '')) % palette.length] as string;
  const parts: string[] = [];
  let y = 50;
  for (const panel of panels) {
    parts.push(`<text x="20" y="${y}" font-size="16" font-weight="bold">${escape(panel.title)} (${panel.unit})</text>`);
    y += 14;
    const max = Math.max(1, ...panel.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)));
    panel.bars.forEach((bar) => {
      const w = Number.isFinite(bar.value) ? (bar.value / max) * plotW : 0;
      parts.push(`<text x="${labelW - 8}" y="${y + barH - 6}" font-size="13" text-anchor="end">${escape(bar.label)}</text>`);
      parts.push(`<rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${barH - 4}" fill="${color(bar.label)}"/>`);
      parts.push(`<text x="${labelW + w + 6}" y="${y + barH - 6}" font-size="13">${Number.isFinite(bar.value) ? fmt(bar.value) : 'n/a'}</text>`);
      y += barH;
    });
    y += 30;
  }
  const m = report.machine;
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="24" font-size="13" fill="#555">Operators on one kube-apiserver ${escape(report.versions['kube-apiserver'] ?? '')}, ${m.nproc} CPUs, ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC</text>`,
    ...parts,
    '</svg>',
  ].join('\n');
}

/**
 * The scale curve: one line per contender against N (log scale), in four panels: burst
 * throughput, peak RSS during the burst, RSS per cached object (idle with N cached less idle
 * empty, over N) and restart catch-up. Empty when the report has fewer than two sizes.
 */
export function scaleChart(report: BenchReport): string {
  const sizes = [...new Set(report.results.map((r) => r.n))].sort((a, b) => a - b);
  if (sizes.length < 2) return '';
  const names = [...new Set(report.results.filter((r) => !r.workload).map((r) => r.contender))];
  type Series = { name: string; points: Array<{ n: number; value: number }> };
  // One point per size: the median of the passes that measured it.
  const series = (pick: (r: ContenderResult) => number | undefined): Series[] =>
    names
      .map((name) => ({
        name,
        points: sizes.flatMap((n) => {
          const values = report.results.filter((r) => r.contender === name && !r.workload && r.n === n).map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
          return values.length ? [{ n, value: median(values) }] : [];
        }),
      }))
      .filter((s) => s.points.length > 0);
  const perObject = (r: ContenderResult): number | undefined =>
    r.idle?.withObjectsRssMiB !== undefined ? ((r.idle.withObjectsRssMiB - r.idle.emptyRssMiB) * 1024) / r.n : undefined;
  const panels = [
    { title: 'Burst throughput', unit: 'objects/s', series: series((r) => r.burst?.objectsPerSecond) },
    { title: 'Peak RSS during the burst', unit: 'MiB', series: series((r) => r.burst?.peakRssMiB) },
    { title: 'RSS per cached object', unit: 'KiB', series: series(perObject) },
    { title: 'Restart catch-up', unit: 's', series: series((r) => r.restart?.catchUpSeconds) },
  ].filter((p) => p.series.length > 0);
  const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];
  const color = (name: string): string => palette[Math.max(0, names.indexOf(name)) % palette.length] as string;
  const panelW = 430;
  const panelH = 260;
  const margin = { left: 60, right: 20, top: 30, bottom: 40 };
  const [lo, hi] = [Math.log10(sizes[0] ?? 1), Math.log10(sizes.at(-1) ?? 10)];
  const parts: string[] = [];
  panels.forEach((panel, i) => {
    const ox = 20 + (i % 2) * (panelW + 20);
    const oy = 40 + Math.floor(i / 2) * (panelH + 30);
    const plotW = panelW - margin.left - margin.right;
    const plotH = panelH - margin.top - margin.bottom;
    const max = Math.max(1e-9, ...panel.series.flatMap((s) => s.points.map((p) => p.value))) * 1.1;
    const x = (n: number): number => ox + margin.left + (hi === lo ? 0 : ((Math.log10(n) - lo) / (hi - lo)) * plotW);
    const y = (v: number): number => oy + margin.top + plotH - (v / max) * plotH;
    parts.push(`<text x="${ox}" y="${oy + 16}" font-size="15" font-weight="bold">${escape(panel.title)} (${panel.unit})</text>`);
    parts.push(`<line x1="${ox + margin.left}" y1="${oy + margin.top + plotH}" x2="${ox + margin.left + plotW}" y2="${oy + margin.top + plotH}" stroke="#888"/>`);
    parts.push(`<line x1="${ox + margin.left}" y1="${oy + margin.top}" x2="${ox + margin.left}" y2="${oy + margin.top + plotH}" stroke="#888"/>`);
    for (const n of sizes) parts.push(`<text x="${x(n).toFixed(1)}" y="${oy + margin.top + plotH + 16}" font-size="11" text-anchor="middle">${n.toLocaleString('en-US')}</text>`);
    for (const f of [0, 0.5, 1]) parts.push(`<text x="${ox + margin.left - 6}" y="${(y(f * max) + 4).toFixed(1)}" font-size="11" text-anchor="end">${fmt(f * max)}</text>`);
    for (const s of panel.series) {
      const path = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.n).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
      parts.push(`<path d="${path}" fill="none" stroke="${color(s.name)}" stroke-width="2"/>`);
      for (const p of s.points) parts.push(`<circle cx="${x(p.n).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3" fill="${color(s.name)}"/>`);
    }
  });
  const rows = Math.ceil(panels.length / 2);
  const legendY = 40 + rows * (panelH + 30);
  names.forEach((name, i) => {
    parts.push(`<rect x="${20 + i * 200}" y="${legendY}" width="14" height="14" fill="${color(name)}"/>`);
    parts.push(`<text x="${40 + i * 200}" y="${legendY + 12}" font-size="13">${escape(name)}</text>`);
  });
  const width = 2 * panelW + 60;
  const height = legendY + 30;
  const m = report.machine;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="24" font-size="13" fill="#555">Against N (log scale): one kube-apiserver ${escape(report.versions['kube-apiserver'] ?? '')}, ${m.nproc} CPUs, ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC</text>`,
    ...parts,
    '</svg>',
  ].join('\n');
}

/** Converts SVG to PNG with rsvg-convert; returns why not when it cannot. */
export function toPng(svgFile: string, pngFile: string): string | undefined {
  try {
    execFileSync('rsvg-convert', ['-o', pngFile, svgFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    return undefined;
  } catch (err) {
    return `no PNG: rsvg-convert failed or is missing (bash bench/setup.sh chart installs it): ${err instanceof Error ? err.message : String(err)}`;
  }
}
