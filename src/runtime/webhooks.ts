/**
 * Serves a registry's validate and mutate handlers on every replica: the certificates (managed in
 * a Secret, or read from files that cert-manager writes), the {@link WebhookServer}, and the
 * webhook configurations that point the API server at it.
 *
 * Guarantees:
 * - Started by the Operator before leader election, so a standby answers webhooks exactly as the
 *   leader does (controller-runtime runs its webhook server outside leader election too).
 * - Every `checkIntervalMs` the certificates are checked: a new serving certificate is swapped in
 *   for new handshakes without dropping a request, and when the CA bundle changed the
 *   configurations are patched with it *before* the new certificate is served, so the API server
 *   never sees a certificate it cannot verify.
 * - Configurations are merge-patched as a whole `webhooks` list, so a handler removed from the
 *   code disappears from the configuration on the next start. They are left in place on stop:
 *   the other replicas still serve them.
 */
import type { Clock } from '../base/clock.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import { isApiError } from '../client/errors.ts';
import type { ResourceRef } from '../client/types.ts';
import { admit } from '../admission/review.ts';
import { webhookConfigurations, webhookPath, type AdmissionEndpoint, type WebhookClientConfig } from '../admission/configuration.ts';
import { defaults } from '../defaults.ts';
import { convertReview, isConversionReviewRequest } from '../schema/conversion.ts';
import { conversionPath } from '../manifests/crd.ts';
import { MalformedReviewError, type LabelSelector } from '../admission/types.ts';
import type { Registry } from '../handlers/registry.ts';
import { CertificateStore, type ServingMaterial } from '../server/certificates.ts';
import { WebhookServer } from '../server/webhooks.ts';

/** How the webhook server gets its certificate. */
export type WebhookCertificates =
  | {
      /** Operon issues and rotates them, kept in this Secret (shared by replicas). */
      secret: {
        /** The Secret's namespace (the operator's). */
        namespace: string;
        /** The Secret's name. */
        name: string;
      };
      /** Default: {@link defaults}.webhooks.caLifetimeMs. */
      caLifetimeMs?: number;
      /** Default: {@link defaults}.webhooks.servingLifetimeMs. */
      servingLifetimeMs?: number;
      /** Default: {@link defaults}.webhooks.renewFraction. */
      renewFraction?: number;
    }
  | {
      /**
       * A directory with `tls.crt` and `tls.key` (a mounted cert-manager Secret). Operon re-reads it
       * and does not touch the configurations: cert-manager's CA injector fills their caBundle.
       */
      directory: string;
    };

/** Webhook options of an Operator. */
export interface WebhookOptions {
  /** How the API server reaches the replicas: `{ url }` to a process on loopback, or `{ service }`. */
  clientConfig: WebhookClientConfig;
  /** Listening port. Default: {@link defaults}.webhooks.port. */
  port?: number;
  /** Listening address. Default: every interface. */
  host?: string;
  /** Name of the webhook configurations. Default: the operator's name. */
  name?: string;
  /** Default: managed in Secret `<name>-webhook-tls` in the Service's namespace, else the client's (in a Pod: the Pod's). */
  certificates?: WebhookCertificates;
  /** Default: {@link defaults}.webhooks.checkIntervalMs. */
  checkIntervalMs?: number;
  /**
   * Whether this process points the CRDs of its `serveConversion` kinds at itself. Default: true.
   * `false` where something else owns the CRD's conversion: manifests kept in Git, or a process
   * run on a developer's machine against a shared cluster whose deployed operator serves it (a
   * conversion taken over by a laptop breaks reads in the other versions for everyone once that
   * process stops). The conversion routes are served either way.
   */
  patchCrds?: boolean;
}

const crds: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const configurationRefs: Record<string, ResourceRef> = {
  ValidatingWebhookConfiguration: { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingwebhookconfigurations', namespaced: false },
  MutatingWebhookConfiguration: { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', namespaced: false },
};

/**
 * The admission endpoints of a registry, in registration order.
 *
 * @example
 * ```ts
 * admissionEndpoints(registry).map((e) => e.spec.id);
 * ```
 */
export function admissionEndpoints(registry: Registry): AdmissionEndpoint[] {
  return registry.resources.flatMap((registration) => registration.admission.map((spec) => ({ resource: registration.resource, spec })));
}

/**
 * The names and IPs the serving certificate must carry for a client config: the URL's host, or
 * the Service's `<name>.<namespace>.svc` names.
 *
 * @example
 * ```ts
 * servingHosts({ url: 'https://127.0.0.1:9443' }); // ['127.0.0.1']
 * ```
 */
export function servingHosts(clientConfig: WebhookClientConfig): string[] {
  if ('url' in clientConfig) return [new URL(clientConfig.url).hostname.replace(/^\[|\]$/g, '')];
  const { name, namespace } = clientConfig.service;
  return [`${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
}

/**
 * The webhook server and what keeps it trusted. The Operator makes one from its `webhooks` option.
 *
 * @example
 * ```ts
 * const runtime = new WebhookRuntime({ registry, client, logger, clock: systemClock, operatorName: 'crypto',
 *   options: { clientConfig: { url: 'https://127.0.0.1:9443' } } });
 * await runtime.start();
 * ```
 */
export class WebhookRuntime {
  readonly #registry: Registry;
  readonly #client: KubeClient;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #options: WebhookOptions;
  readonly #name: string;
  readonly #namespaceSelector: LabelSelector | undefined;
  #server: WebhookServer | undefined;
  #material: ServingMaterial | undefined;
  #cancelTimer: (() => void) | undefined;
  #stopped = false;
  #port = 0;

  constructor(input: { registry: Registry; client: KubeClient; logger: Logger; clock: Clock; options: WebhookOptions; operatorName: string; namespaceSelector?: LabelSelector | undefined }) {
    this.#registry = input.registry;
    this.#client = input.client;
    this.#logger = input.logger.child({ component: 'webhooks' });
    this.#clock = input.clock;
    this.#options = input.options;
    this.#name = input.options.name ?? input.operatorName;
    this.#namespaceSelector = input.namespaceSelector;
    checkClientConfig(input.options.clientConfig);
  }

  /** The port the server listens on, once started. */
  get port(): number {
    return this.#port;
  }

  /** The server, once started (tests read its request count). */
  get server(): WebhookServer | undefined {
    return this.#server;
  }

  /**
   * Gets certificates, starts serving every handler, and applies the configurations.
   *
   * @example
   * ```ts
   * await runtime.start();
   * ```
   */
  async start(): Promise<void> {
    this.#material = await this.#loadMaterial();
    const server = new WebhookServer({
      certificate: this.#material.serving,
      ...(this.#options.port !== undefined ? { port: this.#options.port } : {}),
      ...(this.#options.host !== undefined ? { host: this.#options.host } : {}),
      logger: this.#logger,
    });
    for (const endpoint of admissionEndpoints(this.#registry)) {
      server.route(webhookPath(endpoint.resource, endpoint.spec), (body) => admit(endpoint.spec, body, this.#logger));
    }
    for (const versions of this.#registry.conversions) {
      server.route(conversionPath(versions), async (body) => {
        if (!isConversionReviewRequest(body)) throw new MalformedReviewError(`not a ConversionReview v1 request for ${versions.crdName}`);
        return convertReview(versions, body);
      });
    }
    this.#server = server;
    this.#port = await server.listen();
    await this.applyConfigurations();
    this.#logger.info({ port: this.#port, webhooks: admissionEndpoints(this.#registry).length, conversions: this.#registry.conversions.length }, 'webhook server is serving');
    this.#schedule();
  }

  /**
   * Creates or patches the Validating/MutatingWebhookConfiguration with the current CA bundle.
   * With certificates from a directory (cert-manager), does nothing.
   *
   * @example
   * ```ts
   * await runtime.applyConfigurations();
   * ```
   */
  async applyConfigurations(): Promise<void> {
    if (!this.#managed || !this.#material) return;
    // CRDs first: a conversion the API server cannot verify fails every read of the other versions.
    if (this.#options.patchCrds !== false) for (const versions of this.#registry.conversions) await this.patchConversion(versions.crdName, conversionPath(versions));
    const objects = webhookConfigurations(admissionEndpoints(this.#registry), {
      name: this.#name,
      clientConfig: this.#options.clientConfig,
      caBundle: this.#material.caBundle,
      ...(this.#namespaceSelector ? { namespaceSelector: this.#namespaceSelector } : {}),
    });
    for (const object of objects) {
      const ref = configurationRefs[object.kind as string] as ResourceRef;
      try {
        await this.#client.patch(ref, this.#name, { type: 'merge', body: object });
      } catch (error) {
        if (!isApiError(error, 'NotFound')) throw error;
        await this.#client.create(ref, object);
      }
    }
  }

  /**
   * Points a CRD's conversion webhook at this server: `spec.conversion.strategy: Webhook` with the
   * client config for `path` and the current CA bundle. {@link applyConfigurations} does it for
   * every kind registered with `serveConversion`.
   *
   * @example
   * ```ts
   * server.route('/convert', convert);
   * await runtime.patchConversion('cryptovaluecalculators.crypto.tools', '/convert');
   * ```
   */
  async patchConversion(crdName: string, path: string): Promise<void> {
    const config = this.#options.clientConfig;
    const caBundle = this.#material?.caBundle ? { caBundle: Buffer.from(this.#material.caBundle).toString('base64') } : {};
    const clientConfig =
      // A merge patch keeps what it does not name: the other way in (e.g. `operon crd`'s
      // placeholder Service) is removed explicitly, since exactly one of url and service may be set.
      'url' in config
        ? { url: `${config.url.replace(/\/+$/, '')}${path}`, service: null, ...caBundle }
        : { service: { ...config.service, port: config.service.port ?? 443, path }, url: null, ...caBundle };
    await this.#client.patch(crds, crdName, { type: 'merge', body: { spec: { conversion: { strategy: 'Webhook', webhook: { clientConfig, conversionReviewVersions: ['v1'] } } } } });
  }

  /**
   * Re-reads or rotates the certificates once; serves the new ones. The timer calls this.
   *
   * @example
   * ```ts
   * await runtime.refresh();
   * ```
   */
  async refresh(): Promise<void> {
    const next = await this.#loadMaterial();
    const previous = this.#material;
    if (previous && next.serving.cert === previous.serving.cert && next.caBundle === previous.caBundle) return;
    this.#material = next;
    if (!previous || next.caBundle !== previous.caBundle) await this.applyConfigurations();
    this.#server?.setCertificate(next.serving);
    this.#logger.info('webhook server certificate replaced');
  }

  /**
   * Stops serving after requests in flight are answered; configurations stay.
   *
   * @example
   * ```ts
   * await runtime.stop();
   * ```
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelTimer?.();
    await this.#server?.stop();
  }

  get #managed(): boolean {
    return !(this.#options.certificates && 'directory' in this.#options.certificates);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#cancelTimer = this.#clock.setTimer(this.#options.checkIntervalMs ?? defaults.webhooks.checkIntervalMs, () => {
      this.refresh().then(
        () => this.#schedule(),
        (error: unknown) => {
          this.#logger.error({ err: error }, 'checking the webhook certificates failed; serving the current ones and retrying');
          this.#schedule();
        },
      );
    });
  }

  async #loadMaterial(): Promise<ServingMaterial> {
    const certificates = this.#options.certificates;
    if (certificates && 'directory' in certificates) {
      const read = (file: string): string => readFileSync(join(certificates.directory, file), 'utf8');
      return { serving: { cert: read('tls.crt'), key: read('tls.key') }, caBundle: '' };
    }
    const config = this.#options.clientConfig;
    const secret = certificates?.secret ?? { namespace: 'service' in config ? config.service.namespace : this.#client.namespace, name: `${this.#name}-webhook-tls` };
    const store = new CertificateStore(this.#client, secret, {
      hosts: servingHosts(config),
      ...(certificates && 'secret' in certificates ? pick(certificates) : {}),
    });
    return store.ensure(new Date(this.#clock.now()));
  }
}

/**
 * Refuses a client config the API server would refuse, with the fix, when the operator is
 * constructed rather than when the configuration is applied.
 */
function checkClientConfig(config: WebhookClientConfig): void {
  if ('url' in config) {
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      throw new RangeError(`webhooks.clientConfig.url ${JSON.stringify(config.url)} is not a URL; use e.g. https://127.0.0.1:9443`);
    }
    if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) {
      throw new RangeError(`webhooks.clientConfig.url ${config.url} must be https with no user, query or fragment (the API server's rule); use e.g. https://127.0.0.1:9443`);
    }
  } else if (!config.service?.namespace || !config.service.name) {
    throw new RangeError('webhooks.clientConfig.service needs a namespace and a name, e.g. { namespace: "ops", name: "crypto-webhooks" }');
  }
}

function pick(c: { caLifetimeMs?: number; servingLifetimeMs?: number; renewFraction?: number }): { caLifetimeMs?: number; servingLifetimeMs?: number; renewFraction?: number } {
  return {
    ...(c.caLifetimeMs !== undefined ? { caLifetimeMs: c.caLifetimeMs } : {}),
    ...(c.servingLifetimeMs !== undefined ? { servingLifetimeMs: c.servingLifetimeMs } : {}),
    ...(c.renewFraction !== undefined ? { renewFraction: c.renewFraction } : {}),
  };
}

/**
 * Starts the webhook server of an operator when it has `options`; without them, warns when the
 * registry has admission handlers or conversions that the API server would then never call (not
 * an error: the same operator file runs in tests and tools that need no admission).
 *
 * @example
 * ```ts
 * const webhooks = await startWebhooks({ registry, client, logger, clock, options: { clientConfig: { url } }, operatorName: 'crypto' });
 * ```
 */
export async function startWebhooks(input: {
  registry: Registry;
  client: KubeClient;
  logger: Logger;
  clock: Clock;
  options: WebhookOptions | undefined;
  operatorName: string;
  /** The namespaces the operator serves (`admissionScope`); its webhooks apply there only. */
  namespaceSelector?: LabelSelector | undefined;
}): Promise<WebhookRuntime | undefined> {
  const { registry, logger, options } = input;
  if (!options) {
    if (registry.resources.some((r) => r.admission.length > 0) || registry.conversions.length > 0) {
      logger.warn(
        `operator ${input.operatorName} has validate/mutate handlers or serves a conversion but has no webhooks option, so the API server never calls them; pass webhooks: { clientConfig: { url: 'https://127.0.0.1:9443' } } (or a service), or set OPERON_WEBHOOK_URL for operon run`,
      );
    }
    return undefined;
  }
  const webhooks = new WebhookRuntime({ ...input, options });
  await webhooks.start();
  return webhooks;
}
