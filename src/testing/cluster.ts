/**
 * A real cluster for a test file: envtest's role (an API server to test against, CRDs installed),
 * plus what envtest lacks (garbage collection, a scheduler, nodes) when it is Operon's local plane.
 *
 * Guarantees:
 * - A kubeconfig given (option, else `KUBECONFIG`) is used as it is; nothing is started.
 * - Otherwise the local plane (`operon cluster up`) is reused when healthy, else started; test
 *   processes running at once wait on one lock instead of starting two planes.
 * - Namespaces made by `namespace()` are deleted when the test file's tests end, and the file's end
 *   waits until they are gone (at most `defaults.testing.namespaceDeleteTimeoutMs` each), then
 *   closes the client. This is one node:test `after` hook, registered by `startCluster`; node:test
 *   runs a file's `after` hooks in the order they were registered, so an operator whose
 *   `after(() => run.stop())` comes later in the file is still running while its objects are
 *   deleted, and removes its finalizers from them. An operator stopped earlier (in a `describe`'s
 *   own `after`) leaves objects that carry its finalizer: the wait then ends at the timeout with a
 *   line on stderr naming the namespace and what holds it.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { after } from 'node:test';
import { KubeClient } from '../client/client.ts';
import { isApiError } from '../client/errors.ts';
import { loadClusterConfig } from '../client/kubeconfig.ts';
import type { KubeObject } from '../client/types.ts';
import { defaultStateDir, readState, status, up } from '../cluster/plane.ts';
import { builtin, type CustomResource } from '../schema/resource.ts';
import { toCrd } from '../manifests/crd.ts';
import { defaults } from '../defaults.ts';

/** Options of {@link startCluster}. */
export interface StartClusterOptions {
  /** A kubeconfig file to use. Default: `KUBECONFIG`, else the local plane's. */
  kubeconfig?: string;
  /** The local plane's state folder. Default: as `operon cluster` chooses it (OPERON_CONTROLPLANE_DIR, the project's .operon/cluster, …). */
  stateDir?: string;
  /** Progress lines of a plane being started. Default: stderr. */
  log?: (line: string) => void;
}

/** A cluster for tests, as {@link startCluster} returns it. */
export interface TestCluster {
  /** The kubeconfig file in use. */
  readonly kubeconfig: string;
  /** A client for the test's own requests (and for `startOperator`). */
  readonly client: KubeClient;
  /** Creates a namespace named `<prefix>-<random>`, deleted after this file's tests (the file's end waits until it is gone). */
  namespace(prefix?: string): Promise<string>;
  /**
   * Applies the CRDs of these resources (from their TypeBox declarations) and waits until each is
   * Established. They stay installed after the tests: a CRD is cluster-wide, and deleting it would
   * delete every object of its kind in every namespace, other test files' included. Against a
   * shared cluster (`KUBECONFIG`), that is a change to the cluster. A later client-side `kubectl
   * apply` of the same CRD warns once that the last-applied annotation is missing, and adds it.
   */
  installCrds(resources: readonly CustomResource[]): Promise<void>;
}

const namespaces = builtin('v1', 'Namespace');
type CrdObject = KubeObject<unknown, { conditions?: Array<{ type: string; status: string }> }>;
const crds = builtin<CrdObject>('apiextensions.k8s.io/v1', 'CustomResourceDefinition', {
  plural: 'customresourcedefinitions',
  scope: 'Cluster',
});

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Deletes namespace `name` and waits until it is gone, at most `timeoutMs`; at the timeout, says on
 * stderr what the namespace controller reports holding it (objects with finalizers) and returns.
 * Never throws: a test's result does not depend on its cleanup.
 */
async function deleteNamespace(client: KubeClient, name: string, timeoutMs: number): Promise<void> {
  const gone = async (): Promise<boolean> => {
    try {
      await client.get(namespaces, name);
      return false;
    } catch (err) {
      if (isApiError(err, 'NotFound')) return true;
      throw err;
    }
  };
  try {
    await client.delete(namespaces, name);
    await until(`namespace ${name} to be deleted`, timeoutMs, gone);
  } catch (err) {
    if (isApiError(err, 'NotFound')) return;
    const held = await client.get(namespaces, name).then(
      (ns) => (ns.status as { conditions?: Array<{ type: string; status: string; message?: string }> } | undefined)?.conditions?.filter((c) => c.status === 'True' && c.message).map((c) => c.message),
      () => undefined,
    );
    // The namespace controller's conditions name the finalizers still held; then the usual cause is an operator stopped too early.
    const advice = held?.length
      ? `: ${held.join('; ')}. An object in it keeps a finalizer of an operator that stopped first: register the operator's after(() => run.stop()) after startCluster(), at the file's top level, so it runs once the namespaces are gone`
      : '';
    process.stderr.write(`operon-k8s/testing: namespace ${name} was not deleted (${err instanceof Error ? err.message : String(err)})${advice}\n`);
  }
}

async function localPlane(dir: string, log: (line: string) => void): Promise<string> {
  const now = await status(dir);
  if (now.healthy && now.state) return now.state.kubeconfig;
  const lock = `${dir}.lock`;
  try {
    mkdirSync(lock, { recursive: false });
  } catch {
    // Another test process is starting it: a cold build can take many minutes.
    await until('another test process to start the local cluster', 60 * 60_000, async () => {
      try {
        statSync(lock);
        return false;
      } catch {
        return true;
      }
    });
    const state = readState(dir);
    if (!state) throw new Error(`the local cluster in ${dir} failed to start in another test process`);
    return state.kubeconfig;
  }
  try {
    return (await up({ dir, log })).kubeconfig;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * A cluster for this test file: the one `KUBECONFIG` names, else the local plane, started when
 * needed.
 *
 * @example
 * ```ts
 * const cluster = await startCluster();
 * const ns = await cluster.namespace('echo');
 * await cluster.installCrds([echos]);
 * const run = startOperator(defaultRegistry, { client: cluster.client, namespaces: [ns] });
 * ```
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<TestCluster> {
  const given = options.kubeconfig ?? (process.env['KUBECONFIG'] || undefined);
  const kubeconfig = given ?? (await localPlane(options.stateDir ?? defaultStateDir, options.log ?? ((line) => process.stderr.write(`${line}\n`))));
  const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig }));
  const made: string[] = [];
  // One hook, registered before any operator's: the namespaces go while those operators still run, then the client's connections close.
  after(async () => {
    await Promise.all(made.map((name) => deleteNamespace(client, name, defaults.testing.namespaceDeleteTimeoutMs)));
    client.close();
  });
  return {
    kubeconfig,
    client,
    async namespace(prefix = 'test') {
      const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
      await client.create(namespaces, { metadata: { name } });
      made.push(name);
      return name;
    },
    async installCrds(resources) {
      for (const r of resources) {
        const crd = toCrd(r) as unknown as CrdObject;
        try {
          await client.create(crds, crd);
        } catch (err) {
          if (!isApiError(err, 'AlreadyExists')) throw err;
          const current = await client.get(crds, r.crdName);
          await client.replace(crds, { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata.resourceVersion } });
        }
        await until(`CRD ${r.crdName} to be Established`, 60_000, async () => {
          const got = await client.get(crds, r.crdName);
          return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
        });
      }
    },
  };
}
