/**
 * The diff of two JSON documents, as kopf computes it: a list of `add` / `change` / `remove` items,
 * each with the path and the old and new values. Objects are compared key by key, recursively;
 * arrays and scalars are compared as whole values (no per-element diff), so a change inside a list
 * is one `change` of the whole list. This is what update and field handlers receive as `diff`.
 *
 * Guarantees: `diff(a, a)` is empty; items come in a stable order (keys sorted at every level);
 * nothing here mutates its inputs.
 */
import { isPlainObject, jsonEqual, parseFieldPath, type FieldPath } from './fields.ts';

/** One difference. `old` is absent for `add`, `new` for `remove`. */
export interface DiffItem {
  /** Whether the value appeared, changed or went away. */
  op: 'add' | 'change' | 'remove';
  /** Segments from the root: `['spec', 'text']`. Empty when the whole value differs. */
  path: string[];
  /** The value before; undefined for `add`. */
  old: unknown;
  /** The value after; undefined for `remove`. */
  new: unknown;
}

/** A list of differences; empty when nothing changed. */
export type Diff = readonly DiffItem[];

/**
 * The differences from `a` to `b`.
 *
 * @example
 * ```ts
 * diff({ spec: { a: 1, b: 2 } }, { spec: { a: 1, b: 3, c: 4 } });
 * // [{ op: 'change', path: ['spec', 'b'], old: 2, new: 3 }, { op: 'add', path: ['spec', 'c'], old: undefined, new: 4 }]
 * ```
 */
export function diff(a: unknown, b: unknown): DiffItem[] {
  const out: DiffItem[] = [];
  walk(a, b, [], out);
  return out;
}

function walk(a: unknown, b: unknown, path: string[], out: DiffItem[]): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) {
    out.push({ op: 'add', path, old: undefined, new: b });
    return;
  }
  if (b === undefined) {
    out.push({ op: 'remove', path, old: a, new: undefined });
    return;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) walk(a[key], b[key], [...path, key], out);
    return;
  }
  if (!jsonEqual(a, b)) out.push({ op: 'change', path, old: a, new: b });
}

/**
 * The part of a diff under `field`, with paths made relative to it, as field handlers see it.
 * An item above the field (a whole `spec` added) is narrowed down to the field's values.
 *
 * @example
 * ```ts
 * reduceDiff([{ op: 'change', path: ['spec', 'a'], old: 1, new: 2 }], 'spec.a');
 * // [{ op: 'change', path: [], old: 1, new: 2 }]
 * ```
 */
export function reduceDiff(items: Diff, field: string | FieldPath): DiffItem[] {
  const segments = parseFieldPath(field);
  const out: DiffItem[] = [];
  for (const item of items) {
    if (startsWith(item.path, segments)) {
      out.push({ ...item, path: item.path.slice(segments.length) });
    } else if (startsWith(segments, item.path)) {
      const rest = segments.slice(item.path.length);
      out.push(...diff(at(item.old, rest), at(item.new, rest)));
    }
  }
  return out;
}

function at(value: unknown, segments: readonly string[]): unknown {
  let node = value;
  for (const s of segments) {
    if (!isPlainObject(node)) return undefined;
    node = node[s];
  }
  return node;
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => path[i] === s);
}
