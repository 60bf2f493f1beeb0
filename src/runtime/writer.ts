/**
 * Sends what a handling cycle changed, and remembers the result so the next cycle does not act on
 * a stale cache.
 *
 * Guarantees:
 * - **Status first, then the object.** The merge patch of the `status` subresource goes out before
 *   the object's (which carries progress and the diff base), so a crash between the two re-runs
 *   the handler (at least once) instead of recording a success whose status never arrived.
 * - **Preconditions where they pay.** Each merge patch first carries the resourceVersion the cycle
 *   read. When it applies, the write is recorded with the {@link OwnWriteTracker}, so its watch echo
 *   does not cost another cycle (the tracker's safety argument needs exactly this precondition).
 *   On a 409 the object is read again: when it already holds everything the patch sets (another
 *   cycle or a timer of the same object wrote the same values meanwhile), nothing is sent;
 *   otherwise the same patch goes again without a precondition, since a merge patch's content does
 *   not depend on the version it was computed from, and that write is not recorded.
 * - **Freshness.** The object a write returned is remembered per key until the cache catches up:
 *   {@link ObjectWriter.latest} returns it while the cached object is one of the versions the
 *   write superseded (or, where resourceVersions are decimal integers as with every etcd-backed
 *   API server, an older one). So an immediate requeue sees its own progress, and a handler that
 *   succeeded is never run again because the echo was late.
 * - **Finalizers by JSON patch with `test`** (see `state/finalizers.ts`): a refused test (422) or
 *   conflict becomes a {@link StaleObjectError}, which the engine retries after re-reading.
 * - A write to an object that is gone (404) returns `undefined` instead of throwing.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import { isApiError } from '../client/errors.ts';
import type { JsonPatchOp } from '../client/patch.ts';
import type { KubeObject, ResourceRef, Stored } from '../client/types.ts';
import type { OwnWriteTracker } from './own-writes.ts';
import { splitPatch, type ObjectPatch } from '../state/patch.ts';

/**
 * The object changed under a JSON patch's `test`; read it again and retry.
 *
 * @example
 * ```ts
 * if (error instanceof StaleObjectError) logger.debug('finalizer list changed meanwhile; retrying');
 * ```
 */
export class StaleObjectError extends Error {
  override readonly name = 'StaleObjectError';
}

interface Fresh {
  readonly superseded: Set<string>;
  object: Stored;
}

/**
 * Writes handler results to one resource's objects.
 *
 * @example
 * ```ts
 * const writer = new ObjectWriter({ client, ref: Printer.ref, statusSubresource: true, tracker, logger });
 * const after = await writer.apply(body, patch);
 * ```
 */
export class ObjectWriter {
  readonly #client: KubeClient;
  readonly #ref: ResourceRef;
  readonly #statusSubresource: boolean;
  readonly #tracker: OwnWriteTracker | undefined;
  readonly #fresh = new Map<string, Fresh>();

  constructor(options: { client: KubeClient; ref: ResourceRef; statusSubresource: boolean; tracker?: OwnWriteTracker; logger?: Logger }) {
    this.#client = options.client;
    this.#ref = options.ref;
    this.#statusSubresource = options.statusSubresource;
    this.#tracker = options.tracker;
  }

  /**
   * The freshest known state of `key`: our last write's result while the cache lags behind it,
   * else the cached object.
   *
   * @example
   * ```ts
   * const body = writer.latest(key, store.get(name, namespace));
   * ```
   */
  latest<T extends KubeObject>(key: string, cached: Stored<T> | undefined): Stored<T> | undefined {
    const fresh = this.#fresh.get(key);
    if (!fresh) return cached;
    if (cached === undefined) {
      this.#fresh.delete(key);
      return undefined;
    }
    if (cached.metadata.uid === fresh.object.metadata.uid && isOlder(cached.metadata.resourceVersion, fresh)) return fresh.object as Stored<T>;
    this.#fresh.delete(key);
    return cached;
  }

  /**
   * Tells the writer what the cache holds for `key` now (after every watch change of it): a
   * remembered write the cache has caught up with is dropped at once. Without this it stayed until
   * the key's next cycle, and an echo skipped as our own write brings none: a burst kept every
   * written object twice, the second time whole with its managedFields (about 2 KB a CVC).
   * {@link ObjectWriter.latest} answers exactly as before, since the cache only moves forward.
   *
   * @example
   * ```ts
   * reflector.subscribe(({ type, object }) => writer.observe(key, type === 'deleted' ? undefined : object));
   * ```
   */
  observe(key: string, cached: Stored | undefined): void {
    if (this.#fresh.has(key)) this.latest(key, cached);
  }

  /**
   * Forgets what was remembered for `key` (the object is gone).
   *
   * @example
   * ```ts
   * writer.forget('shop/printer-1');
   * ```
   */
  forget(key: string): void {
    this.#fresh.delete(key);
  }

  /**
   * Sends a patch as at most two merge patches (status subresource, then the object). Returns the
   * object after the writes (`body` when nothing was sent), or undefined when it is gone.
   *
   * @example
   * ```ts
   * const after = await writer.apply(body, patch, signal);
   * ```
   */
  async apply<T extends KubeObject>(body: Stored<T>, patch: ObjectPatch<KubeObject>, signal?: AbortSignal): Promise<Stored<T> | undefined> {
    const split = splitPatch(patch, { statusSubresource: this.#statusSubresource });
    let current: Stored<T> | undefined = body;
    if (split.status) current = await this.#merge(current, split.status, 'status', signal);
    if (split.main && current) current = await this.#merge(current, split.main, undefined, signal);
    return current;
  }

  /**
   * Sends a JSON patch (finalizer changes). A failed `test` or a conflict throws
   * {@link StaleObjectError}; a missing object returns undefined.
   *
   * @example
   * ```ts
   * const ops = addFinalizerOps(body, finalizerName());
   * if (ops) body = await writer.json(body, ops);
   * ```
   */
  async json<T extends KubeObject>(body: Stored<T>, ops: JsonPatchOp[], signal?: AbortSignal): Promise<Stored<T> | undefined> {
    try {
      const result = await this.#client.patch<T>(this.#ref, body.metadata.name, { type: 'json', ops }, this.#options(body, undefined, signal));
      this.#remember(body, result);
      return result;
    } catch (error) {
      if (isApiError(error, 'NotFound')) return undefined;
      if (isApiError(error, 'Invalid') || isApiError(error, 'Conflict')) {
        throw new StaleObjectError(`${describe(body)}: the finalizers changed meanwhile (${(error as Error).message}); reading the object again`, { cause: error });
      }
      throw error;
    }
  }

  async #merge<T extends KubeObject>(body: Stored<T>, content: Record<string, unknown>, subresource: 'status' | undefined, signal: AbortSignal | undefined): Promise<Stored<T> | undefined> {
    const rv = body.metadata.resourceVersion;
    const metadata = (content['metadata'] as Record<string, unknown> | undefined) ?? {};
    const guarded = { ...content, metadata: { ...metadata, resourceVersion: rv } };
    const options = this.#options(body, subresource, signal);
    try {
      const result = await this.#client.patch<T>(this.#ref, body.metadata.name, { type: 'merge', body: guarded }, options);
      this.#tracker?.recordUpdate(result, rv);
      this.#remember(body, result);
      return result;
    } catch (error) {
      if (isApiError(error, 'NotFound')) return undefined;
      if (!isApiError(error, 'Conflict')) throw error;
    }
    try {
      const { subresource: _status, ...read } = options;
      const now = await this.#client.get<T>(this.#ref, body.metadata.name, read);
      if (holdsMergePatch(now, content)) {
        this.#remember(body, now);
        return now;
      }
      const result = await this.#client.patch<T>(this.#ref, body.metadata.name, { type: 'merge', body: content }, options);
      this.#remember(body, result);
      return result;
    } catch (error) {
      if (isApiError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  #options(body: Stored, subresource: 'status' | undefined, signal: AbortSignal | undefined): { namespace?: string; subresource?: 'status'; signal?: AbortSignal } {
    const out: { namespace?: string; subresource?: 'status'; signal?: AbortSignal } = {};
    if (body.metadata.namespace) out.namespace = body.metadata.namespace;
    if (subresource) out.subresource = subresource;
    if (signal) out.signal = signal;
    return out;
  }

  #remember(before: Stored, after: Stored): void {
    const key = before.metadata.namespace ? `${before.metadata.namespace}/${before.metadata.name}` : before.metadata.name;
    const fresh = this.#fresh.get(key);
    const superseded = fresh && fresh.object.metadata.uid === after.metadata.uid ? fresh.superseded : new Set<string>();
    if (before.metadata.resourceVersion !== after.metadata.resourceVersion) superseded.add(before.metadata.resourceVersion);
    this.#fresh.set(key, { superseded, object: after });
  }
}

/**
 * True when applying merge patch `patch` to `object` would change nothing: every value it sets is
 * there already (deep-equal), and every key it removes (null) is absent.
 *
 * @example
 * ```ts
 * holdsMergePatch({ status: { value: '$1' } }, { status: { value: '$1' } }); // true
 * ```
 */
export function holdsMergePatch(object: unknown, patch: Record<string, unknown>): boolean {
  const target = isRecord(object) ? object : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      if (key in target) return false;
    } else if (isRecord(value)) {
      if (!holdsMergePatch(target[key], value)) return false;
    } else if (!isDeepStrictEqual(target[key], value)) {
      return false;
    }
  }
  return true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOlder(rv: string, fresh: Fresh): boolean {
  if (fresh.superseded.has(rv)) return true;
  const mine = fresh.object.metadata.resourceVersion;
  if (/^\d{1,15}$/.test(rv) && /^\d{1,15}$/.test(mine)) return Number(rv) < Number(mine);
  return false;
}

function describe(body: Stored): string {
  return `${body.kind ?? 'object'} ${body.metadata.namespace ? `${body.metadata.namespace}/` : ''}${body.metadata.name}`;
}
