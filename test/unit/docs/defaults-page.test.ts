import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { defaults } from '../../../src/defaults.ts';
import { renderDefaultsPage } from '../../../scripts/defaults-doc.ts';

test('docs/defaults.md matches src/defaults.ts (regenerate with: node scripts/defaults-doc.ts)', () => {
  const expected = renderDefaultsPage(readFileSync('src/defaults.ts', 'utf8'), defaults);
  assert.equal(readFileSync('docs/defaults.md', 'utf8'), expected);
});

test('every default has a reason', () => {
  const page = renderDefaultsPage(readFileSync('src/defaults.ts', 'utf8'), defaults);
  const rows = page.split('\n').filter((l) => l.startsWith('| `'));
  assert.ok(rows.length > 10);
  // A row without its own comment is allowed only when it continues a documented group (backoff pairs).
  const undocumented = rows.filter((r) => r.endsWith('(see the setting above it) |'));
  assert.ok(undocumented.length < rows.length / 3, `too many defaults without a reason:\n${undocumented.join('\n')}`);
});
