/**
 * The essence of an object and the diff base stored on it (kopf's "last handled configuration").
 *
 * The essence is what a user changes on purpose: everything except `apiVersion`, `kind`, `status`
 * and the metadata the system manages, keeping only `metadata.labels` and
 * `metadata.annotations`, minus Operon's own annotations (`<prefix>/…` and `*.<prefix>/…`) and
 * kubectl's `last-applied-configuration`. Fields that field handlers name (`status.x`) are put
 * back, so `onField('status.x')` works. Empty stanzas are dropped, so `labels: {}` and no labels
 * are the same essence.
 *
 * The diff base is the essence as it was when the last cause finished, kept in the annotation
 * `<prefix>/last-handled-configuration` as compact JSON (or, for a resource registered with
 * `state: 'status'`, in `status.operon.lastHandledConfiguration`, so that it travels in the same
 * request as the handlers' status). It is written only when every handler of
 * a cause is done, so the next diff covers everything changed since the last fully handled state.
 *
 * **Past the annotation size limit.** Kubernetes refuses objects whose annotations total more than
 * 256 KiB. When storing the full essence would take the annotations past the budget
 * (`defaults.state.annotationBudgetBytes`), the diff base is stored as hashes instead: one of the
 * whole essence and one per field a field handler names: `{"hashed":1,"hash":"…","fields":{…}}`.
 * Changes are still detected exactly (a changed essence changes its hash), but the diff becomes
 * coarse: update handlers get one `change` item for the whole essence with `old` undefined, and
 * field handlers fire exactly when their field's hash changed, again with `old` undefined. The
 * runtime logs a warning once per object when this happens. Hashing was chosen over truncation or
 * a side ConfigMap because it keeps the one promise that matters (no change goes unnoticed) with
 * no extra objects, permissions or writes.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { diff, type DiffItem } from './diff.ts';
import { canonicalJson, cloneJson, getField, hasField, isPlainObject, parseFieldPath, setField, type FieldPath } from './fields.ts';
import type { ObjectPatch } from './patch.ts';

/** The essence of an object: its user-owned content. */
export type Essence = Record<string, unknown>;

/** Key (after the prefix) of the diff-base annotation. */
export const LAST_HANDLED_KEY = 'last-handled-configuration';
const KUBECTL_LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Options of {@link essenceOf}. */
export interface EssenceOptions {
  /** Annotation prefix of Operon's own state. Default: {@link defaults}.state.prefix. */
  prefix?: string;
  /** Fields outside the essence to keep anyway (those named by field handlers). */
  extraFields?: readonly (string | FieldPath)[];
}

/**
 * True for annotation keys that hold Operon state: `<prefix>/…` and `<anything>.<prefix>/…`.
 *
 * @example
 * ```ts
 * isOwnAnnotation('operon.dev/create', 'operon.dev');         // true
 * isOwnAnnotation('team.operon.dev/create', 'operon.dev');    // true
 * isOwnAnnotation('example.com/owner', 'operon.dev');         // false
 * ```
 */
export function isOwnAnnotation(key: string, prefix: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return false;
  const domain = key.slice(0, slash);
  return domain === prefix || domain.endsWith(`.${prefix}`);
}

/**
 * The essence of `body` (see the module comment).
 *
 * @example
 * ```ts
 * essenceOf({ apiVersion: 'v1', kind: 'X', metadata: { name: 'a', uid: 'u', labels: { app: 'x' } }, spec: { n: 1 }, status: { s: 1 } });
 * // { metadata: { labels: { app: 'x' } }, spec: { n: 1 } }
 * ```
 */
export function essenceOf(body: KubeObject, options: EssenceOptions = {}): Essence {
  const prefix = options.prefix ?? defaults.state.prefix;
  const out: Essence = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'metadata' || key === 'status' || value === undefined) continue;
    out[key] = cloneJson(value);
  }
  const metadata: Record<string, unknown> = {};
  const labels = body.metadata?.labels;
  if (labels && Object.keys(labels).length > 0) metadata['labels'] = { ...labels };
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(body.metadata?.annotations ?? {})) {
    if (key === KUBECTL_LAST_APPLIED || isOwnAnnotation(key, prefix)) continue;
    annotations[key] = value;
  }
  if (Object.keys(annotations).length > 0) metadata['annotations'] = annotations;
  if (Object.keys(metadata).length > 0) out['metadata'] = metadata;
  for (const field of options.extraFields ?? []) {
    const path = parseFieldPath(field);
    if (hasField(body, path)) setField(out, path, cloneJson(getField(body, path)));
  }
  return dropEmpty(out) ?? {};
}

function dropEmpty(value: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (isPlainObject(v)) {
      const inner = dropEmpty(v);
      if (inner !== undefined) out[key] = inner;
    } else if (v !== undefined) {
      out[key] = v;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** What the diff-base annotation holds. */
export type DiffBase =
  | { kind: 'none' }
  | { kind: 'full'; essence: Essence }
  | { kind: 'hashed'; hash: string; fields: Record<string, string> };

/**
 * The annotation key of the diff base.
 *
 * @example
 * ```ts
 * diffBaseKey('operon.dev'); // 'operon.dev/last-handled-configuration'
 * ```
 */
export function diffBaseKey(prefix: string = defaults.state.prefix): string {
  return `${prefix}/${LAST_HANDLED_KEY}`;
}

/**
 * Reads the diff base of `body`. A value that does not parse counts as none, so the object is
 * handled as newly created rather than never again.
 *
 * @example
 * ```ts
 * const base = readDiffBase(body);
 * if (base.kind === 'none') { … } // never fully handled: a creation
 * ```
 */
export function readDiffBase(body: KubeObject, prefix: string = defaults.state.prefix, location: DiffBaseLocation = 'annotations'): DiffBase {
  // In status, with the annotation as the fallback: an object handled before the switch keeps its base.
  const raw = (location === 'status' ? statusDiffBase(body) : undefined) ?? body.metadata?.annotations?.[diffBaseKey(prefix)];
  if (raw === undefined) return { kind: 'none' };
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!isPlainObject(parsed)) return { kind: 'none' };
    if (parsed['hashed'] === 1 && typeof parsed['hash'] === 'string') {
      const fields = isPlainObject(parsed['fields']) ? (parsed['fields'] as Record<string, string>) : {};
      return { kind: 'hashed', hash: parsed['hash'], fields };
    }
    return { kind: 'full', essence: parsed };
  } catch {
    return { kind: 'none' };
  }
}

/** Where the diff base is kept: the annotation {@link diffBaseKey}, or `status.operon.lastHandledConfiguration`. */
export type DiffBaseLocation = 'annotations' | 'status';

/** The field under `status.operon` that holds the diff base when it is kept in status. */
export const STATUS_DIFF_BASE_FIELD = 'lastHandledConfiguration';

function statusDiffBase(body: KubeObject): string | undefined {
  const status = body.status;
  const operon = isPlainObject(status) ? status['operon'] : undefined;
  const raw = isPlainObject(operon) ? operon[STATUS_DIFF_BASE_FIELD] : undefined;
  return typeof raw === 'string' ? raw : undefined;
}

/**
 * Puts an encoded diff base (from {@link encodeDiffBase}) into `patch`, where `location` says. Kept
 * in status, a diff-base annotation left from before is removed in the same cycle.
 *
 * @example
 * ```ts
 * writeDiffBase(patch, body, encodeDiffBase(essence, body).value, 'operon.dev', 'status');
 * ```
 */
export function writeDiffBase(patch: ObjectPatch<KubeObject>, body: KubeObject, value: string, prefix: string = defaults.state.prefix, location: DiffBaseLocation = 'annotations'): void {
  const key = diffBaseKey(prefix);
  if (location === 'annotations') {
    patch.metadata.annotations[key] = value;
    return;
  }
  const status = patch.status as Record<string, unknown>;
  const operon = isPlainObject(status['operon']) ? status['operon'] : (status['operon'] = {});
  operon[STATUS_DIFF_BASE_FIELD] = value;
  if (body.metadata?.annotations?.[key] !== undefined) patch.metadata.annotations[key] = null;
}

/** Options of {@link encodeDiffBase}. */
export interface EncodeOptions {
  /** Fields whose hashes are kept when the essence must be hashed. */
  fields?: readonly string[];
  /** Default: {@link defaults}.state.annotationBudgetBytes. */
  budgetBytes?: number;
  prefix?: string;
  /**
   * Where it will be kept. In status the other annotations do not count against the budget (the
   * annotation limit does not apply there; the budget still bounds the object's size).
   */
  location?: DiffBaseLocation;
}

/**
 * The annotation value storing `essence` on `body`: the full JSON when it fits the annotation
 * budget next to the object's other annotations, its hashes otherwise (`hashed: true`).
 *
 * @example
 * ```ts
 * const { value, hashed } = encodeDiffBase(essenceOf(body), body);
 * patch.metadata.annotations[diffBaseKey()] = value;
 * ```
 */
export function encodeDiffBase(essence: Essence, body: KubeObject, options: EncodeOptions = {}): { value: string; hashed: boolean } {
  const prefix = options.prefix ?? defaults.state.prefix;
  const key = diffBaseKey(prefix);
  const full = JSON.stringify(essence);
  let others = 0;
  if (options.location !== 'status') for (const [k, v] of Object.entries(body.metadata?.annotations ?? {})) if (k !== key) others += Buffer.byteLength(k) + Buffer.byteLength(v);
  const budget = options.budgetBytes ?? defaults.state.annotationBudgetBytes;
  if (others + Buffer.byteLength(key) + Buffer.byteLength(full) <= budget) return { value: full, hashed: false };
  const fields: Record<string, string> = {};
  for (const field of options.fields ?? []) fields[field] = hashOf(getField(essence, field));
  return { value: JSON.stringify({ hashed: 1, hash: hashOf(essence), fields }), hashed: true };
}

/** What changed since the diff base. */
export interface Comparison {
  /** The stored essence; undefined when none is stored or only hashes are. */
  old: Essence | undefined;
  new: Essence;
  diff: DiffItem[];
  /** True when the stored base is hashed and `diff` is therefore one coarse item. */
  coarse: boolean;
  /** With a hashed base: the fields (of those asked for) whose hash changed. */
  changedFields?: ReadonlySet<string>;
}

/**
 * Compares the current essence with the stored diff base.
 *
 * @example
 * ```ts
 * const { diff } = compareWithDiffBase(readDiffBase(body), essenceOf(body), []);
 * if (diff.length > 0) { … } // an update
 * ```
 */
export function compareWithDiffBase(base: DiffBase, current: Essence, fields: readonly string[]): Comparison {
  switch (base.kind) {
    case 'none':
      return { old: undefined, new: current, diff: [{ op: 'add', path: [], old: undefined, new: current }], coarse: false };
    case 'full':
      return { old: base.essence, new: current, diff: diff(base.essence, current), coarse: false };
    case 'hashed': {
      if (hashOf(current) === base.hash) return { old: undefined, new: current, diff: [], coarse: true, changedFields: new Set() };
      const changed = new Set(fields.filter((f) => base.fields[f] === undefined || base.fields[f] !== hashOf(getField(current, f))));
      return { old: undefined, new: current, diff: [{ op: 'change', path: [], old: undefined, new: current }], coarse: true, changedFields: changed };
    }
  }
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value ?? null)).digest('hex').slice(0, 32);
}
