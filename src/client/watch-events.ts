/**
 * Reading a watch stream: one JSON event per line. A line that is not a well-formed event throws a
 * {@link ProtocolError} that quotes it, never skipped (client-node silently swallows such lines,
 * which turns a broken stream into missed events). `ERROR` events are returned as events, because
 * after a watch is accepted the API server reports failures (410 Expired above all) that way, with
 * HTTP 200; turning them into an {@link ApiError} is the caller's choice via `errorFromStatus`.
 */
import { ProtocolError } from './errors.ts';
import type { RequestDescription } from './errors.ts';
import type { KubeObject, WatchEvent } from './types.ts';

const eventTypes = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/**
 * Parses one line of a watch stream.
 *
 * @example
 * ```ts
 * parseWatchEvent('{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a"}}}');
 * // { type: 'ADDED', object: { kind: 'Pod', metadata: { name: 'a' } } }
 * parseWatchEvent('{"type":"ADDED"'); // throws ProtocolError: malformed watch event ...
 * ```
 */
export function parseWatchEvent<T extends KubeObject = KubeObject>(line: string, request?: RequestDescription): WatchEvent<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw malformed(line, 'not JSON', request, err);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw malformed(line, 'not a JSON object', request);
  const { type, object } = parsed as { type?: unknown; object?: unknown };
  if (typeof type !== 'string' || !eventTypes.has(type)) throw malformed(line, `unknown event type ${JSON.stringify(type)}`, request);
  if (object === null || typeof object !== 'object' || Array.isArray(object)) throw malformed(line, 'event without an object', request);
  return { type, object } as WatchEvent<T>;
}

function malformed(line: string, why: string, request: RequestDescription | undefined, cause?: unknown): ProtocolError {
  const what = request ? `${request.verb} ${request.resource}${request.namespace ? ` in namespace ${request.namespace}` : ''}` : 'watch';
  const shown = line.length > 200 ? `${line.slice(0, 200)}… (${line.length} chars)` : line;
  return new ProtocolError(
    `malformed watch event on ${what} (${why}): ${JSON.stringify(shown)}; a proxy or load balancer may be altering the stream`,
    { cause, ...(request ? { request } : {}) },
  );
}
