/**
 * An RFC 6902 JSON Patch from one JSON value to another, for the reply of a mutate handler.
 *
 * Guarantees: applying `diff(a, b)` to `a` gives a value deep-equal to `b`; an unchanged value
 * gives `[]` (and so no `patchType` in the reply: a `patchType` with an empty patch fails the
 * call, controller-runtime #1295). Keys are escaped (`~` → `~0`, `/` → `~1`), so label keys such
 * as `app.kubernetes.io/name` address the right member. Arrays that differ are replaced whole:
 * index-wise operations on lists other writers may reorder are what made kopf's patches fragile
 * (kopf #801), and admission objects are small.
 */

/** One RFC 6902 operation; only the three a diff needs. */
export type JsonPatchOperation = { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

/**
 * Escapes one key for a JSON Pointer (RFC 6901).
 *
 * @example
 * ```ts
 * pointerSegment('app.kubernetes.io/name'); // 'app.kubernetes.io~1name'
 * ```
 */
export function pointerSegment(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * The operations that turn `from` into `to`.
 *
 * @example
 * ```ts
 * diff({ spec: {} }, { spec: { mode: 'fast' } }); // [{ op: 'add', path: '/spec/mode', value: 'fast' }]
 * ```
 */
export function diff(from: unknown, to: unknown, path = ''): JsonPatchOperation[] {
  if (deepEqual(from, to)) return [];
  if (isPlainObject(from) && isPlainObject(to)) {
    const ops: JsonPatchOperation[] = [];
    for (const key of Object.keys(from)) {
      if (!(key in to) || to[key] === undefined) {
        if (from[key] !== undefined) ops.push({ op: 'remove', path: `${path}/${pointerSegment(key)}` });
      }
    }
    for (const [key, value] of Object.entries(to)) {
      if (value === undefined) continue;
      const child = `${path}/${pointerSegment(key)}`;
      if (!(key in from) || from[key] === undefined) ops.push({ op: 'add', path: child, value });
      else ops.push(...diff(from[key], value, child));
    }
    return ops;
  }
  // The root cannot be added or removed in an admission reply; replace covers every other case.
  return [{ op: 'replace', path, value: to }];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
