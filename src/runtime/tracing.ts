/**
 * OpenTelemetry traces of the handling cycle: one span per cycle of one object, with the plan it
 * followed and the handler it ran, and a child span per API request made during it (by Operon or
 * by the handler through `ctx.client`). Through `@opentelemetry/api` only: the operator's process
 * brings its own SDK and exporter (`@opentelemetry/sdk-node`, or a vendor's), and without one
 * every span is a no-op. The API package is loaded only when tracing is switched on, so an
 * operator without it pays nothing (docs/performance.md has the RSS with it off and on).
 *
 * Parent and child are linked through the active context, which needs the SDK's context manager
 * (every SDK registers one); span names and attributes follow the OpenTelemetry conventions for
 * Kubernetes where they exist (`k8s.namespace.name`).
 */
import type { Span } from '@opentelemetry/api';
import type { RequestTracer } from '../client/client.ts';
import type { RequestDescription } from '../client/errors.ts';

/** Attributes set on a cycle's span as the cycle learns them. */
export type SpanAttributes = Record<string, string | number | boolean>;

/** The span of one cycle, as the runtime annotates it. */
export interface CycleSpan {
  /** Adds attributes (the plan taken, the handler run, the requeue). */
  set(attributes: SpanAttributes): void;
}

/** Tracing of one operator: cycles and API requests. */
export interface Tracing {
  /** Runs one handling cycle of `key` of `resource` inside a span. */
  cycle<T>(resource: string, namespace: string | undefined, name: string, run: (span: CycleSpan) => Promise<T>): Promise<T>;
  /** Wraps API requests in child spans. */
  readonly requests: RequestTracer;
}

/** The span of a cycle when tracing is off: annotating it costs nothing. */
export const NO_SPAN: CycleSpan = { set: () => {} };

/**
 * Loads `@opentelemetry/api` and returns the tracing of an operator named `name` (the tracer's
 * name is `operon-k8s`, its version the package's).
 *
 * @example
 * ```ts
 * const tracing = await loadTracing('0.1.0');
 * client.traceWith(tracing.requests);
 * ```
 */
export async function loadTracing(version: string): Promise<Tracing> {
  const api = await import('@opentelemetry/api');
  const tracer = api.trace.getTracer('operon-k8s', version);
  const inSpan = async <T>(name: string, attributes: SpanAttributes, kind: number, run: (span: Span) => Promise<T>): Promise<T> =>
    tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
      try {
        return await run(span);
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    });
  return {
    cycle: (resource, namespace, name, run) =>
      inSpan(`reconcile ${resource}`, { 'k8s.resource': resource, 'k8s.object.name': name, ...(namespace ? { 'k8s.namespace.name': namespace } : {}) }, api.SpanKind.INTERNAL, (span) =>
        run({ set: (attributes) => span.setAttributes(attributes) }),
      ),
    requests: {
      trace: (description, request) => inSpan(spanName(description), requestAttributes(description), api.SpanKind.CLIENT, () => request()),
    },
  };
}

/** `PATCH configmaps`: the verb and the resource, never the object's name (names are unbounded). */
function spanName(description: RequestDescription): string {
  return `${description.verb.toUpperCase()} ${description.resource}`;
}

function requestAttributes(description: RequestDescription): SpanAttributes {
  return {
    'k8s.api.verb': description.verb,
    'k8s.resource': description.resource,
    ...(description.namespace ? { 'k8s.namespace.name': description.namespace } : {}),
    ...(description.name ? { 'k8s.object.name': description.name } : {}),
  };
}
