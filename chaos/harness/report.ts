/**
 * The suite's Markdown: one row per scenario with what was injected and what came out, then the
 * checks each scenario proved, then the commonest warning and error lines of the operators.
 */
import type { ScenarioResult } from './scenario.ts';
import type { SuiteReport } from './suite.ts';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function writes(r: ScenarioResult): string {
  if (r.duplicatePods !== undefined) return `${r.duplicatePods} duplicate Pods`;
  if (!r.writes) return '–';
  const w = r.writes;
  return `${w.applied} / ${w.needed}${w.failedAttempts ? ` (${w.failedAttempts} failed attempts)` : ''}${r.quietWrites !== undefined ? `; ${r.quietWrites} when quiet` : ''}`;
}

function events(r: ScenarioResult): string {
  const list = Object.entries(r.warningEvents);
  return list.length ? list.map(([reason, n]) => `${n} ${reason}`).join(', ') : '0';
}

/** The report as Markdown. */
export function markdown(report: SuiteReport): string {
  const m = report.machine;
  const lines = [
    `# Fault suite${report.small ? ' (small)' : ''}: ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${m.nproc} cores (${m.cpu}), ${Math.round(m.memoryMiB / 1024)} GiB, Linux ${m.kernel}. Versions: ${Object.entries(report.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `Sizes: ${report.sizes.cvcs} CVCs, ${report.sizes.printers} Printers, CVC refresh ${report.sizes.refreshSeconds} s.`,
    '',
    '| scenario | faults injected | objects | converged after the fault | lost / wrong | writes applied / needed | operator log: errors / warnings | Warning Events | restarts | RSS before → after (MiB) | result |',
    '|---|---|---:|---:|---:|---|---:|---|---:|---|---|',
  ];
  for (const r of report.results) {
    const converged = r.convergeSeconds === null ? 'never' : `${r.convergeSeconds} s`;
    const rss = `${r.rssBeforeMiB ?? '–'} → ${r.rssAfterMiB ?? '–'}`;
    const result = r.status === 'ok' ? 'pass' : `**FAIL**${r.reason ? `: ${r.reason.slice(0, 120)}` : ''}`;
    lines.push(`| ${r.name} | ${cell(r.faults.join('; '))} | ${r.objects} | ${converged} | ${r.lost} | ${cell(writes(r))} | ${r.log.errors} / ${r.log.warnings} | ${cell(events(r))} | ${r.restarts}${r.exits.length ? ` (${r.exits.length} by itself)` : ''} | ${rss} | ${cell(result)} |`);
  }
  lines.push('', '## What each scenario proved', '');
  for (const r of report.results) {
    lines.push(`- **${r.name}** (${r.title}):`);
    for (const c of r.checks) lines.push(`  - ${c.ok ? '✓' : '✗'} ${c.what}${c.ok ? '' : ` — saw ${cell(c.detail ?? '?').slice(0, 200)}`}`);
  }
  const logLines = report.results.filter((r) => r.log.top.length);
  if (logLines.length) {
    lines.push('', '## The operators\' warning and error lines', '');
    for (const r of logLines) lines.push(`- ${r.name}: ${r.log.top.map((t) => `${t.count}× ${t.level} "${cell(t.msg)}"`).join('; ')}`);
  }
  return lines.join('\n') + '\n';
}
