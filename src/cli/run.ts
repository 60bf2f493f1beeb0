/**
 * `operon run <file>...`: loads the operator files (their `resource()` calls fill the default
 * registry, or a file exports an `Operator`), checks that the cluster answers and that every
 * custom resource's CRD is installed, then runs until SIGTERM/SIGINT and exits 0 after a graceful
 * stop. Every way it can fail before running is one clear message and a non-zero exit, never a
 * stack trace and never a crash loop of retries against a cluster that lacks the CRDs.
 *
 * With `--health-address`, `/healthz` and `/readyz` are served, and with `--metrics-address`,
 * `/metrics` (prom-client is loaded only then), each on its own port as controller-runtime does
 * (`:8081` and `:8080` in deploy/), from before the operator starts until it has stopped. A port
 * in use is one line naming the port and the flag. With `--leader-elect`, a replica that loses
 * its lease exits 1 at once, so Kubernetes restarts it as a standby; with `--shard-ring`, so does
 * a replica that loses its shard Lease.
 *
 * With `--jit lazy` (the default), V8's optimizing compilers stay off until the operator is first
 * busy (`jit.ts`): an operator that sits idle stays about 6 MiB smaller.
 *
 * With `--check` (the default for `.ts` files outside NODE_ENV=production), the project is
 * type-checked first (`check.ts`), in a child process, so TypeScript is never resident here.
 */
import { KubeClient } from '../client/client.ts';
import { resourceName } from '../client/paths.ts';
import { ApiError, TransportError } from '../client/errors.ts';
import { isOperatorDefinition } from '../handlers/define.ts';
import { login, relogin } from '../runtime/activities.ts';
import { defaultRegistry, type Registry } from '../handlers/registry.ts';
import { Operator, type LeaderElectionOptions } from '../runtime/operator.ts';
import { addOperatorChecks } from '../runtime/probes.ts';
import { runUntilSignalled } from '../runtime/signals.ts';
import { HealthServer } from '../server/health.ts';
import { Metrics } from '../server/metrics.ts';
import type { RunCommand } from './options.ts';
import { webhooksFromEnv } from './webhook-env.ts';
import { CliError, importFiles } from './load.ts';
import { createLogger } from './logging.ts';
import { processJit } from './jit.ts';

/** The operator a set of modules defines: an exported `Operator` wins, else the default registry. */
export function operatorFrom(modules: ReadonlyArray<{ exports: Record<string, unknown> }>): Operator | undefined {
  for (const m of modules) for (const value of Object.values(m.exports)) if (value instanceof Operator) return value;
  return undefined;
}

/**
 * The registry a set of modules defines: an exported `Operator`'s, else that of an exported
 * `defineOperator(...)` (built now), else the default registry the top-level API fills.
 */
export async function registryFrom(modules: ReadonlyArray<{ exports: Record<string, unknown> }>): Promise<Registry> {
  const operator = operatorFrom(modules);
  if (operator) return operator.registry;
  for (const m of modules) for (const value of Object.values(m.exports)) if (isOperatorDefinition(value)) return value.build();
  return defaultRegistry;
}

export async function runCommand(cmd: RunCommand): Promise<number> {
  if (cmd.check) {
    await (await import('./check.ts')).typeCheck({ files: cmd.files, tsconfig: cmd.tsconfig, output: process.stderr, hint: 'or start anyway with --no-check' });
  }
  const modules = await importFiles(cmd.files);
  const logger = await createLogger('operon', cmd.logLevel, cmd.logFormat);
  const exported = operatorFrom(modules);
  const registry: Registry = await registryFrom(modules);
  if (registry.resources.length === 0 && registry.startup.length === 0 && registry.schedules.length === 0) {
    throw new CliError(`${cmd.files.join(', ')} registered no handlers: call resource(...).onCreate(...) or similar at the top level, or export default defineOperator((op) => ...)`, 2);
  }

  // Login handlers first, as the embedded Operator does; a 401 later runs them again.
  let client: KubeClient | undefined;
  try {
    client = registry.login.length > 0 ? await login(registry, logger) : undefined;
  } catch (err) {
    throw new CliError(`a login handler failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  client?.reloginWith(relogin(registry, logger));
  try {
    client ??= await KubeClient.load({ kubeconfig: cmd.kubeconfig, context: cmd.context, logger });
  } catch (err) {
    throw new CliError(`cannot load the cluster configuration: ${err instanceof Error ? err.message : String(err)}`);
  }
  await preflight(client, registry);

  const namespaces = cmd.allNamespaces || cmd.namespaces.length === 0 ? undefined : cmd.namespaces;
  const metrics = cmd.metricsAddress !== undefined ? await Metrics.load() : undefined;
  const leaderElection = leaderElectionOf(cmd, registry, client);
  const webhooks = webhooksFromEnv(process.env);
  // A ring given in code keeps its timings; the flag names the ring and the Leases' namespace.
  const sharding = cmd.sharding ? { ...exported?.sharding, ring: cmd.sharding.ring, namespace: cmd.sharding.namespace ?? exported?.sharding?.namespace ?? leaderElection?.namespace ?? client.namespace } : undefined;
  const deployment = { ...(webhooks ? { webhooks } : {}), ...(metrics ? { metrics } : {}), ...(leaderElection ? { leaderElection } : {}), ...(sharding ? { sharding } : {}), ...(cmd.concurrency ? { concurrency: cmd.concurrency } : {}), ...(cmd.tracing ? { tracing: true } : {}), ...(cmd.namespaceSelector !== undefined ? { namespaceSelector: cmd.namespaceSelector } : {}) };
  const operator = exported ?? new Operator({ registry, client, logger, ...(namespaces ? { namespaces } : { allNamespaces: true }), ...deployment });
  if (exported) exported.configure(deployment);

  const servers: HealthServer[] = [];
  try {
    if (cmd.healthAddress !== undefined) {
      const health = new HealthServer({ bindAddress: cmd.healthAddress, logger, ...(cmd.livenessPath ? { livenessPath: cmd.livenessPath } : {}) });
      addOperatorChecks(health, operator);
      await listen(health, cmd.healthAddress, 'health probes', '--health-address');
      servers.push(health);
    }
    if (metrics && cmd.metricsAddress !== undefined) {
      const scrape = new HealthServer({ bindAddress: cmd.metricsAddress, logger, metrics, probes: false });
      await listen(scrape, cmd.metricsAddress, 'metrics', '--metrics-address');
      servers.push(scrape);
    }
    // With --jit lazy main.ts deferred the optimizing compilers; the operator's first busy second turns them on.
    processJit.watch(logger);
    await runUntilSignalled(operator);
  } finally {
    processJit.stop();
    for (const server of servers) await server.stop();
    client.close();
  }
  const health = operator.health();
  const lost = health.leaderElection?.lost ?? health.sharding?.lost;
  if (lost !== undefined) {
    // controller-runtime exits at once; a handler that ignores its abort signal must not keep
    // this process (and its writes) alive beside the new leader.
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 1_000).unref();
    return 1;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

/** Starts a server; a port in use or not ours to bind is one line naming the port and the flag. */
async function listen(server: HealthServer, address: string, what: string, flag: string): Promise<void> {
  try {
    await server.start();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const port = address.slice(address.lastIndexOf(':') + 1);
    if (code === 'EADDRINUSE') throw new CliError(`port ${port} is in use (${what}); choose another with ${flag} or stop the other process`, 2);
    if (code === 'EACCES') throw new CliError(`port ${port} needs privileges to bind (${what}); choose one above 1023 with ${flag}`, 2);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CliError(`${flag} ${address}: no such address on this machine; use :${port} for every interface`, 2);
    throw err;
  }
}

/** `--leader-elect` with its defaults: the first resource's `<plural>.<group>`, in the client's namespace. */
function leaderElectionOf(cmd: RunCommand, registry: Registry, client: KubeClient): LeaderElectionOptions | undefined {
  if (!cmd.leaderElection) return undefined;
  const first = registry.resources[0]?.resource;
  const lease = cmd.leaderElection.leaseName ?? (first ? resourceName(first) : undefined);
  if (lease === undefined) throw new CliError('--leader-elect needs --lease-name when the files register no resource', 2);
  return { lease, namespace: cmd.leaderElection.leaseNamespace ?? client.namespace };
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
