/**
 * Errors are values with a kind, a message for a human and a hint of what to do. Every failed API
 * call rejects with an {@link ApiError} whose `kind` is decided from the HTTP status and the
 * `Status.reason` the server sent; callers branch on `kind`, never on message text.
 *
 * Guarantee: a body that is not a JSON `Status` (the API server's 429 from priority-and-fairness is
 * plain text) still yields a typed error, and `Retry-After` is read from the header.
 */
import type { Status } from './types.ts';

/**
 * What went wrong, from the Status `reason` (or the HTTP code when there is none): the value to
 * branch on, e.g. `err.kind === 'NotFound'`.
 */
export type ApiErrorKind =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'AlreadyExists'
  | 'Conflict'
  /** 410 Gone or reason Expired: a resourceVersion or continue token is too old. Relist. */
  | 'Expired'
  | 'Invalid'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout'
  | 'Unknown';

/** What the request was, for messages such as "cannot list pods in namespace x". */
export interface RequestDescription {
  /** `get`, `list`, `watch`, `create`, `replace`, `patch`, `delete`, ... */
  verb: string;
  /** `pods`, `cryptovaluecalculators.crypto.tools`, `pods/status`, ... */
  resource: string;
  /** The object's namespace; absent for cluster-scoped objects and all-namespace requests. */
  namespace?: string;
  /** The object's name; absent for collection requests (list, watch, create). */
  name?: string;
}

/**
 * An error the API server answered with (or a request that got no answer, `code` 0): its
 * {@link ApiErrorKind}, the request it was about, and what to do about it.
 *
 * @example
 * ```ts
 * try {
 *   await client.get(configMaps, 'settings', { namespace });
 * } catch (err) {
 *   if (isApiError(err) && err.kind === 'NotFound') return undefined;
 *   throw err;
 * }
 * ```
 */
export class ApiError extends Error {
  /** Always `'ApiError'`. */
  override readonly name = 'ApiError';
  /** What went wrong, to branch on. */
  readonly kind: ApiErrorKind;
  /** HTTP status, 0 when the request never got an answer. */
  readonly code: number;
  /** The Status object the server sent, when it sent one. */
  readonly status: Status | undefined;
  /** The request that failed. */
  readonly request: RequestDescription | undefined;
  /** Server-suggested delay before retrying, from `Retry-After` or `details.retryAfterSeconds`. */
  readonly retryAfterMs: number | undefined;
  /** What the user can do about it. */
  readonly hint: string;

  constructor(init: {
    kind: ApiErrorKind;
    code: number;
    message: string;
    status?: Status;
    request?: RequestDescription;
    retryAfterMs?: number;
    hint?: string;
  }) {
    super(init.message);
    this.kind = init.kind;
    this.code = init.code;
    this.status = init.status;
    this.request = init.request;
    this.retryAfterMs = init.retryAfterMs;
    this.hint = init.hint ?? hintFor(init.kind, init.request, init.status);
  }

  /** Field-level causes of an `Invalid` error: `[{ field: 'spec.amount', message: '...' }]`. */
  get causes(): Array<{
    /** The field's path, e.g. `spec.amount`. */
    field?: string;
    /** What is wrong with it. */
    message?: string;
    /** A CamelCase reason, e.g. `FieldValueInvalid`. */
    reason?: string;
  }> {
    return this.status?.details?.causes ?? [];
  }
}

/** Network-level failure (connection refused, reset, TLS) before any HTTP status arrived. */
export class TransportError extends Error {
  /** Always `'TransportError'`. */
  override readonly name = 'TransportError';
  /** The request that failed. */
  readonly request: RequestDescription | undefined;
  /**
   * False only when the connection failed before any byte of the request could reach the server
   * (refused, DNS, TLS handshake, proxy refused the tunnel). Only then is a non-idempotent request
   * (POST, PATCH) safe to send again. Unknown is reported as true.
   */
  readonly requestSent: boolean;
  constructor(message: string, options: { cause?: unknown; request?: RequestDescription; requestSent?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.request = options.request;
    this.requestSent = options.requestSent ?? true;
  }
}

/**
 * The server answered, but not in a shape the protocol allows: a watch line that is not JSON or not
 * an event, a 2xx body that is not JSON. Usually a proxy or load balancer in the way, or a stream cut
 * mid-line. Never swallowed: a watcher reconnects on it, a caller sees what arrived.
 *
 * @example
 * ```ts
 * if (err instanceof ProtocolError) logger.warn({ err: err.message }, 'stream corrupted; reconnecting');
 * ```
 */
export class ProtocolError extends Error {
  /** Always `'ProtocolError'`. */
  override readonly name = 'ProtocolError';
  /** The request whose answer could not be read. */
  readonly request: RequestDescription | undefined;
  constructor(message: string, options: { cause?: unknown; request?: RequestDescription } = {}) {
    super(message, { cause: options.cause });
    this.request = options.request;
  }
}

const byReason: Record<string, ApiErrorKind> = {
  BadRequest: 'BadRequest',
  Unauthorized: 'Unauthorized',
  Forbidden: 'Forbidden',
  NotFound: 'NotFound',
  MethodNotAllowed: 'MethodNotAllowed',
  AlreadyExists: 'AlreadyExists',
  Conflict: 'Conflict',
  Gone: 'Expired',
  Expired: 'Expired',
  Invalid: 'Invalid',
  UnsupportedMediaType: 'UnsupportedMediaType',
  TooManyRequests: 'TooManyRequests',
  InternalError: 'InternalError',
  ServiceUnavailable: 'ServiceUnavailable',
  Timeout: 'Timeout',
  ServerTimeout: 'Timeout',
};

const byCode: Record<number, ApiErrorKind> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** Decides the kind of an error from what the server said; the reason wins over the code. */
export function classify(code: number, status: Status | undefined): ApiErrorKind {
  const fromReason = status?.reason ? byReason[status.reason] : undefined;
  return fromReason ?? byCode[code] ?? (code >= 500 ? 'InternalError' : 'Unknown');
}

/**
 * Builds the error for a non-2xx response.
 *
 * @example
 * ```ts
 * const err = errorFromResponse(429, 'Too many requests, please try again later.', '3', { verb: 'list', resource: 'pods' });
 * err.kind;          // 'TooManyRequests'
 * err.retryAfterMs;  // 3000
 * ```
 */
export function errorFromResponse(
  code: number,
  body: string,
  retryAfterHeader: string | undefined,
  request?: RequestDescription,
): ApiError {
  const status = parseStatus(body);
  const kind = classify(code, status);
  const retryAfterMs = parseRetryAfter(retryAfterHeader) ?? secondsToMs(status?.details?.retryAfterSeconds);
  const message = describe(kind, code, status, body, request);
  return new ApiError({
    kind,
    code,
    message,
    ...(status ? { status } : {}),
    ...(request ? { request } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** Builds the error for an ERROR event inside a watch stream (HTTP 200, the Status is the object). */
export function errorFromStatus(status: Status, request?: RequestDescription): ApiError {
  const code = status.code ?? 0;
  const kind = classify(code, status);
  const retryAfterMs = secondsToMs(status.details?.retryAfterSeconds);
  return new ApiError({
    kind,
    code,
    message: describe(kind, code, status, '', request),
    status,
    ...(request ? { request } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** True for errors a caller may retry unchanged: throttling, server trouble, no answer at all. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof TransportError) return true;
  if (!(err instanceof ApiError)) return false;
  return (
    err.kind === 'TooManyRequests' ||
    err.kind === 'InternalError' ||
    err.kind === 'ServiceUnavailable' ||
    err.kind === 'Timeout' ||
    err.code === 502
  );
}

/** Shorthand for `err instanceof ApiError && err.kind === kind`. */
export function isApiError(err: unknown, kind?: ApiErrorKind): err is ApiError {
  return err instanceof ApiError && (kind === undefined || err.kind === kind);
}

function parseStatus(body: string): Status | undefined {
  if (!body.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed && typeof parsed === 'object' && (parsed as Status).kind === 'Status') return parsed as Status;
  } catch {
    // Not JSON: the plain-text bodies of 429s and proxies. The code alone decides the kind.
  }
  return undefined;
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined || seconds <= 0 ? undefined : seconds * 1000;
}

function describe(kind: ApiErrorKind, code: number, status: Status | undefined, body: string, req?: RequestDescription): string {
  const what = req ? `${req.verb} ${req.resource}${req.name ? ` ${req.name}` : ''}${req.namespace ? ` in namespace ${req.namespace}` : ''}` : 'request';
  const said = status?.message ?? (body.trim().slice(0, 300) || `HTTP ${code}`);
  return `${what} failed (${kind}, HTTP ${code}): ${said}`;
}

function hintFor(kind: ApiErrorKind, req: RequestDescription | undefined, status: Status | undefined): string {
  switch (kind) {
    case 'Forbidden':
      return req
        ? `grant the operator's ServiceAccount the verb "${req.verb}" on "${req.resource}"${req.namespace ? ` in namespace ${req.namespace}` : ' (cluster-wide)'} with a Role/ClusterRole and a binding`
        : 'grant the operator the missing permission with a Role/ClusterRole and a binding';
    case 'Unauthorized':
      return 'the credentials were rejected: check the kubeconfig user, token or client certificate';
    case 'NotFound':
      return req && req.name === undefined
        ? `the resource "${req.resource}" is not served: is its CRD installed?`
        : 'the object does not exist (it may have been deleted)';
    case 'Conflict':
      return 'the object changed since it was read: read it again and retry';
    case 'Expired':
      return 'the resourceVersion is too old: list again';
    case 'Invalid':
      // A JSON patch whose `test` op fails (or whose path is missing) gets a bare 422 with no
      // causes and the message "the server rejected our request due to an error in our request".
      if (req?.verb === 'patch' && (status?.details?.causes ?? []).length === 0) {
        return 'the patch could not be applied: a JSON patch "test" operation failed or a path it names does not exist; read the object again and rebuild the patch';
      }
      return 'the object does not match the schema: see the field causes';
    case 'TooManyRequests':
      return 'the API server is throttling: slow down and retry after the suggested delay';
    default:
      return 'retry later; if it persists, check the API server';
  }
}
