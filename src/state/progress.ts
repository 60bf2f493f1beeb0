/**
 * Handler progress, kept on the object so that an operator restarted at any moment carries on
 * where it stopped: per handler, when it started, how often it was tried, whether it succeeded or
 * failed for good, until when it is delayed, and the last message (kopf's `ProgressRecord`).
 *
 * Two storages, one interface: annotations `<prefix>/<handler id>` with a compact JSON value (the
 * default, as kopf since 0.27: annotations survive structural-schema pruning), or
 * `status.operon.progress.<handler id>` (needs a status schema that keeps unknown fields under
 * `operon`, or the API server prunes it and retries start over).
 *
 * Guarantees:
 * - A record belongs to a cause (`purpose`); a record of another cause reads as absent, so an
 *   update never inherits the successes of a creation.
 * - Annotation keys are valid annotation names for any handler id: `/` becomes `.`, other
 *   characters outside `[-A-Za-z0-9_.]` become `_`, and a name longer than 63 characters is cut
 *   and suffixed with a hash of the id, so two ids never share a key by truncation.
 * - Records exist only while a cause is being handled: {@link ProgressStorage.purge} removes all
 *   of them (and only them, never the diff base) when the cause is done.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../client/types.ts';
import { defaults } from '../defaults.ts';
import { LAST_HANDLED_KEY } from './essence.ts';
import { pauseKey } from './pause.ts';
import { isPlainObject } from './fields.ts';
import type { ObjectPatch } from './patch.ts';

/** The progress of one handler within one cause. Times are ISO 8601 UTC. */
export interface ProgressRecord {
  /** The cause this record belongs to: `create`, `update`, `delete`, `resume`. */
  purpose: string;
  /** First attempt. */
  started: string;
  /** When it finished (success or failure). */
  stopped?: string;
  /** Not to be tried again before this time. */
  delayed?: string;
  /** Attempts made so far. */
  retries: number;
  /** True once the handler succeeded in this cause. */
  success?: boolean;
  /** True once the handler failed for good in this cause. */
  failure?: boolean;
  /** The last error's message, for `kubectl get -o yaml` readers. */
  message?: string;
}

/**
 * True when the handler needs no more attempts in this cause.
 *
 * @example
 * ```ts
 * isDone({ purpose: 'create', started: t, retries: 1, success: true }); // true
 * ```
 */
export function isDone(record: ProgressRecord | undefined): boolean {
  return record !== undefined && (record.success === true || record.failure === true);
}

/** Where progress records live. */
export interface ProgressStorage {
  /** The record of handler `id` for cause `purpose`, or undefined. */
  fetch(body: KubeObject, id: string, purpose: string): ProgressRecord | undefined;
  /** Writes a record into the patch. */
  store(patch: ObjectPatch<KubeObject>, id: string, record: ProgressRecord): void;
  /** Removes the record of handler `id` through the patch. */
  remove(patch: ObjectPatch<KubeObject>, id: string): void;
  /** Removes every record of `body` through the patch, except those of purpose `keep`. */
  purge(body: KubeObject, patch: ObjectPatch<KubeObject>, keep?: string): void;
}

/**
 * The annotation key of handler `id`'s progress.
 *
 * @example
 * ```ts
 * progressKey('field/spec.text');   // 'operon.dev/field.spec.text'
 * progressKey('create.printPod');   // 'operon.dev/create.printPod'
 * ```
 */
export function progressKey(id: string, prefix: string = defaults.state.prefix): string {
  let name = id.replaceAll('/', '.').replace(/[^-A-Za-z0-9_.]/g, '_').replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
  if (name.length > 63 || name === '' || name === LAST_HANDLED_KEY) {
    const hash = createHash('sha256').update(id).digest('hex').slice(0, 8);
    name = `${name.slice(0, 54).replace(/[^A-Za-z0-9]+$/, '')}-${hash}`.replace(/^-/, '');
  }
  return `${prefix}/${name}`;
}

/**
 * Progress in annotations `<prefix>/<id>` (the default).
 *
 * @example
 * ```ts
 * const storage = new AnnotationProgressStorage();
 * storage.store(patch, 'create', { purpose: 'create', started: new Date().toISOString(), retries: 1, success: true });
 * ```
 */
export class AnnotationProgressStorage implements ProgressStorage {
  readonly prefix: string;

  constructor(prefix: string = defaults.state.prefix) {
    this.prefix = prefix;
  }

  fetch(body: KubeObject, id: string, purpose: string): ProgressRecord | undefined {
    const raw = body.metadata?.annotations?.[progressKey(id, this.prefix)];
    if (raw === undefined) return undefined;
    return parseRecord(safeParse(raw), purpose);
  }

  store(patch: ObjectPatch<KubeObject>, id: string, record: ProgressRecord): void {
    patch.metadata.annotations[progressKey(id, this.prefix)] = JSON.stringify(record);
  }

  remove(patch: ObjectPatch<KubeObject>, id: string): void {
    patch.metadata.annotations[progressKey(id, this.prefix)] = null;
  }

  purge(body: KubeObject, patch: ObjectPatch<KubeObject>, keep?: string): void {
    const diffBase = `${this.prefix}/${LAST_HANDLED_KEY}`;
    const paused = pauseKey(this.prefix);
    // The diff base and the user's pause annotation share the prefix but are not progress.
    const ours = (key: string): boolean => key.startsWith(`${this.prefix}/`) && key !== diffBase && key !== paused;
    for (const [key, value] of Object.entries(body.metadata?.annotations ?? {})) {
      if (ours(key) && (keep === undefined || !isPurpose(value, keep))) patch.metadata.annotations[key] = null;
    }
    for (const [key, value] of Object.entries(patch.metadata.annotations)) {
      if (ours(key) && value !== null && (keep === undefined || !isPurpose(value, keep))) delete patch.metadata.annotations[key];
    }
  }
}

/**
 * Progress in `status.operon.progress.<id>`. The status schema must keep unknown fields there.
 *
 * @example
 * ```ts
 * new Operator({ progress: 'status' }); // uses this storage
 * ```
 */
export class StatusProgressStorage implements ProgressStorage {
  fetch(body: KubeObject, id: string, purpose: string): ProgressRecord | undefined {
    const status = body.status;
    if (!isPlainObject(status)) return undefined;
    const operon = status['operon'];
    const progress = isPlainObject(operon) ? operon['progress'] : undefined;
    return isPlainObject(progress) ? parseRecord(progress[id], purpose) : undefined;
  }

  store(patch: ObjectPatch<KubeObject>, id: string, record: ProgressRecord): void {
    const status = patch.status as Record<string, unknown>;
    const operon = isPlainObject(status['operon']) ? status['operon'] : (status['operon'] = {});
    const progress = isPlainObject(operon['progress']) ? operon['progress'] : (operon['progress'] = {});
    progress[id] = { ...record };
  }

  remove(patch: ObjectPatch<KubeObject>, id: string): void {
    const status = patch.status as Record<string, unknown>;
    const operon = isPlainObject(status['operon']) ? status['operon'] : (status['operon'] = {});
    const progress = isPlainObject(operon['progress']) ? operon['progress'] : (operon['progress'] = {});
    progress[id] = null;
  }

  purge(body: KubeObject, patch: ObjectPatch<KubeObject>, keep?: string): void {
    const status = body.status;
    const operon = isPlainObject(status) ? status['operon'] : undefined;
    const existing = isPlainObject(operon) && isPlainObject(operon['progress']) ? operon['progress'] : {};
    const patched = (patch.status as Record<string, unknown>)['operon'];
    const pending = isPlainObject(patched) && isPlainObject(patched['progress']) ? patched['progress'] : {};
    const removals: Record<string, null> = {};
    for (const [id, record] of Object.entries(existing)) {
      if (keep === undefined || !isPlainObject(record) || record['purpose'] !== keep) removals[id] = null;
    }
    for (const [id, record] of Object.entries(pending)) {
      if (record !== null && (keep === undefined || !isPlainObject(record) || record['purpose'] !== keep)) delete pending[id];
    }
    if (Object.keys(removals).length > 0) this.#progressPatch(patch, removals);
  }

  #progressPatch(patch: ObjectPatch<KubeObject>, entries: Record<string, unknown>): void {
    const status = patch.status as Record<string, unknown>;
    const operon = isPlainObject(status['operon']) ? status['operon'] : (status['operon'] = {});
    const progress = isPlainObject(operon['progress']) ? operon['progress'] : (operon['progress'] = {});
    Object.assign(progress, entries);
  }
}

function isPurpose(raw: string, purpose: string): boolean {
  const parsed = safeParse(raw);
  return isPlainObject(parsed) && parsed['purpose'] === purpose;
}

function safeParse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function parseRecord(value: unknown, purpose: string): ProgressRecord | undefined {
  if (!isPlainObject(value) || value['purpose'] !== purpose || typeof value['started'] !== 'string') return undefined;
  const record: ProgressRecord = { purpose, started: value['started'], retries: typeof value['retries'] === 'number' ? value['retries'] : 0 };
  if (typeof value['stopped'] === 'string') record.stopped = value['stopped'];
  if (typeof value['delayed'] === 'string') record.delayed = value['delayed'];
  if (value['success'] === true) record.success = true;
  if (value['failure'] === true) record.failure = true;
  if (typeof value['message'] === 'string') record.message = value['message'];
  return record;
}
