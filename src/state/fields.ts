/**
 * Dotted field paths (`spec.items`, `metadata.labels.app`) over plain JSON objects: parsing, reading
 * and copying values at a path. Handlers name fields this way (`onField('spec.text')`), and the
 * diff base keeps fields referenced so.
 *
 * Guarantees: reading never throws (a missing step yields `undefined`); nothing here mutates its
 * input; `parseFieldPath` accepts exactly dot-separated non-empty segments, so a typo such as
 * `spec..text` fails at registration, not as a handler that never fires.
 */

/** A path into an object, one segment per level. */
export type FieldPath = readonly string[];

/**
 * Splits a dotted path into segments. An array is taken as already split.
 *
 * @example
 * ```ts
 * parseFieldPath('spec.template.metadata'); // ['spec', 'template', 'metadata']
 * ```
 */
export function parseFieldPath(path: string | FieldPath): FieldPath {
  const segments = typeof path === 'string' ? path.split('.') : [...path];
  if (segments.length === 0 || segments.some((s) => s === '')) {
    throw new RangeError(`field path ${JSON.stringify(path)} is not valid: use dot-separated names such as "spec.text"`);
  }
  return segments;
}

/**
 * The value at `path`, or `undefined` when any step is missing or not an object.
 *
 * @example
 * ```ts
 * getField({ spec: { text: 'hi' } }, 'spec.text'); // 'hi'
 * getField({ spec: {} }, ['spec', 'text']);        // undefined
 * ```
 */
export function getField(object: unknown, path: string | FieldPath): unknown {
  let node: unknown = object;
  for (const segment of parseFieldPath(path)) {
    if (!isPlainObject(node)) return undefined;
    node = node[segment];
  }
  return node;
}

/**
 * True when `path` exists in `object` (its value may be `null`).
 *
 * @example
 * ```ts
 * hasField({ spec: { text: null } }, 'spec.text'); // true
 * ```
 */
export function hasField(object: unknown, path: string | FieldPath): boolean {
  const segments = parseFieldPath(path);
  let node: unknown = object;
  for (const segment of segments) {
    if (!isPlainObject(node) || !(segment in node)) return false;
    node = node[segment];
  }
  return true;
}

/**
 * Sets `value` at `path` in `target`, creating intermediate objects; mutates `target`.
 *
 * @example
 * ```ts
 * const o = {}; setField(o, 'status.phase', 'Ready'); // o = { status: { phase: 'Ready' } }
 * ```
 */
export function setField(target: Record<string, unknown>, path: string | FieldPath, value: unknown): void {
  const segments = parseFieldPath(path);
  let node: Record<string, unknown> = target;
  for (const segment of segments.slice(0, -1)) {
    const next = node[segment];
    if (!isPlainObject(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[segments[segments.length - 1] as string] = value;
}

/**
 * True for objects that are neither arrays nor null: the "dict" of a JSON document.
 *
 * @example
 * ```ts
 * isPlainObject({}); // true
 * isPlainObject([]); // false
 * ```
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A deep copy of a JSON value (objects, arrays, strings, numbers, booleans, null). `undefined`
 * stays `undefined`; an object with `toJSON` (a Date) becomes what `JSON.stringify` would send.
 *
 * @example
 * ```ts
 * const copy = cloneJson(body.spec);
 * ```
 */
export function cloneJson<T>(value: T): T {
  // By hand, not structuredClone: that serializes and deserializes, about 2 µs for a one-field
  // spec against 50 ns here, and the planner clones an object's essence for every event.
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const { toJSON } = value as { toJSON?: unknown };
  if (typeof toJSON === 'function') return cloneJson(toJSON.call(value) as unknown) as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const copy = cloneJson((value as Record<string, unknown>)[key]);
    // JSON.parse makes `__proto__` an own key; assigning it would set the copy's prototype instead.
    if (key === '__proto__') Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
    else out[key] = copy;
  }
  return out as T;
}

/**
 * Deep equality of JSON values (key order ignored, arrays compared element by element).
 *
 * @example
 * ```ts
 * jsonEqual({ a: [1, 2] }, { a: [1, 2] }); // true
 * ```
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ak = Object.keys(a).filter((k) => a[k] !== undefined);
    const bk = Object.keys(b).filter((k) => b[k] !== undefined);
    return ak.length === bk.length && ak.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * JSON text with object keys sorted at every level, so equal values give equal text (for hashing).
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: 2 }); // '{"a":2,"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (!isPlainObject(v)) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = v[k];
    return out;
  }) ?? 'null';
}
