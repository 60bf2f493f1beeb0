/**
 * The typed options of each subcommand, as `args.ts` parses them and the subcommands' modules take
 * them. Apart from `args.ts` so that a subcommand's module, which `args.ts` loads on use, never
 * imports its loader back.
 */
import type { Concurrency } from '../engine/concurrency.ts';
import type { JitMode } from './jit.ts';

export type LogFormat = 'json' | 'plain';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface RunCommand {
  command: 'run';
  files: string[];
  /** Namespace names or globs (`team-*`); empty means all namespaces, as `--all-namespaces` does. */
  namespaces: string[];
  allNamespaces: boolean;
  context: string | undefined;
  kubeconfig: string | undefined;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** `host:port` for /healthz and /readyz; undefined serves none. */
  healthAddress: string | undefined;
  /** A path answering as /healthz, from `--liveness`'s URL (kopf's); undefined: /healthz only. */
  livenessPath: string | undefined;
  /** `host:port` for /metrics; undefined serves none. */
  metricsAddress: string | undefined;
  /** Objects handled at once per resource (`--concurrency`): fixed or a range; undefined keeps the default, adaptive from 8 to 64. */
  concurrency: Concurrency | undefined;
  /** Run the handlers only while holding a Lease; undefined without `--leader-elect`. */
  leaderElection: { leaseName: string | undefined; leaseNamespace: string | undefined } | undefined;
  /** Share the objects among replicas (`--shard-ring`); undefined: not sharded. */
  sharding: { ring: string; namespace: string | undefined } | undefined;
  /** Serve the namespaces whose labels match (`--namespace-selector`); undefined: no selector. */
  namespaceSelector: string | undefined;
  /** OpenTelemetry spans of every handling cycle and API request (`--tracing`). */
  tracing: boolean;
  /** Type-check the project before starting (`--check`, the default for `.ts` files outside production). */
  check: boolean;
  /** The tsconfig for the check; undefined finds the nearest one above the first file. */
  tsconfig: string | undefined;
  /** When V8's optimizing compilers start (`--jit`): at the first busy second (`lazy`, the default) or from the start (`eager`). */
  jit: JitMode;
}

export interface GenerateCommand {
  command: 'crd' | 'rbac';
  files: string[];
  /** For rbac: the operator's name and namespace (ServiceAccount and bindings). */
  name: string;
  namespace: string;
  /** For rbac: the operator selects namespaces by label (adds list/watch on namespaces). */
  namespaceSelector?: boolean;
  /** For rbac: the operator shards its objects (adds list/delete on its Leases). */
  sharding?: boolean;
  /** For rbac: namespaced Roles for these namespaces instead of a ClusterRole. */
  watchNamespaces: string[];
  /**
   * For crd: where a conversion webhook is reached, a Service (`{ service }`) or a base URL
   * (`{ url }`). Default: the local-development URL (`localConversionClientConfig`).
   */
  conversion?: { service: { namespace: string; name: string; port: number } } | { url: string };
}

/** `operon webhooks`: the webhook configurations (and Service) for GitOps users. */
export interface WebhooksCommand {
  command: 'webhooks';
  files: string[];
  /** The operator's name: it names the Service and the cert-manager Certificate. */
  name: string;
  /** The namespace the operator and its webhook Service run in. */
  namespace: string;
  /** The Service in front of the webhook server; default `<name>-webhooks`. */
  service: string;
  /** The port the webhook server listens on in the pod; default `defaults.webhooks.port`. */
  port: number;
  /** Add cert-manager's Issuer, Certificate and CA-injection annotation. */
  certManager: boolean;
}

export interface CheckCommand {
  command: 'check';
  /** Files whose nearest tsconfig is checked; empty means the current directory's. */
  files: string[];
  tsconfig: string | undefined;
}

/** `operon prepare`'s options. */
export interface PrepareCommand {
  command: 'prepare';
  /** The operator's files, as `operon run` is given them. */
  files: string[];
  /** The user the operator runs as, when it is not this one: Node names the cache's folder after it. */
  uid: number | undefined;
  /** The `--jit` the operator runs with: the files compile under the V8 flags it sets, or V8 refuses the cached code. */
  jit: JitMode;
}

/** `operon init`'s options (defaults: `defaults.init` in src/defaults.ts). */
export interface InitCommand {
  command: 'init';
  /** The project folder; created when missing. */
  dir: string;
  group: string;
  kind: string;
  version: string;
}

/** `operon cluster`'s options. */
export interface ClusterCommand {
  command: 'cluster';
  action: 'up' | 'status' | 'env' | 'restart' | 'down' | 'reset';
  /** For restart: the component. */
  component: string | undefined;
  quiet: boolean;
}

/** `operon add resource`'s options; group and version default to the project's (package.json `operon`). */
export interface AddResourceCommand {
  command: 'add-resource';
  /** The project folder. */
  dir: string;
  kind: string;
  group: string | undefined;
  version: string | undefined;
}
