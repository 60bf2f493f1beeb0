/**
 * The `operon` command line: one table of subcommands, each declaring its flags (with defaults and
 * help) once, turning them into typed options, and loading its implementation only when run, so
 * `operon run` never pays for the YAML writer or the type checker. Adding a subcommand is one
 * entry in {@link SUBCOMMANDS}. Bad input never throws past this module: it yields a `usage`
 * result with the message to print and exit code 2, as kopf and kubectl do for usage errors.
 */
import type { Concurrency } from '../engine/concurrency.ts';
import { defaults } from '../defaults.ts';
import { flagHelp, isUsage, parseFlags, closest, wantsHelp, type FlagTable, type ParsedFlags, type Usage } from './flags.ts';
import type { JitMode } from './jit.ts';
import type { AddResourceCommand, CheckCommand, ClusterCommand, GenerateCommand, InitCommand, LogLevel, PrepareCommand, RunCommand, WebhooksCommand } from './options.ts';

/** What the environment contributes to parsing: whether stderr is a terminal, and `NODE_ENV`. */
export interface ParseEnv {
  isTty: boolean;
  production: boolean;
}

/** One subcommand: its flags and help, how its options are parsed, and how it runs (loaded on use). */
export interface Subcommand {
  name: string;
  /** One line for `operon --help`. */
  summary: string;
  synopsis: string;
  description: string;
  flags: FlagTable;
  /** Turns parsed flags into an invocation, or a usage error. */
  invoke(parsed: ParsedFlags, env: ParseEnv): Invocation | Usage;
}

/** A parsed subcommand, ready to run. `options` is what its parser made, for tests and logs. */
export interface Invocation {
  options: object;
  run(): Promise<number>;
}

/** Declares a subcommand whose options are typed from its parser to its runner. */
export function subcommand<T extends object>(spec: {
  name: string;
  summary: string;
  synopsis: string;
  description: string;
  flags: FlagTable;
  parse(parsed: ParsedFlags, env: ParseEnv): T | Usage;
  run(options: T): Promise<number>;
}): Subcommand {
  return {
    name: spec.name,
    summary: spec.summary,
    synopsis: spec.synopsis,
    description: spec.description,
    flags: spec.flags,
    invoke(parsed, env) {
      const options = spec.parse(parsed, env);
      return isUsage(options) ? options : { options, run: () => spec.run(options) };
    },
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** `--jit`, for `run` and for `prepare`, which compiles the operator's files under the same V8 flags. */
const JIT_FLAG = { type: 'string', placeholder: 'WHEN', help: "when V8's optimizing compilers start: lazy (at the operator's first busy second: an idle operator stays about 6 MiB smaller) or eager (from the start, as node does)", defaultText: defaults.memory.jit } as const;

/** `--jit`'s value, or the usage error. */
function jitOf(v: ParsedFlags['values']): JitMode | Usage {
  const jit = str(v.jit) ?? defaults.memory.jit;
  return jit === 'lazy' || jit === 'eager' ? jit : { usage: `--jit must be lazy or eager, not "${jit}"` };
}

export const RUN_FLAGS = {
  namespace: { type: 'string', short: 'n', multiple: true, placeholder: 'NS', help: "watch this namespace; globs like 'team-*' allowed", defaultText: 'all namespaces' },
  'all-namespaces': { type: 'boolean', short: 'A', help: 'watch all namespaces' },
  'namespace-selector': { type: 'string', placeholder: 'SEL', help: "serve the namespaces whose labels match, followed as they change, e.g. 'operon.dev/watch=true'", defaultText: 'every namespace' },
  context: { type: 'string', placeholder: 'NAME', help: 'kubeconfig context', defaultText: "the kubeconfig's current context" },
  kubeconfig: { type: 'string', placeholder: 'PATH', help: 'kubeconfig file', defaultText: '$KUBECONFIG, ~/.kube/config, in-cluster' },
  verbose: { type: 'boolean', help: 'log at debug level: every handler run, watch reconnect and write' },
  debug: { type: 'boolean', help: 'log at trace level: everything, for debugging Operon itself' },
  quiet: { type: 'boolean', help: 'log warnings and errors only (the default level is info)' },
  'log-format': { type: 'string', placeholder: 'F', help: 'json or plain', defaultText: 'json off a terminal, plain on one' },
  'health-address': { type: 'string', placeholder: 'ADDR', help: 'serve /healthz and /readyz at host:port, e.g. :8081 (controller-runtime\'s probe port)', defaultText: 'not served' },
  'metrics-address': { type: 'string', placeholder: 'ADDR', help: "serve /metrics at host:port, e.g. :8080 (controller-runtime's metrics port)", defaultText: 'not served' },
  liveness: { type: 'string', placeholder: 'URL', help: 'kopf\'s spelling of --health-address, e.g. http://0.0.0.0:8081/healthz' },
  concurrency: { type: 'string', placeholder: 'N|MIN-MAX', help: "objects handled at once per resource (controller-runtime's MaxConcurrentReconciles): N fixes it, MIN-MAX lets it adapt", defaultText: '8-64, adaptive' },
  tracing: { type: 'boolean', help: 'OpenTelemetry spans per handling cycle and API request; register an SDK and exporter first, e.g. node --import @opentelemetry/auto-instrumentations-node/register' },
  'leader-elect': { type: 'boolean', help: 'run handlers only while holding a Lease, so several replicas can run' },
  'lease-name': { type: 'string', placeholder: 'N', help: "the Lease's name", defaultText: '<plural>.<group> of the first resource' },
  'lease-namespace': { type: 'string', placeholder: 'NS', help: "the Lease's namespace (with --shard-ring, the shard Leases' too)", defaultText: "the pod's, or the context's namespace" },
  'shard-ring': { type: 'string', placeholder: 'RING', help: 'share the objects among all replicas: each handles its shard of the ring RING (one ring per operator)', defaultText: 'not sharded' },
  check: { type: 'boolean', negatable: true, help: 'type-check the project (as operon check) before starting', defaultText: 'on for .ts files unless NODE_ENV=production' },
  tsconfig: { type: 'string', placeholder: 'PATH', help: 'the tsconfig to check with', defaultText: 'the nearest tsconfig.json above the first file, or the current directory' },
  jit: JIT_FLAG,
} as const satisfies FlagTable;

/** `operon run`'s options from parsed flags. */
export function runOptions({ values: v, positionals }: ParsedFlags, env: ParseEnv): RunCommand | Usage {
  const usage = (message: string): Usage => ({ usage: message });
  if (positionals.length === 0) return usage('needs at least one operator file, e.g. operon run operator.ts');
  const namespaces = list(v.namespace);
  if (v['all-namespaces'] === true && namespaces.length > 0) return usage('--all-namespaces and --namespace exclude each other');
  for (const ns of namespaces) {
    if (!/^[a-z0-9*?!-][a-z0-9*?.-]*$/.test(ns)) return usage(`--namespace "${ns}" is not a namespace name or glob`);
  }
  // kopf's meaning: --verbose shows what the operator does, --debug also how Operon does it.
  const levels = [v.debug === true && 'trace', v.quiet === true && 'warn', v.verbose === true && 'debug'].filter(Boolean);
  if (levels.length > 1) return usage('choose one of --debug, --verbose and --quiet');
  const format = str(v['log-format']) ?? (env.isTty ? 'plain' : 'json');
  if (format !== 'json' && format !== 'plain') return usage(`--log-format must be json or plain, not "${format}"`);
  let healthAddress = str(v['health-address']);
  let livenessPath: string | undefined;
  const liveness = str(v.liveness);
  if (liveness !== undefined) {
    try {
      const url = new URL(liveness);
      healthAddress = `${url.hostname}:${url.port || '80'}`;
      // kopf probes whatever path the URL names; /healthz and /readyz are served as well.
      if (url.pathname !== '/' && url.pathname !== '/healthz') livenessPath = url.pathname;
    } catch {
      return usage(`--liveness "${liveness}" is not a URL (e.g. http://0.0.0.0:8081/healthz)`);
    }
  }
  if (healthAddress !== undefined && !/^[^:]*:\d+$/.test(healthAddress)) return usage(`--health-address "${healthAddress}" must be host:port, e.g. :8081`);
  const metricsAddress = str(v['metrics-address']);
  if (metricsAddress !== undefined && !/^[^:]*:\d+$/.test(metricsAddress)) return usage(`--metrics-address "${metricsAddress}" must be host:port, e.g. :8080`);
  if (healthAddress !== undefined && healthAddress === metricsAddress && !healthAddress.endsWith(':0')) {
    return usage(`--health-address and --metrics-address are both ${healthAddress}: give each its own port (e.g. :8081 and :8080)`);
  }
  let concurrency: Concurrency | undefined;
  const c = str(v.concurrency);
  if (c !== undefined) {
    const range = /^(\d+)-(\d+)$/.exec(c);
    const [min, max] = range ? [Number(range[1]), Number(range[2])] : /^\d+$/.test(c) ? [Number(c), Number(c)] : [Number.NaN, Number.NaN];
    // Above a few hundred in flight an operator floods its API server rather than speeding up.
    if (!(min >= 1 && max <= 1000 && min <= max)) return usage(`--concurrency "${c}" must be a whole number from 1 to 1000, or a range such as 8-64 (lowest first)`);
    concurrency = range ? { min, max } : min;
  }
  const leaseName = str(v['lease-name']);
  const leaseNamespace = str(v['lease-namespace']);
  const elect = v['leader-elect'] === true;
  const shardRing = str(v['shard-ring']);
  if (!elect && leaseName !== undefined) return usage('--lease-name needs --leader-elect');
  if (!elect && shardRing === undefined && leaseNamespace !== undefined) return usage('--lease-namespace needs --leader-elect or --shard-ring');
  if (shardRing !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/.test(shardRing)) {
    return usage(`--shard-ring "${shardRing}" is not a valid ring name (at most 63 lowercase letters, digits, '-' and '.'; it becomes part of a label key)`);
  }
  if (leaseName !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(leaseName)) {
    return usage(`--lease-name "${leaseName}" is not a valid object name (lowercase letters, digits, '-' and '.')`);
  }
  if (leaseNamespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(leaseNamespace)) return usage(`--lease-namespace "${leaseNamespace}" is not a namespace name`);
  // Checking is the development default: source files mean a developer's machine; the image runs
  // compiled .js under NODE_ENV=production, where a check would only cost start-up time.
  const check = typeof v.check === 'boolean' ? v.check : !env.production && positionals.some((f) => /\.[mc]?tsx?$/.test(f));
  const jit = jitOf(v);
  if (isUsage(jit)) return jit;
  return {
    command: 'run',
    files: positionals,
    namespaces,
    allNamespaces: v['all-namespaces'] === true,
    context: str(v.context),
    kubeconfig: str(v.kubeconfig),
    logLevel: (levels[0] as LogLevel | undefined) ?? 'info',
    logFormat: format,
    healthAddress,
    livenessPath,
    metricsAddress,
    concurrency,
    leaderElection: elect ? { leaseName, leaseNamespace } : undefined,
    sharding: shardRing !== undefined ? { ring: shardRing, namespace: leaseNamespace } : undefined,
    tracing: v.tracing === true,
    namespaceSelector: str(v['namespace-selector']),
    check,
    tsconfig: str(v.tsconfig),
    jit,
  };
}

const GENERATE_FLAGS = {
  name: { type: 'string', placeholder: 'N', help: "for rbac: the operator's name (ServiceAccount, roles, bindings)", defaultText: 'operator' },
  namespace: { type: 'string', placeholder: 'NS', help: "for rbac: the operator's namespace", defaultText: 'default' },
  'watch-namespace': { type: 'string', short: 'w', multiple: true, placeholder: 'NS', help: 'for rbac: namespaced Roles for this namespace instead of a ClusterRole' },
  'namespace-selector': { type: 'boolean', help: 'for rbac: the operator runs with --namespace-selector (adds list/watch on namespaces)' },
  sharded: { type: 'boolean', help: 'for rbac: the operator runs with --shard-ring (adds list/delete on its Leases)' },
} as const satisfies FlagTable;

const CRD_FLAGS = {
  'conversion-service': { type: 'string', placeholder: 'NS/NAME[:PORT]', help: "the Service the API server calls for conversions (the operator's webhook Service; port default 443)" },
  'conversion-url': { type: 'string', placeholder: 'URL', help: 'the https base URL the API server calls for conversions', defaultText: `https://127.0.0.1:${defaults.webhooks.port}` },
} as const satisfies FlagTable;

function generateOptions(command: 'crd' | 'rbac') {
  return ({ values, positionals }: ParsedFlags): GenerateCommand | Usage => {
    if (positionals.length === 0) return { usage: `needs at least one file that declares resources, e.g. operon ${command} operator.ts` };
    const conversion = conversionOption(str(values['conversion-service']), str(values['conversion-url']));
    if (conversion && 'usage' in conversion) return conversion;
    return {
      command,
      files: positionals,
      name: str(values.name) ?? 'operator',
      namespace: str(values.namespace) ?? 'default',
      watchNamespaces: list(values['watch-namespace']),
      namespaceSelector: values['namespace-selector'] === true,
      sharding: values.sharded === true,
      ...(conversion ? { conversion } : {}),
    };
  };
}

/** `--conversion-service ns/name[:port]` or `--conversion-url https://host:port`, checked. */
function conversionOption(service: string | undefined, url: string | undefined): GenerateCommand['conversion'] | Usage | undefined {
  if (service !== undefined && url !== undefined) return { usage: 'give --conversion-service or --conversion-url, not both (a CRD names exactly one)' };
  if (url !== undefined) {
    if (!/^https:\/\/[^/?#@]+\/?$/.test(url)) return { usage: `--conversion-url ${url} is not an https base URL; use e.g. https://127.0.0.1:9443` };
    return { url: url.replace(/\/+$/, '') };
  }
  if (service === undefined) return undefined;
  const match = /^([a-z0-9-]+)\/([a-z0-9-]+)(?::(\d+))?$/.exec(service);
  const port = Number(match?.[3] ?? 443);
  if (!match || port < 1 || port > 65535) return { usage: `--conversion-service ${service} is not <namespace>/<name>[:<port>]; use e.g. ops/crypto-operator-webhooks` };
  return { service: { namespace: match[1] as string, name: match[2] as string, port } };
}

const WEBHOOKS_FLAGS = {
  name: { type: 'string', placeholder: 'N', help: "the operator's name (names the Service and the Certificate)" },
  namespace: { type: 'string', placeholder: 'NS', help: 'the namespace the operator and its webhook Service run in' },
  service: { type: 'string', placeholder: 'S', help: 'the webhook Service', defaultText: '<name>-webhooks' },
  port: { type: 'string', placeholder: 'P', help: "the webhook server's port in the pod", defaultText: String(defaults.webhooks.port) },
  'cert-manager': { type: 'boolean', help: "add cert-manager's Issuer, Certificate and CA-injection annotation" },
} as const satisfies FlagTable;

function webhooksOptions({ values, positionals }: ParsedFlags): WebhooksCommand | Usage {
  const name = str(values.name);
  const namespace = str(values.namespace);
  if (positionals.length === 0 || !name || !namespace) return { usage: 'give the operator files, --name and --namespace, e.g. operon webhooks operator.ts --name crypto --namespace ops' };
  const p = str(values.port);
  const port = p === undefined ? defaults.webhooks.port : Number(p);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { usage: `--port ${p} is not a port number (1-65535)` };
  return { command: 'webhooks', files: positionals, name, namespace, service: str(values.service) ?? `${name}-webhooks`, port, certManager: values['cert-manager'] === true };
}

const CHECK_FLAGS = {
  tsconfig: RUN_FLAGS.tsconfig,
} as const satisfies FlagTable;

const PREPARE_FLAGS = {
  uid: { type: 'string', placeholder: 'UID', help: 'the user the operator runs as (Node names the cache after it)', defaultText: 'this user' },
  jit: { ...JIT_FLAG, help: 'the --jit the operator runs with: V8 takes compiled code from the cache only under the flags it was compiled with' },
} as const satisfies FlagTable;

const INIT_FLAGS = {
  group: { type: 'string', placeholder: 'G', help: "the API group, a DNS subdomain with a dot (a domain you own)", defaultText: defaults.init.group },
  kind: { type: 'string', placeholder: 'K', help: 'the resource kind, UpperCamelCase', defaultText: defaults.init.kind },
  version: { type: 'string', placeholder: 'V', help: 'the API version: v1, v1beta1, v1alpha1 …', defaultText: defaults.init.version },
} as const satisfies FlagTable;

/** Every subcommand, in the order `operon --help` lists them. */
export const SUBCOMMANDS: readonly Subcommand[] = [
  subcommand({
    name: 'init',
    summary: 'create an operator project: a resource, a handler, a test, manifests',
    synopsis: 'operon init [<dir>] [--group G] [--kind K] [--version V]',
    description:
      'Writes a working project into <dir> (default: the current directory): package.json depending on operon-k8s, a strict tsconfig, src/ with one resource and its reconcile handler, a test against a real cluster, config/ (CRD, RBAC, Deployment; kustomize), a Dockerfile and a README. Refuses to overwrite any file.',
    flags: INIT_FLAGS,
    parse: ({ values, positionals }): InitCommand | Usage => {
      if (positionals.length > 1) return { usage: `takes one folder, got ${positionals.length}: ${positionals.join(' ')}` };
      const { group, kind, version } = defaults.init;
      return { command: 'init', dir: positionals[0] ?? '.', group: str(values.group) ?? group, kind: str(values.kind) ?? kind, version: str(values.version) ?? version };
    },
    run: async (o) => (await import('./init.ts')).initCommand(o),
  }),
  subcommand({
    name: 'run',
    summary: 'run the handlers the files register',
    synopsis: 'operon run <file.ts|file.js>... [flags]',
    description: 'Loads the operator files, type-checks them (for .ts files, unless --no-check), checks the cluster serves their CRDs, and runs until SIGTERM or SIGINT.',
    flags: RUN_FLAGS,
    parse: runOptions,
    run: async (o) => (await import('./run.ts')).runCommand(o),
  }),
  subcommand({
    name: 'add',
    summary: 'add a resource to a project: operon add resource <Kind>',
    synopsis: 'operon add resource <Kind> [--group G] [--version V] [--dir D]',
    description:
      "Writes src/<kind>.ts (the resource's TypeBox declaration and a reconcile handler) into a project operon init made, and re-exports it from src/operator.ts; then npm run generate updates config/. The group and version default to the project's (package.json \"operon\").",
    flags: {
      group: { type: 'string', placeholder: 'G', help: 'the API group', defaultText: "the project's" },
      version: { type: 'string', placeholder: 'V', help: 'the API version', defaultText: "the project's" },
      dir: { type: 'string', placeholder: 'D', help: 'the project folder', defaultText: 'the current directory' },
    },
    parse: ({ values, positionals }): AddResourceCommand | Usage => {
      const [what, kind, ...extra] = positionals;
      if (what !== 'resource') return { usage: `${what === undefined ? 'needs what to add' : `cannot add "${what}"`}: operon add resource <Kind>` };
      if (kind === undefined) return { usage: 'needs the kind: operon add resource <Kind>, e.g. operon add resource Backup' };
      if (extra.length > 0) return { usage: `too many arguments: ${extra.join(' ')}` };
      return { command: 'add-resource', dir: str(values.dir) ?? '.', kind, group: str(values.group), version: str(values.version) };
    },
    run: async (o) => (await import('./init.ts')).addResourceCommand(o),
  }),
  subcommand({
    name: 'cluster',
    summary: 'a local Kubernetes cluster: up, status, env, restart, down, reset',
    synopsis: 'operon cluster <up|status|env|restart <component>|down|reset> [--quiet]',
    description:
      'A real local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok nodes) built from the package\'s recipe; Go >= 1.26 builds it once into ~/.cache/operon. State: OPERON_CONTROLPLANE_DIR, else .operon/cluster in the project, else $XDG_CACHE_HOME/operon/cluster. up never deletes anything; down and reset delete the state, etcd data included.',
    flags: { quiet: { type: 'boolean', help: 'no progress lines' } },
    parse: ({ values, positionals }): ClusterCommand | Usage => {
      const [action, component, ...extra] = positionals;
      const actions = ['up', 'status', 'env', 'restart', 'down', 'reset'] as const;
      const known = actions.find((a) => a === action);
      if (known === undefined) return { usage: `${action === undefined ? 'needs an action' : `unknown action "${action}"`}: one of ${actions.join(', ')}` };
      if (known !== 'restart' && component !== undefined) return { usage: `${known} takes no argument, got "${component}"` };
      if (extra.length > 0) return { usage: `too many arguments: ${extra.join(' ')}` };
      return { command: 'cluster', action: known, component, quiet: values.quiet === true };
    },
    run: async (o) => (await import('./cluster.ts')).clusterCommand(o),
  }),
  subcommand({
    name: 'check',
    summary: 'type-check the project with its tsconfig (tsc --noEmit)',
    synopsis: 'operon check [<file>...] [--tsconfig PATH]',
    description: "Type-checks the project with its own tsconfig and TypeScript (from the project's node_modules), so a typo in a spec or status field fails before anything runs.",
    flags: CHECK_FLAGS,
    parse: ({ values, positionals }): CheckCommand => ({ command: 'check', files: positionals, tsconfig: str(values.tsconfig) }),
    run: async (o) => (await import('./check.ts')).checkCommand(o),
  }),
  subcommand({
    name: 'prepare',
    summary: "strip the operator's types once, for its image (Node's compile cache)",
    synopsis: 'operon prepare <file>... [--uid UID] [--jit WHEN]',
    description:
      "Loads the operator files as operon crd does (nothing connects to a cluster) with Node's compile cache on, and writes it: an operator started later from the same files never strips their types again, which saves the stripper's 28 MiB of resident memory. Run it when the image is built, with NODE_COMPILE_CACHE (and NODE_COMPILE_CACHE_PORTABLE=1 if the files move) set as the image sets them.",
    flags: PREPARE_FLAGS,
    parse: ({ values, positionals }): PrepareCommand | Usage => {
      if (positionals.length === 0) return { usage: 'needs the operator files, e.g. operon prepare src/operator.ts' };
      const uid = str(values.uid);
      if (uid !== undefined && !/^\d{1,10}$/.test(uid)) return { usage: `--uid wants a numeric user id, e.g. 65532, not ${JSON.stringify(uid)}` };
      const jit = jitOf(values);
      if (isUsage(jit)) return jit;
      return { command: 'prepare', files: positionals, uid: uid === undefined ? undefined : Number(uid), jit };
    },
    run: async (o) => (await import('./compile-cache.ts')).prepareCommand(o),
  }),
  subcommand({
    name: 'crd',
    summary: 'print the CRDs of the resources the files declare',
    synopsis: 'operon crd <file>... [--conversion-service NS/NAME[:PORT] | --conversion-url URL]',
    description:
      "Prints the CustomResourceDefinitions of the resources the files export, as YAML for kubectl apply -f -. A kind with several versions gets a conversion webhook at the operator's webhook server: the local-development URL unless --conversion-service names the operator's Service in a cluster.",
    flags: CRD_FLAGS,
    parse: generateOptions('crd'),
    run: async (o) => {
      process.stdout.write(await (await import('./crd.ts')).crdCommand(o.files, o.conversion));
      return 0;
    },
  }),
  subcommand({
    name: 'rbac',
    summary: 'print the least-privilege RBAC the operator needs',
    synopsis: 'operon rbac <file>... [--name N] [--namespace NS] [-w NS]...',
    description: 'Prints the ServiceAccount, roles and bindings the operator the files define needs, as YAML for kubectl apply -f -.',
    flags: GENERATE_FLAGS,
    parse: generateOptions('rbac'),
    run: async (o) => {
      process.stdout.write(await (await import('./rbac.ts')).rbacCommand(o));
      return 0;
    },
  }),
  subcommand({
    name: 'webhooks',
    summary: 'print the webhook configurations (and Service) for GitOps',
    synopsis: 'operon webhooks <file>... --name N --namespace NS [--service S] [--port P] [--cert-manager]',
    description: "Prints the Validating/MutatingWebhookConfigurations of the files' validate and mutate handlers and their Service, for teams that keep manifests in Git instead of letting the operator patch them.",
    flags: WEBHOOKS_FLAGS,
    parse: webhooksOptions,
    run: async (o) => {
      process.stdout.write(await (await import('./webhooks.ts')).webhooksYaml(o));
      return 0;
    },
  }),
];

/** `operon --help`: the subcommands; each one's flags are in `operon <command> --help`. */
export function mainHelp(subcommands: readonly Subcommand[] = SUBCOMMANDS): string {
  const width = Math.max(...subcommands.map((s) => s.name.length), 'version'.length);
  const rows = [...subcommands.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`), `  ${'version'.padEnd(width)}  print the version`];
  return `operon — Kubernetes operators in TypeScript (npm package operon-k8s)\n\nUsage: operon <command> [flags]\n\nCommands:\n${rows.join('\n')}\n\nRun 'operon <command> --help' for a command's flags and their defaults.\n`;
}

export type Command =
  | { command: 'help'; text: string }
  | { command: 'version' }
  | { command: 'usage'; message: string; exitCode: 2 }
  | ({ command: 'invoke'; name: string } & Invocation);

/**
 * Parses `argv` (without `node` and the script).
 *
 * @example
 * ```ts
 * const c = parseCommand(['run', 'operator.ts', '-n', 'team-*', '--debug']);
 * if (c.command === 'invoke') await c.run();
 * ```
 */
export function parseCommand(argv: readonly string[], env: Partial<ParseEnv> = {}, subcommands: readonly Subcommand[] = SUBCOMMANDS): Command {
  const full: ParseEnv = { isTty: env.isTty ?? false, production: env.production ?? false };
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? subcommands.find((s) => s.name === rest[0]) : undefined;
    return { command: 'help', text: topic ? helpOf(topic) : mainHelp(subcommands) };
  }
  if (name === 'version' || name === '--version') return { command: 'version' };
  const sub = subcommands.find((s) => s.name === name);
  if (!sub) {
    const guess = closest(name, [...subcommands.map((s) => s.name), 'version', 'help']);
    return { command: 'usage', message: `operon: unknown command "${name}"; ${guess ? `did you mean operon ${guess}?` : "run 'operon --help' for the commands"}`, exitCode: 2 };
  }
  if (wantsHelp(rest)) return { command: 'help', text: helpOf(sub) };
  const parsed = parseFlags(sub.flags, rest);
  const invocation = isUsage(parsed) ? parsed : sub.invoke(parsed, full);
  if (isUsage(invocation)) return { command: 'usage', message: `operon ${sub.name}: ${invocation.usage}`, exitCode: 2 };
  return { command: 'invoke', name: sub.name, ...invocation };
}

/** One subcommand's help text. */
export function helpOf(sub: Subcommand): string {
  return flagHelp(sub.synopsis, sub.description, sub.flags);
}
