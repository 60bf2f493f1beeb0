/**
 * The flag machinery every subcommand shares: a subcommand declares its flags once, as a table,
 * and gets parsing (Node's `parseArgs`, no dependency), `--help` generated from the same table
 * (flags, defaults, descriptions), and usage errors that are one line with a suggestion for a
 * mistyped flag, as git and cargo print them. Nothing here throws for bad input: it returns a
 * {@link Usage} that the command prints with exit code 2.
 */
import { parseArgs } from 'node:util';

/** One flag of a subcommand. */
export interface Flag {
  type: 'string' | 'boolean';
  /** One-letter alias, e.g. `n` for `-n`. */
  short?: string;
  /** May be given several times; the values are collected in order. */
  multiple?: boolean;
  /** A boolean that also takes a `--no-` form (`--no-check`). */
  negatable?: boolean;
  /** Placeholder for the value in help, e.g. `NS`. */
  placeholder?: string;
  /** Shown as `(default: …)` in help; the default itself is applied by the command. */
  defaultText?: string;
  /** One sentence for help. */
  help: string;
}

export type FlagTable = Readonly<Record<string, Flag>>;

/** A usage error: printed as `operon <command>: <message>` with exit code 2. */
export interface Usage {
  usage: string;
}

export function isUsage(value: unknown): value is Usage {
  return typeof value === 'object' && value !== null && typeof (value as { usage?: unknown }).usage === 'string';
}

/** What {@link parseFlags} returns for good input. */
export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** True when argv asks for help (`-h`/`--help` anywhere before a `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

/**
 * Parses argv against a flag table.
 *
 * @example
 * ```ts
 * parseFlags({ concurrency: { type: 'string', help: '…' } }, ['a.ts', '--concurency', '4']);
 * // { usage: 'unknown flag --concurency; did you mean --concurrency?' }
 * ```
 */
export function parseFlags(flags: FlagTable, argv: readonly string[]): ParsedFlags | Usage {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, f] of Object.entries(flags)) {
    options[name] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  }
  const allowNegative = Object.values(flags).some((f) => f.negatable === true);
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true, allowNegative });
    for (const [name, f] of Object.entries(flags)) {
      // parseArgs accepts `--no-x` for every boolean once negation is on; only declared ones may.
      if (values[name] === false && !f.negatable) return { usage: `unknown flag --no-${name}` };
    }
    return { values: values as ParsedFlags['values'], positionals };
  } catch (err) {
    return { usage: explain(flags, argv, err) };
  }
}

/** Rewrites parseArgs' messages (unbalanced quotes, no suggestion) as ours. */
function explain(flags: FlagTable, argv: readonly string[], err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const token = offending(flags, argv);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && token !== undefined) {
    if (!token.startsWith('--')) return `unknown flag ${token}`;
    const candidates = Object.entries(flags).flatMap(([name, f]) => (f.negatable ? [name, `no-${name}`] : [name]));
    const guess = closest(token.slice(2).split('=')[0] ?? '', candidates);
    return `unknown flag ${token.split('=')[0]}${guess ? `; did you mean --${guess}?` : ''}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = /--([a-z-]+)/.exec(err instanceof Error ? err.message : '')?.[1];
    const flag = name !== undefined ? flags[name] : undefined;
    if (name !== undefined && flag) {
      return flag.type === 'string' ? `--${name} needs a value, e.g. --${name} ${flag.placeholder ?? 'VALUE'}` : `--${name} takes no value`;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

/** The first argument that names no declared flag. */
function offending(flags: FlagTable, argv: readonly string[]): string | undefined {
  const shorts = new Set(Object.values(flags).flatMap((f) => (f.short ? [f.short] : [])));
  for (const arg of argv) {
    if (arg === '--') return undefined;
    if (arg.startsWith('--')) {
      const name = arg.slice(2).split('=')[0] ?? '';
      const bare = name.startsWith('no-') ? name.slice(3) : name;
      if (!(name in flags) && !(bare in flags && flags[bare]?.negatable)) return arg;
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      if (!shorts.has(arg[1] ?? '')) return arg;
    }
  }
  return undefined;
}

/**
 * The candidate closest to `word` by edit distance, if close enough to be a typo (at most a third
 * of the word's length, and at least 1).
 *
 * @example
 * ```ts
 * closest('concurency', ['concurrency', 'context']); // 'concurrency'
 * ```
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of neighbours as one each
 * (optimal string alignment), so `rnu` is one edit from `run`, as typos are.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * A subcommand's help: synopsis, description, then every flag with its default, aligned.
 *
 * @example
 * ```ts
 * flagHelp('operon crd <file>...', 'Prints the CRDs…', {});
 * ```
 */
export function flagHelp(synopsis: string, description: string, flags: FlagTable): string {
  const rows = Object.entries(flags).map(([name, f]) => {
    const long = f.negatable ? `--[no-]${name}` : `--${name}`;
    const left = `${f.short ? `-${f.short}, ` : '    '}${long}${f.type === 'string' ? ` ${f.placeholder ?? 'VALUE'}` : ''}`;
    const right = `${f.help}${f.multiple ? ' (repeatable)' : ''}${f.defaultText !== undefined ? ` (default: ${f.defaultText})` : ''}`;
    return [left, right] as const;
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.min(28, Math.max(0, ...rows.map(([left]) => left.length)));
  const lines = rows.map(([left, right]) => (left.length > width ? `  ${left}\n  ${' '.repeat(width)}  ${right}` : `  ${left.padEnd(width)}  ${right}`));
  return `Usage: ${synopsis}\n\n${description}\n\nFlags:\n${lines.join('\n')}\n`;
}
