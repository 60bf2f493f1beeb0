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
import { parseArgs } from 'node:util';
import type { KubeObject } from '../client/types.ts';
import { webhookConfigurations } from '../admission/configuration.ts';
import { defaults } from '../defaults.ts';
import { defaultRegistry } from '../handlers/registry.ts';
import { admissionEndpoints, servingHosts } from '../runtime/webhooks.ts';
import { CliError, importFiles } from './load.ts';
import { rbacToYaml } from './rbac.ts';
import { operatorFrom } from './run.ts';

/**
 * The YAML `operon webhooks` prints for `argv` (the arguments after `webhooks`).
 *
 * @example
 * ```ts
 * process.stdout.write(await webhooksCommand(['operator.ts', '--name', 'crypto', '--namespace', 'ops', '--cert-manager']));
 * ```
 */
export async function webhooksCommand(argv: readonly string[]): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        namespace: { type: 'string' },
        service: { type: 'string' },
        port: { type: 'string' },
        'cert-manager': { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new CliError(`webhooks: ${(error as Error).message}; usage: operon webhooks <file>... --name N --namespace NS [--service S] [--port P] [--cert-manager]`, 2);
  }
  const { values, positionals: files } = parsed;
  if (files.length === 0 || !values.name || !values.namespace) {
    throw new CliError('webhooks: give the operator files, --name and --namespace, e.g. operon webhooks operator.ts --name crypto --namespace ops', 2);
  }
  const port = values.port === undefined ? defaults.webhooks.port : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CliError(`webhooks: --port ${values.port} is not a port number (1-65535)`, 2);
  const registry = operatorFrom(await importFiles(files))?.registry ?? defaultRegistry;
  const endpoints = admissionEndpoints(registry);
  if (endpoints.length === 0) throw new CliError(`${files.join(', ')} registered no validate or mutate handler: call resource(...).validate(...) at the top level`, 2);
  return rbacToYaml(webhookManifests(registry, { name: values.name, namespace: values.namespace, service: values.service ?? `${values.name}-webhooks`, port, certManager: values['cert-manager'] === true }));
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

/**
 * Runs `operon webhooks` and prints its YAML; resolves with the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await webhooksMain(['operator.ts', '--name', 'crypto', '--namespace', 'ops']);
 * ```
 */
export async function webhooksMain(argv: readonly string[]): Promise<number> {
  process.stdout.write(await webhooksCommand(argv));
  return 0;
}

