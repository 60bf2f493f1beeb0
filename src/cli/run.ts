/**
 * `operon run <file>...`: loads the operator files (their `resource()` calls fill the default
 * registry, or a file exports an `Operator`), checks that the cluster answers and that every
 * custom resource's CRD is installed, then runs until SIGTERM/SIGINT and exits 0 after a graceful
 * stop. Every way it can fail before running is one clear message and a non-zero exit, never a
 * stack trace and never a crash loop of retries against a cluster that lacks the CRDs.
 */
import { KubeClient } from '../client/client.ts';
import { ApiError, TransportError } from '../client/errors.ts';
import { defaultRegistry, type Registry } from '../handlers/registry.ts';
import { Operator } from '../runtime/operator.ts';
import { runUntilSignalled } from '../runtime/signals.ts';
import { HealthServer } from '../server/health.ts';
import type { RunCommand } from './args.ts';
import { CliError, importFiles } from './load.ts';
import { createLogger } from './logging.ts';

/** The operator a set of modules defines: an exported `Operator` wins, else the default registry. */
export function operatorFrom(modules: ReadonlyArray<{ exports: Record<string, unknown> }>): Operator | undefined {
  for (const m of modules) for (const value of Object.values(m.exports)) if (value instanceof Operator) return value;
  return undefined;
}

export async function runCommand(cmd: RunCommand): Promise<number> {
  const modules = await importFiles(cmd.files);
  const logger = await createLogger('operon', cmd.logLevel, cmd.logFormat);
  const exported = operatorFrom(modules);
  const registry: Registry = exported?.registry ?? defaultRegistry;
  if (registry.resources.length === 0 && registry.startup.length === 0) {
    throw new CliError(`${cmd.files.join(', ')} registered no handlers: call resource(...).onCreate(...) or similar at the top level`, 2);
  }

  let client: KubeClient;
  try {
    client = await KubeClient.load({ kubeconfig: cmd.kubeconfig, context: cmd.context, logger });
  } catch (err) {
    throw new CliError(`cannot load the cluster configuration: ${err instanceof Error ? err.message : String(err)}`);
  }
  await preflight(client, registry);

  const namespaces = cmd.allNamespaces || cmd.namespaces.length === 0 ? undefined : cmd.namespaces;
  const operator =
    exported ??
    new Operator({ registry, client, logger, ...(namespaces ? { namespaces } : { allNamespaces: true }) });

  let health: HealthServer | undefined;
  if (cmd.healthAddress !== undefined) {
    health = new HealthServer({ bindAddress: cmd.healthAddress, logger });
    health.addHealthCheck('operator', () => {
      const h = operator.health();
      const failing = Object.entries(h.resources)
        .filter(([, s]) => !s.healthy)
        .map(([name]) => name);
      return { ok: h.healthy, message: failing.length ? `watches failing: ${failing.join(', ')}` : h.phase };
    });
    health.addReadyCheck('caches', () => ({ ok: operator.ready(), message: operator.ready() ? 'synced' : 'caches not synced yet' }));
    await health.start();
  }
  try {
    await runUntilSignalled(operator);
  } finally {
    await health?.stop();
    client.close();
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

/** The cluster answers and serves every custom resource the registry handles. */
async function preflight(client: KubeClient, registry: Registry): Promise<void> {
  for (const { resource } of registry.resources) {
    try {
      await client.resolve({ apiVersion: resource.apiVersion, kind: resource.kind });
    } catch (err) {
      if (err instanceof ApiError && err.kind === 'NotFound') {
        const crd = 'crdName' in resource ? String((resource as { crdName: unknown }).crdName) : `${resource.plural}.${resource.group}`;
        throw new CliError(`the cluster does not serve ${resource.kind} (${resource.apiVersion}): install its CRD ${crd} first, e.g. operon crd <file> | kubectl apply -f -`);
      }
      if (err instanceof TransportError) throw new CliError(`cannot reach the cluster at ${client.config.server}: ${err.message}`);
      if (err instanceof ApiError && (err.kind === 'Unauthorized' || err.kind === 'Forbidden')) throw new CliError(`${err.message} (${err.hint})`);
      throw err;
    }
  }
}
