/** The webhook options of `operon run`, read from the environment (kept apart: `run` must not load `webhooks.ts`'s YAML writer). */
import type { WebhookOptions } from '../runtime/webhooks.ts';
import { CliError } from './load.ts';

/**
 * The webhook options `operon run` takes from the environment, or `undefined` when none is set:
 * `OPERON_WEBHOOK_URL` (local development: `https://127.0.0.1:9443`) or `OPERON_WEBHOOK_SERVICE`
 * (`<namespace>/<name>` in a cluster), with `OPERON_WEBHOOK_PORT` and `OPERON_WEBHOOK_CERT_DIR`
 * (a mounted cert-manager Secret; without it Operon manages the certificates), and
 * `OPERON_WEBHOOK_NAME` (the configurations' name, and `<name>-webhook-tls` for the Secret: the
 * names `operon rbac --name` grants; default the operator's name), and `OPERON_WEBHOOK_PATCH_CRDS=false`
 * (serve conversions but leave the CRDs' `spec.conversion` to whoever owns it).
 *
 * @example
 * ```ts
 * webhooksFromEnv({ OPERON_WEBHOOK_SERVICE: 'ops/crypto-webhooks' });
 * // { clientConfig: { service: { namespace: 'ops', name: 'crypto-webhooks' } } }
 * ```
 */
export function webhooksFromEnv(env: Readonly<Record<string, string | undefined>>): WebhookOptions | undefined {
  const url = env['OPERON_WEBHOOK_URL'];
  const service = env['OPERON_WEBHOOK_SERVICE'];
  if (!url && !service) return undefined;
  let clientConfig: WebhookOptions['clientConfig'];
  if (url) {
    if (!/^https:\/\/[^/?#@]+\/?$/.test(url)) throw new CliError(`OPERON_WEBHOOK_URL=${url} is not an https base URL; use e.g. https://127.0.0.1:9443`, 2);
    clientConfig = { url };
  } else {
    const [namespace, name, ...rest] = (service ?? '').split('/');
    if (!namespace || !name || rest.length > 0) throw new CliError(`OPERON_WEBHOOK_SERVICE=${service} is not <namespace>/<name>; use e.g. ops/crypto-webhooks`, 2);
    clientConfig = { service: { namespace, name } };
  }
  const portText = env['OPERON_WEBHOOK_PORT'] ?? (url ? new URL(url).port : '');
  const port = portText ? Number(portText) : undefined;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw new CliError(`OPERON_WEBHOOK_PORT=${portText} is not a port number (1-65535)`, 2);
  const directory = env['OPERON_WEBHOOK_CERT_DIR'];
  const name = env['OPERON_WEBHOOK_NAME'];
  if (name !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) throw new CliError(`OPERON_WEBHOOK_NAME=${name} is not a Kubernetes object name; use e.g. crypto-operator`, 2);
  const patchCrds = env['OPERON_WEBHOOK_PATCH_CRDS'];
  if (patchCrds !== undefined && patchCrds !== 'true' && patchCrds !== 'false') throw new CliError(`OPERON_WEBHOOK_PATCH_CRDS=${patchCrds} is not true or false`, 2);
  return {
    clientConfig,
    ...(patchCrds === 'false' ? { patchCrds: false } : {}),
    ...(name ? { name } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(url ? { host: new URL(url).hostname.replace(/^\[|\]$/g, '') } : {}),
    ...(directory ? { certificates: { directory } } : {}),
  };
}
