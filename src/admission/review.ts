/**
 * The decision part of admission, with no IO: an AdmissionReview `v1` body in, the reply body out.
 * The HTTPS server (`src/server/webhooks.ts`) only moves bytes.
 *
 * Guarantees (the API server's `pkg/admission/plugin/webhook/request` rules):
 * - The reply is an AdmissionReview `admission.k8s.io/v1` whose `response.uid` is the request's.
 * - A denial carries `status.code` and `status.message`; `status` is sent only on denial.
 * - `patchType: JSONPatch` and a base64 `patch` are sent together, only by mutate handlers and
 *   only when the object changed.
 * - Warnings from `context.warn`, a returned result and an {@link AdmissionError} are all kept,
 *   in that order, without duplicates.
 * - A handler that throws anything other than an AdmissionError denies with code 500 and its
 *   message (kopf does the same), and the error is logged: an unexplained crash must not let a
 *   write through a `Fail` webhook.
 * - A body that is not an AdmissionReview `v1` with a request uid throws
 *   {@link MalformedReviewError} (the server answers 400).
 */
import type { Logger } from '../base/logger.ts';
import type { KubeObject } from '../client/types.ts';
import { diff } from './jsonpatch.ts';
import {
  AdmissionError,
  MalformedReviewError,
  type AdmissionContext,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionSpec,
  type MutateFn,
  type ValidateFn,
  type ValidateResult,
} from './types.ts';

/** An AdmissionReview `v1` reply. */
export interface AdmissionReviewReply {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/**
 * Reads the `request` of an AdmissionReview `v1` body.
 *
 * @throws {MalformedReviewError} naming what is wrong.
 * @example
 * ```ts
 * parseReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'CREATE', ... } });
 * ```
 */
export function parseReview(body: unknown): AdmissionRequest {
  if (typeof body !== 'object' || body === null) throw new MalformedReviewError('the body is not a JSON object');
  const review = body as { apiVersion?: unknown; kind?: unknown; request?: unknown };
  if (review.apiVersion !== 'admission.k8s.io/v1' || review.kind !== 'AdmissionReview') {
    throw new MalformedReviewError(`expected an admission.k8s.io/v1 AdmissionReview, got apiVersion ${JSON.stringify(review.apiVersion)} kind ${JSON.stringify(review.kind)}`);
  }
  const request = review.request as Partial<AdmissionRequest> | undefined;
  if (typeof request !== 'object' || request === null) throw new MalformedReviewError('the AdmissionReview has no request');
  if (typeof request.uid !== 'string' || request.uid === '') throw new MalformedReviewError('the AdmissionReview request has no uid');
  if (!['CREATE', 'UPDATE', 'DELETE', 'CONNECT'].includes(request.operation as string)) {
    throw new MalformedReviewError(`the AdmissionReview request has an unknown operation ${JSON.stringify(request.operation)}`);
  }
  return { ...request, userInfo: request.userInfo ?? {} } as AdmissionRequest;
}

/**
 * Runs one handler on a review body and returns the reply body.
 *
 * @throws {MalformedReviewError} when the body is not a review.
 * @example
 * ```ts
 * const reply = await admit(spec, body, logger);
 * reply.response.allowed;
 * ```
 */
export async function admit(spec: AdmissionSpec, body: unknown, logger: Logger): Promise<AdmissionReviewReply> {
  const request = parseReview(body);
  const warnings: string[] = [];
  const original = request.object ?? null;
  // A mutate handler edits a copy: the original is the base of the patch.
  const object = spec.type === 'mutate' && original ? structuredClone(original) : original;
  const context: AdmissionContext = {
    operation: request.operation,
    object,
    oldObject: request.oldObject ?? null,
    userInfo: request.userInfo,
    dryRun: request.dryRun === true,
    subResource: request.subResource || undefined,
    name: request.name || object?.metadata?.name || request.oldObject?.metadata?.name || undefined,
    namespace: request.namespace || undefined,
    warn: (message) => void warnings.push(message),
    logger: logger.child({ webhook: spec.id, uid: request.uid, operation: request.operation }),
  };
  const reply = (response: Omit<AdmissionResponse, 'uid'>): AdmissionReviewReply => {
    const unique = [...new Set([...warnings, ...(response.warnings ?? [])])];
    const { warnings: _w, ...rest } = response;
    return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: request.uid, ...rest, ...(unique.length > 0 ? { warnings: unique } : {}) } };
  };
  try {
    if (spec.type === 'validate') {
      const result = await (spec.fn as ValidateFn)(context);
      return reply(validateOutcome(result));
    }
    const returned = await (spec.fn as MutateFn)(context);
    const mutated: KubeObject | null = returned ?? object;
    const operations = original && mutated ? diff(original, mutated) : [];
    if (operations.length === 0) return reply({ allowed: true });
    return reply({ allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(operations)).toString('base64') });
  } catch (error) {
    if (error instanceof AdmissionError) return reply({ allowed: false, status: { code: error.code, message: error.message }, warnings: [...error.warnings] });
    context.logger.error({ err: error }, `admission handler ${spec.id} failed; denying the request`);
    const message = error instanceof Error ? error.message : String(error);
    return reply({ allowed: false, status: { code: 500, message: `${spec.id} failed: ${message}` } });
  }
}

function validateOutcome(result: ValidateResult): Omit<AdmissionResponse, 'uid'> {
  if (result === undefined || result === null) return { allowed: true };
  if (typeof result === 'string') return { allowed: false, status: { code: 403, message: result } };
  const warnings = [...(result.warnings ?? [])];
  if (result.reject !== undefined) return { allowed: false, status: { code: result.code ?? 403, message: result.reject }, warnings };
  return { allowed: true, warnings };
}
