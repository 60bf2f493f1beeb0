/**
 * Writes docs/defaults.md from src/defaults.ts: every default with its value and the reason given
 * in its TSDoc comment. `node scripts/defaults-doc.ts --check` exits 1 when the checked-in page
 * differs, so the page cannot drift from the code (the unit tests run the check).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaults } from '../src/defaults.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const page = join(root, 'docs', 'defaults.md');

/** Reads `/** … *\/` comments and the `key:` line after each, tracking nested object blocks. */
export function renderDefaultsPage(source: string, values: Record<string, unknown>): string {
  const rows: Array<{ path: string; value: string; why: string }> = [];
  const stack: string[] = [];
  let comment: string[] = [];
  let inComment = false;
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('/**')) {
      inComment = true;
      comment = [];
    }
    if (inComment) {
      comment.push(line.replace(/^\/\*\*|\*\/$|^\*\/?/g, '').trim());
      if (line.endsWith('*/')) inComment = false;
      continue;
    }
    const open = /^(\w+): \{$/.exec(line);
    if (open?.[1]) {
      stack.push(open[1]);
      comment = [];
      continue;
    }
    if (/^\},?$/.test(line) && stack.length > 0) {
      stack.pop();
      continue;
    }
    const entry = /^(\w+):/.exec(line);
    if (entry?.[1] && stack.length > 0) {
      const path = [...stack, entry[1]];
      let value: unknown = values;
      for (const p of path) value = (value as Record<string, unknown>)[p];
      rows.push({ path: path.join('.'), value: JSON.stringify(value), why: comment.filter(Boolean).join(' ') });
      comment = [];
    }
  }
  const out = [
    '# Defaults',
    '',
    'Every default Operon uses, with its reason. Generated from `src/defaults.ts` by',
    '`node scripts/defaults-doc.ts`; the unit tests fail when this page and the code disagree.',
    '',
    '| setting | value | why |',
    '|---|---|---|',
    ...rows.map((r) => `| \`${r.path}\` | \`${r.value}\` | ${r.why.replace(/\|/g, '\\|') || '(see the setting above it)'} |`),
    '',
  ];
  return out.join('\n');
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const text = renderDefaultsPage(readFileSync(join(root, 'src', 'defaults.ts'), 'utf8'), defaults);
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(page, 'utf8');
    } catch {
      // A missing page is a difference like any other.
    }
    if (current !== text) {
      console.error('docs/defaults.md is out of date: run node scripts/defaults-doc.ts');
      process.exit(1);
    }
  } else {
    writeFileSync(page, text);
  }
}
