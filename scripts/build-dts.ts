/**
 * After `tsc -p tsconfig.build.json`: the emitted .d.ts files keep the sources' `./x.ts` import
 * specifiers (TypeScript rewrites them in .js only; microsoft/TypeScript#61037). tsc reads them
 * either way, but other tools that load declarations (some IDEs, API checkers) look for a file
 * that is not shipped under that name. Rewrites them to `./x.js`, which TypeScript maps to
 * `./x.d.ts`. `.ts` → `.js` keeps every line's length, so the declaration maps stay exact.
 * Also marks the CLI executable (`bin`; tsc writes files without the x bit).
 *
 *     node scripts/build-dts.ts dist
 */
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RELATIVE_TS = /((?:from|import)\s*\(?\s*)(['"])(\.\.?\/[^'"]*?)\.ts\2/g;

const dist = process.argv[2] ?? 'dist';
let rewritten = 0;
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, 'utf8');
  const next = text.replace(RELATIVE_TS, (_m, head: string, quote: string, path: string) => `${head}${quote}${path}.js${quote}`);
  if (next !== text) {
    writeFileSync(file, next);
    rewritten++;
  }
}
chmodSync(join(dist, 'src/cli/main.js'), 0o755);
process.stderr.write(`build-dts: ${rewritten} declaration files now import ./x.js\n`);
