/**
 * `operon webhooks`: the webhook configurations of the operator the files define, as YAML, for
 * teams that keep manifests in Git and do not let the operator patch cluster-wide objects.
 *
 * ```
 * operon webhooks <file>... --name N --namespace NS [--service S] [--port P] [--cert-manager]
 * ```
 *
 * Without `--cert-manager` the configurations have no `caBundle`: fill it from the Secret the
 * operator manages, or let the operator patch it. With `--cert-manager`, the output adds a
 * self-signed Issuer, a Certificate for the Service's names, the Service, and the
 * `cert-manager.io/inject-ca-from` annotation, so cert-manager's CA injector fills the bundle;
 * run the operator with `webhooks.certificates.directory` on the mounted Secret.
 */
import type { KubeObject } from '../client/types.ts';
import { webhookConfigurations } from '../admission/configuration.ts';
import { admissionEndpoints, servingHosts } from '../runtime/webhooks.ts';
import { CliError, importFiles } from './load.ts';
import { rbacToYaml } from './rbac.ts';
import type { WebhooksCommand } from './options.ts';
import { registryFrom } from './run.ts';

/**
 * The YAML `operon webhooks` prints.
 *
 * @example
 * ```ts
 * process.stdout.write(await webhooksYaml({ command: 'webhooks', files: ['operator.ts'], name: 'crypto', namespace: 'ops', service: 'crypto-webhooks', port: 9443, certManager: true }));
 * ```
 */
export async function webhooksYaml(o: WebhooksCommand): Promise<string> {
  const registry = await registryFrom(await importFiles(o.files));
  const endpoints = admissionEndpoints(registry);
  if (endpoints.length === 0) throw new CliError(`${o.files.join(', ')} registered no validate or mutate handler: call resource(...).validate(...) at the top level`, 2);
  return rbacToYaml(webhookManifests(registry, { name: o.name, namespace: o.namespace, service: o.service, port: o.port, certManager: o.certManager }));
}

/**
 * The objects `operon webhooks` prints.
 *
 * @example
 * ```ts
 * webhookManifests(registry, { name: 'crypto', namespace: 'ops', service: 'crypto-webhooks', port: 9443, certManager: true });
 * ```
 */
export function webhookManifests(
  registry: Parameters<typeof admissionEndpoints>[0],
  options: { name: string; namespace: string; service: string; port: number; certManager: boolean },
): KubeObject[] {
  const { name, namespace, service, port } = options;
  const clientConfig = { service: { namespace, name: service, port: 443 } };
  const certificate = `${name}-webhooks`;
  const objects: KubeObject[] = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: service, namespace, labels: { 'app.kubernetes.io/name': name } },
      spec: { selector: { 'app.kubernetes.io/name': name }, ports: [{ name: 'webhooks', port: 443, targetPort: port }] },
    } as KubeObject,
  ];
  if (options.certManager) {
    objects.push(
      { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: certificate, namespace }, spec: { selfSigned: {} } } as KubeObject,
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: certificate, namespace },
        spec: { secretName: `${name}-webhook-tls`, dnsNames: servingHosts(clientConfig), issuerRef: { kind: 'Issuer', name: certificate } },
      } as KubeObject,
    );
  }
  objects.push(
    ...webhookConfigurations(admissionEndpoints(registry), {
      name,
      clientConfig,
      ...(options.certManager ? { annotations: { 'cert-manager.io/inject-ca-from': `${namespace}/${certificate}` } } : {}),
    }),
  );
  return objects;
}


