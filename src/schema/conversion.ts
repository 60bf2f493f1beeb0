/**
 * Converting objects between the versions of a {@link VersionedResource}, and answering the API
 * server's `apiextensions.k8s.io/v1` ConversionReview. Pure: no IO, so the webhook server only
 * parses the body, calls {@link convertReview} and writes the result.
 *
 * Guarantees:
 * - Lossless round trips, as the Kubernetes API conventions require (community `api_changes.md`,
 *   and Cluster API's `conversion-data` annotation): when converting from version A to B would
 *   lose something (B→A of the result differs from the input), A's content is kept as JSON in the
 *   annotation `<group>/conversion-data`, keyed by version. Converting back to A restores every
 *   part of A's content whose B image did not change meanwhile; parts changed in B take B's new
 *   value. So A→B→A and B→A→B give back the input exactly, and an edit made in B is never undone.
 * - Only `metadata.labels` and `metadata.annotations` may differ from the input's metadata; any
 *   other metadata a conversion function returns is replaced by the input's (the API server
 *   refuses a response that changes them).
 * - {@link convertReview} answers every request: a failure is a response with
 *   `result.status: Failure` and a message naming the object (controller-runtime does the same,
 *   HTTP 200); objects come back in the request's order, all or none.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject, ObjectMeta } from '../client/types.ts';
import type { ConversionStep, VersionedResource } from './versions.ts';

/** The annotation suffix under the resource's group that keeps what a version could not hold. */
export const CONVERSION_DATA = 'conversion-data';

/**
 * `<group>/conversion-data`: the annotation holding, per version, the content (spec, status...)
 * that version had and the object's current version cannot hold: `{"v2":{"spec":{...}}}`.
 *
 * @example
 * ```ts
 * conversionDataAnnotation(CryptoValueCalculators); // 'crypto.tools/conversion-data'
 * ```
 */
export function conversionDataAnnotation(resource: Pick<VersionedResource, 'group'>): string {
  return `${resource.group}/${CONVERSION_DATA}`;
}

/** Everything of an object except apiVersion, kind and metadata: what versions disagree on. */
type Content = { [key: string]: unknown };
/** Content kept per version, as stored in the annotation. */
type Stash = { [version: string]: Content };

/** What kind of conversion failure: a foreign object, an unknown version, or a conversion function's fault. */
export type ConversionErrorKind = 'WrongKind' | 'UnknownVersion' | 'FunctionFailed';

/** Why an object could not be converted; the message names the object. */
export class ConversionError extends Error {
  /** Always `ConversionError`. */
  override readonly name = 'ConversionError';
  /** What went wrong, to branch on. */
  readonly kind: ConversionErrorKind;
  /** A conversion failure of `kind`; `message` names the object. */
  constructor(kind: ConversionErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/**
 * Converts one object to `desiredAPIVersion`, losslessly (see the module's guarantees).
 *
 * @throws {ConversionError} for an object of another kind or group, an unknown version, or a
 *   conversion function that throws.
 * @example
 * ```ts
 * const v2 = convertObject(Widgets, v1Object, 'example.com/v2');
 * ```
 */
export function convertObject(resource: VersionedResource, object: KubeObject, desiredAPIVersion: string): KubeObject {
  const name = describe(object);
  if (object.kind !== resource.kind) throw new ConversionError('WrongKind', `${name}: kind ${String(object.kind)} is not ${resource.kind}`);
  const from = versionOf(resource, object.apiVersion, `${name}: apiVersion`);
  const to = versionOf(resource, desiredAPIVersion, `${name}: desired apiVersion`);
  if (from === to) return structuredClone(object);
  const forward = resource.path(from, to);
  const backward = resource.path(to, from);
  if (!forward || !backward) throw new ConversionError('UnknownVersion', `${name}: no conversion from ${from} to ${to}`);

  const key = conversionDataAnnotation(resource);
  const metadata: ObjectMeta = object.metadata ?? {};
  const stash = readStash(metadata.annotations?.[key]);
  const input: KubeObject = { ...structuredClone(object), metadata: withoutAnnotation(structuredClone(metadata), key) };

  const converted = run(forward, input, name);
  let content = contentOf(converted);

  const back = run(backward, converted, name);
  if (isDeepStrictEqual(contentOf(back), contentOf(input))) delete stash[from];
  else stash[from] = contentOf(input);

  const kept = stash[to];
  if (kept) {
    // The image of the kept content after a trip through `from`: what `content` would be had
    // nothing changed since it was stashed.
    const keptObject: KubeObject = { ...kept, apiVersion: desiredAPIVersion, kind: resource.kind, metadata: input.metadata ?? {} };
    const image = contentOf(run(forward, run(backward, keptObject, name), name));
    content = merge(content, kept, image) as Content;
    delete stash[to];
  }

  const out: KubeObject = { apiVersion: desiredAPIVersion, kind: resource.kind, metadata: restoreMetadata(metadata, converted.metadata, key), ...content };
  if (Object.keys(stash).length > 0) {
    out.metadata = { ...out.metadata, annotations: { ...out.metadata?.annotations, [key]: JSON.stringify(stash) } };
  }
  return out;
}

/**
 * The restored content: `kept` wherever `current` still equals `image` (nothing changed since it
 * was stashed), `current` where it differs, deciding field by field inside objects.
 */
function merge(current: unknown, kept: unknown, image: unknown): unknown {
  if (isDeepStrictEqual(current, image)) return structuredClone(kept);
  if (!isPlainObject(current) || !isPlainObject(kept) || !isPlainObject(image)) return current;
  const out: { [key: string]: unknown } = {};
  for (const k of new Set([...Object.keys(kept), ...Object.keys(current)])) {
    const value = merge(current[k], kept[k], image[k]);
    if (value !== undefined) out[k] = value;
  }
  return out;
}

function run(steps: readonly ConversionStep[], object: KubeObject, name: string): KubeObject {
  let current = object;
  for (const step of steps) {
    try {
      current = step(structuredClone(current));
    } catch (error) {
      throw new ConversionError('FunctionFailed', `${name}: the conversion function threw: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!isPlainObject(current)) throw new ConversionError('FunctionFailed', `${name}: a conversion function returned ${typeof current}, not an object`);
    current = { ...current, metadata: current.metadata ?? object.metadata ?? {} };
  }
  return current;
}

function contentOf(object: KubeObject): Content {
  const { apiVersion: _a, kind: _k, metadata: _m, ...content } = object;
  return content;
}

/** The input's metadata, with labels and annotations as the conversion left them (minus the stash). */
function restoreMetadata(input: ObjectMeta, converted: ObjectMeta | undefined, key: string): ObjectMeta {
  const out: ObjectMeta = { ...structuredClone(input) };
  delete out.labels;
  delete out.annotations;
  const labels = converted?.labels;
  const annotations = { ...converted?.annotations };
  delete annotations[key];
  if (labels && Object.keys(labels).length > 0) out.labels = { ...labels };
  if (Object.keys(annotations).length > 0) out.annotations = annotations;
  return out;
}

function withoutAnnotation(metadata: ObjectMeta, key: string): ObjectMeta {
  if (!metadata.annotations || !(key in metadata.annotations)) return metadata;
  const annotations = { ...metadata.annotations };
  delete annotations[key];
  const out: ObjectMeta = { ...metadata, annotations };
  if (Object.keys(annotations).length === 0) delete out.annotations;
  return out;
}

/** A stash that is not ours (hand-edited, truncated) is ignored: converting must not fail forever. */
function readStash(text: string | undefined): Stash {
  if (text === undefined) return {};
  try {
    const value: unknown = JSON.parse(text);
    if (!isPlainObject(value)) return {};
    const stash: Stash = {};
    for (const [version, content] of Object.entries(value)) if (isPlainObject(content)) stash[version] = content;
    return stash;
  } catch {
    return {};
  }
}

function versionOf(resource: VersionedResource, apiVersion: unknown, what: string): string {
  const text = typeof apiVersion === 'string' ? apiVersion : '';
  const slash = text.indexOf('/');
  const group = text.slice(0, Math.max(slash, 0));
  const version = text.slice(slash + 1);
  if (slash < 0 || group !== resource.group || !resource.version(version)) {
    throw new ConversionError('UnknownVersion', `${what} ${JSON.stringify(apiVersion)} is not a version of ${resource.crdName} (${resource.versions.map((v) => v.apiVersion).join(', ')})`);
  }
  return version;
}

function describe(object: KubeObject): string {
  const m = object.metadata;
  return `${String(object.kind)} ${m?.namespace ? `${m.namespace}/` : ''}${m?.name ?? m?.generateName ?? '(unnamed)'}`;
}

function isPlainObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// ConversionReview

/** What the API server asks: convert these objects to one version. */
export interface ConversionRequest {
  /** Identifies this call; echoed in the response. */
  uid: string;
  /** The version every object must come back in, e.g. `crypto.tools/v2`. */
  desiredAPIVersion: string;
  /** Objects not yet at the desired version, as stored or as sent by a client. */
  objects: KubeObject[];
}

/** What Operon answers. */
export interface ConversionResponse {
  /** The request's uid. */
  uid: string;
  /** Every object converted, in the request's order; empty on failure. */
  convertedObjects: KubeObject[];
  /** Success, or Failure with a message the API server passes on to the client. */
  result: {
    /** `Success` or `Failure`. */
    status: 'Success' | 'Failure';
    /** Why it failed, naming the object. */
    message?: string;
  };
}

/** `apiextensions.k8s.io/v1` ConversionReview, as the API server sends it and expects it back. */
export interface ConversionReview {
  /** Always `apiextensions.k8s.io/v1`: the only version Operon's CRDs list in `conversionReviewVersions`. */
  apiVersion: 'apiextensions.k8s.io/v1';
  /** Always `ConversionReview`. */
  kind: 'ConversionReview';
  /** Set in what the API server sends. */
  request?: ConversionRequest;
  /** Set in what Operon answers. */
  response?: ConversionResponse;
}

/** A ConversionReview that carries a request: what {@link convertReview} answers. */
export interface ConversionReviewRequest extends ConversionReview {
  /** What the API server asks. */
  request: ConversionRequest;
}

/**
 * True when `body` is a ConversionReview v1 request this module can answer; a server answers
 * anything else with 400, as controller-runtime does.
 *
 * @example
 * ```ts
 * if (!isConversionReviewRequest(body)) return reply(400, 'not a ConversionReview v1 request');
 * ```
 */
export function isConversionReviewRequest(body: unknown): body is ConversionReviewRequest {
  if (!isPlainObject(body) || body['apiVersion'] !== 'apiextensions.k8s.io/v1' || body['kind'] !== 'ConversionReview') return false;
  const request = body['request'];
  return (
    isPlainObject(request) &&
    typeof request['uid'] === 'string' &&
    typeof request['desiredAPIVersion'] === 'string' &&
    Array.isArray(request['objects']) &&
    request['objects'].every(isPlainObject)
  );
}

/**
 * Answers a ConversionReview for one versioned resource: every object converted to the desired
 * version, in order, with `result.status: Success`; or none, with `Failure` and a message naming
 * the first object that failed. The `uid` is echoed.
 *
 * @example
 * ```ts
 * // in the webhook server, for POST /convert/<crdName>:
 * const reply = convertReview(CryptoValueCalculators, JSON.parse(body));
 * ```
 */
export function convertReview(resource: VersionedResource, review: ConversionReviewRequest): ConversionReview {
  const { uid, desiredAPIVersion, objects } = review.request;
  try {
    const convertedObjects = objects.map((o) => convertObject(resource, o, desiredAPIVersion));
    return { apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', response: { uid, convertedObjects, result: { status: 'Success' } } };
  } catch (error) {
    const message = error instanceof ConversionError ? error.message : `converting to ${desiredAPIVersion} failed: ${String(error)}`;
    return { apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', response: { uid, convertedObjects: [], result: { status: 'Failure', message } } };
  }
}
