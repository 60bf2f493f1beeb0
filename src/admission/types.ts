/**
 * What an admission handler sees and may answer, independent of HTTP: the request the API
 * server sends in an AdmissionReview `v1`, the context a handler receives, the options that are
 * pushed into the webhook configuration, and the error a handler throws to refuse a request.
 *
 * Guarantees: the option types mirror `admissionregistration.k8s.io/v1` field for field, so a
 * filter a user writes here is evaluated by the API server (unrelated requests never reach the
 * operator), never by Operon.
 */
import type { Logger } from '../base/logger.ts';
import type { KubeObject } from '../client/types.ts';

/** An admission operation. A PATCH that creates (server-side apply) arrives as `CREATE`. */
export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** Who made the request, as the API server authenticated them. */
export interface AdmissionUserInfo {
  /** The user's name, e.g. `system:serviceaccount:ops:deployer` or `alice@example.com`. */
  username?: string;
  /** A unique id the authenticator gave the user, if any. */
  uid?: string;
  /** The groups the user belongs to, e.g. `system:authenticated`. */
  groups?: string[];
  /** Further attributes the authenticator provided (scopes, the node of a bound token). */
  extra?: Record<string, string[]>;
}

/** The `request` of an AdmissionReview `v1`, as far as Operon reads it. */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: AdmissionOperation;
  userInfo: AdmissionUserInfo;
  object?: KubeObject | null;
  oldObject?: KubeObject | null;
  dryRun?: boolean;
  options?: unknown;
}

/** The `response` of an AdmissionReview `v1`. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string };
  warnings?: string[];
  patchType?: 'JSONPatch';
  /** Base64 of the JSON of an RFC 6902 patch. */
  patch?: string;
}

/** What a validate or mutate handler receives. */
export interface AdmissionContext<T extends KubeObject = KubeObject> {
  /** What is being done: `CREATE`, `UPDATE`, `DELETE` or `CONNECT` (a PATCH that creates is `CREATE`). */
  operation: AdmissionOperation;
  /** The object as it would be stored; `null` on DELETE. In a mutate handler, change it in place. */
  object: T | null;
  /** The stored object on UPDATE and DELETE; `null` on CREATE. */
  oldObject: T | null;
  /** Who sent the request, as the API server authenticated them. */
  userInfo: AdmissionUserInfo;
  /** True for `--dry-run=server`: a handler with side effects must not perform them. */
  dryRun: boolean;
  /** `status`, `scale`, … when the request is for a subresource; `undefined` for the object itself. */
  subResource: string | undefined;
  /** The object's name; `undefined` on a CREATE with `generateName`. */
  name: string | undefined;
  /** The object's namespace; `undefined` for cluster-scoped objects. */
  namespace: string | undefined;
  /** Adds a warning shown by kubectl (`Warning: …`); keep each under 120 characters. */
  warn(message: string): void;
  /** A logger bound to the request (resource, operation, object). */
  logger: Logger;
}

/**
 * What a validate handler may return: nothing (allowed), a rejection message, or a rejection
 * with a code and warnings. Throwing an {@link AdmissionError} is the same as returning one.
 */
export type ValidateResult =
  | void
  | undefined
  | string
  | {
      /** The message that refuses the request; absent: allowed. */
      reject?: string;
      /** The HTTP status kubectl reports with a rejection; default 403. */
      code?: number;
      /** Warnings kubectl shows, allowed or not. */
      warnings?: readonly string[];
    };

/** A validate handler. */
export type ValidateFn<T extends KubeObject = KubeObject> = (context: AdmissionContext<T>) => ValidateResult | Promise<ValidateResult>;

/**
 * A mutate handler: changes `context.object` in place (or returns a replacement); Operon
 * computes the JSONPatch. It may throw an {@link AdmissionError} to refuse.
 */
export type MutateFn<T extends KubeObject = KubeObject> = (context: AdmissionContext<T>) => void | T | Promise<void | T>;

/** A Kubernetes label selector, as in `objectSelector` and `namespaceSelector`. */
export interface LabelSelector {
  /** Labels that must all be present with these values. */
  matchLabels?: Record<string, string>;
  /** Requirements that must all hold. */
  matchExpressions?: Array<{
    /** The label's key. */
    key: string;
    /** How the label's value is compared with `values`. */
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    /** The values for `In` and `NotIn`; empty for `Exists` and `DoesNotExist`. */
    values?: string[];
  }>;
}

/** A CEL condition the API server evaluates before calling the webhook. */
export interface MatchCondition {
  /** A name for the condition, unique per webhook (shown when it fails to evaluate). */
  name: string;
  /** A CEL expression over `object`, `oldObject`, `request` and `authorizer`; false skips the webhook. */
  expression: string;
}

/** Options of `validate` and `mutate`; every filter here is evaluated by the API server. */
export interface AdmissionOptions {
  /** Names the handler (and its path and webhook name). Default: `validate`/`mutate` + the function name. */
  id?: string;
  /** Default: {@link defaults}.admission.operations (CREATE and UPDATE). */
  operations?: readonly AdmissionOperation[];
  /** Subresources to intercept besides the object itself, e.g. `['status']`. Default none. */
  subresources?: readonly string[];
  /** `Fail` refuses writes while the webhook cannot answer; `Ignore` lets them through. Default: {@link defaults}.admission.failurePolicy. */
  failurePolicy?: 'Fail' | 'Ignore';
  /** 1–30. Default: {@link defaults}.admission.timeoutSeconds. */
  timeoutSeconds?: number;
  /**
   * `None` (default): the handler changes nothing outside the reply. `NoneOnDryRun`: it has side
   * effects and skips them when `context.dryRun` is true.
   */
  sideEffects?: 'None' | 'NoneOnDryRun';
  /** Only objects whose labels match (old or new) are sent to the handler; the API server filters. */
  objectSelector?: LabelSelector;
  /** Only objects in namespaces whose labels match are sent; the API server filters. */
  namespaceSelector?: LabelSelector;
  /** CEL conditions the API server evaluates first; a request is sent only when all are true. */
  matchConditions?: readonly MatchCondition[];
  /** Mutate only: `IfNeeded` re-runs the handler after later mutations (it must be idempotent). */
  reinvocationPolicy?: 'Never' | 'IfNeeded';
}

/** A registered admission handler, options checked and filled. */
export interface AdmissionSpec {
  readonly type: 'validate' | 'mutate';
  readonly id: string;
  readonly fn: ValidateFn | MutateFn;
  readonly operations: readonly AdmissionOperation[];
  readonly subresources: readonly string[];
  readonly failurePolicy: 'Fail' | 'Ignore';
  readonly timeoutSeconds: number;
  readonly sideEffects: 'None' | 'NoneOnDryRun';
  readonly objectSelector: LabelSelector | undefined;
  readonly namespaceSelector: LabelSelector | undefined;
  readonly matchConditions: readonly MatchCondition[];
  readonly reinvocationPolicy: 'Never' | 'IfNeeded';
}

/**
 * Refuses an admission request: the user sees `admission webhook "<name>" denied the request:
 * <message>`. `code` is the HTTP status kubectl reports; the API server raises codes below 400 to 400.
 *
 * @example
 * ```ts
 * throw new AdmissionError('amount 30000000 exceeds the supply of BTC (21000000)', 422);
 * ```
 */
export class AdmissionError extends Error {
  /** The HTTP status kubectl reports; default 403. */
  readonly code: number;
  /** Warnings kubectl shows with the refusal. */
  readonly warnings: readonly string[];
  constructor(message: string, code = 403, warnings: readonly string[] = []) {
    super(message);
    this.name = 'AdmissionError';
    this.code = code;
    this.warnings = warnings;
  }
}

/** A request body that is not an AdmissionReview `v1` the server can answer: the reply is a 400. */
export class MalformedReviewError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedReviewError';
  }
}
