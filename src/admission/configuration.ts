/**
 * The ValidatingWebhookConfiguration and MutatingWebhookConfiguration that send a registry's
 * admission handlers their requests, built as plain objects (no IO): the operator applies them,
 * and `operon webhooks` prints them for GitOps.
 *
 * Guarantees:
 * - One webhook per handler, at path {@link webhookPath}, named {@link webhookName}; both derive
 *   from the resource and the handler id only, so every replica and every run build equal objects.
 * - Rules name exactly the handler's resource (its group, version, plural, and the subresources
 *   it asked for) and operations, with `matchPolicy: Equivalent` (the API server's default) so a
 *   request through another served version still arrives. Selectors and match conditions are
 *   copied as given: the API server filters, Operon never sees unrelated requests.
 * - `admissionReviewVersions: ['v1']`: Operon speaks only v1 (kopf also lists v1beta1, which
 *   the API server has not needed since 1.16).
 */
import type { KubeObject } from '../client/types.ts';
import type { Resource } from '../schema/resource.ts';
import type { AdmissionSpec, LabelSelector } from './types.ts';

/** Where the API server reaches the webhook server. */
export type WebhookClientConfig =
  | {
      /** Base URL, e.g. `https://127.0.0.1:9443` (local development: the process on loopback). */
      url: string;
    }
  | {
      /** A Service in front of every replica. */
      service: {
        /** The Service's namespace. */
        namespace: string;
        /** The Service's name. */
        name: string;
        /** The Service's port; default 443. */
        port?: number;
      };
    };

/** A resource and one of its admission handlers. */
export interface AdmissionEndpoint {
  readonly resource: Pick<Resource, 'group' | 'version' | 'plural' | 'namespaced'>;
  readonly spec: AdmissionSpec;
}

/**
 * The path a handler is served at: `/<validate|mutate>/<group or core>/<version>/<plural>/<id>`.
 *
 * @example
 * ```ts
 * webhookPath({ group: '', version: 'v1', plural: 'pods', namespaced: true }, spec); // '/validate/core/v1/pods/validate.limits'
 * ```
 */
export function webhookPath(resource: AdmissionEndpoint['resource'], spec: Pick<AdmissionSpec, 'type' | 'id'>): string {
  return `/${spec.type}/${resource.group || 'core'}/${resource.version}/${resource.plural}/${encodeURIComponent(spec.id)}`;
}

/**
 * A handler's webhook name: a DNS name with at least three labels, as the API server requires.
 *
 * @example
 * ```ts
 * webhookName({ group: 'crypto.tools', plural: 'cryptovaluecalculators', ... }, { id: 'validate.supply' });
 * // 'validate-supply.cryptovaluecalculators.crypto.tools'
 * ```
 */
export function webhookName(resource: AdmissionEndpoint['resource'], spec: Pick<AdmissionSpec, 'id'>): string {
  const slug = spec.id.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'handler';
  return `${slug}.${resource.plural}.${resource.group || 'core'}`;
}

/** Options of {@link webhookConfigurations}. */
export interface ConfigurationOptions {
  /** Name of both configuration objects. */
  name: string;
  clientConfig: WebhookClientConfig;
  /** PEM of the CA(s) that signed the serving certificate; omitted for cert-manager's CA injector. */
  caBundle?: string;
  /** Extra metadata annotations (e.g. `cert-manager.io/inject-ca-from`). */
  annotations?: Record<string, string>;
  /**
   * The namespaces the operator serves, ANDed with each handler's own `namespaceSelector` on
   * namespaced kinds. Default: every namespace.
   */
  namespaceSelector?: LabelSelector;
}

/**
 * The configurations for a set of endpoints; a kind with no handlers is left out.
 *
 * @example
 * ```ts
 * webhookConfigurations(endpoints, { name: 'crypto', clientConfig: { url: 'https://127.0.0.1:9443' }, caBundle: pem });
 * ```
 */
export function webhookConfigurations(endpoints: readonly AdmissionEndpoint[], options: ConfigurationOptions): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const [type, kind] of [['validate', 'ValidatingWebhookConfiguration'], ['mutate', 'MutatingWebhookConfiguration']] as const) {
    const mine = endpoints.filter((e) => e.spec.type === type);
    if (mine.length === 0) continue;
    objects.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind,
      metadata: {
        name: options.name,
        labels: { 'app.kubernetes.io/managed-by': 'operon' },
        ...(options.annotations ? { annotations: options.annotations } : {}),
      },
      webhooks: mine.map((endpoint) => webhook(endpoint, options)),
    } as KubeObject);
  }
  return objects;
}

function webhook({ resource, spec }: AdmissionEndpoint, options: ConfigurationOptions): Record<string, unknown> {
  const path = webhookPath(resource, spec);
  const caBundle = options.caBundle ? { caBundle: Buffer.from(options.caBundle).toString('base64') } : {};
  const clientConfig =
    'url' in options.clientConfig
      ? { url: `${options.clientConfig.url.replace(/\/+$/, '')}${path}`, ...caBundle }
      : { service: { ...options.clientConfig.service, port: options.clientConfig.service.port ?? 443, path }, ...caBundle };
  return {
    name: webhookName(resource, spec),
    clientConfig,
    rules: [
      {
        apiGroups: [resource.group],
        apiVersions: [resource.version],
        resources: [resource.plural, ...spec.subresources.map((s) => `${resource.plural}/${s}`)],
        operations: [...spec.operations],
        scope: resource.namespaced ? 'Namespaced' : 'Cluster',
      },
    ],
    failurePolicy: spec.failurePolicy,
    matchPolicy: 'Equivalent',
    sideEffects: spec.sideEffects,
    timeoutSeconds: spec.timeoutSeconds,
    admissionReviewVersions: ['v1'],
    ...(spec.objectSelector ? { objectSelector: spec.objectSelector } : {}),
    ...namespaceSelectorOf(resource.namespaced ? bothSelectors(spec.namespaceSelector, options.namespaceSelector) : spec.namespaceSelector),
    ...(spec.matchConditions.length > 0 ? { matchConditions: spec.matchConditions } : {}),
    ...(spec.type === 'mutate' ? { reinvocationPolicy: spec.reinvocationPolicy } : {}),
  };
}

function namespaceSelectorOf(selector: LabelSelector | undefined): { namespaceSelector?: LabelSelector } {
  return selector ? { namespaceSelector: selector } : {};
}

/**
 * Both selectors at once. A selector's terms are ANDed, so the second's labels become `In`
 * requirements beside the first's (two different values for one key then match nothing, as
 * they should).
 *
 * @example
 * ```ts
 * bothSelectors({ matchLabels: { team: 'a' } }, { matchLabels: { env: 'prod' } });
 * // { matchLabels: { team: 'a' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }
 * ```
 */
export function bothSelectors(a: LabelSelector | undefined, b: LabelSelector | undefined): LabelSelector | undefined {
  if (!a || !b) return a ?? b;
  const fromLabels = Object.entries(b.matchLabels ?? {}).map(([key, value]) => ({ key, operator: 'In' as const, values: [value] }));
  const matchExpressions = [...(a.matchExpressions ?? []), ...fromLabels, ...(b.matchExpressions ?? [])];
  return { ...(a.matchLabels ? { matchLabels: a.matchLabels } : {}), ...(matchExpressions.length > 0 ? { matchExpressions } : {}) };
}
