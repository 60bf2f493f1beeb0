/**
 * Parsing of the `operon` command line into a typed command, with Node's own `parseArgs` (no
 * dependency). Bad input never throws past this module: it yields a `usage` result carrying the
 * message to print and exit code 2, as kopf and kubectl do for usage errors.
 */
import { parseArgs } from 'node:util';

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
  /** `host:port` for /healthz, /readyz and /metrics; undefined serves none. */
  healthAddress: string | undefined;
  /** Objects handled at once per resource (`--concurrency`); undefined keeps the default, 8. */
  concurrency: number | undefined;
  /** Run the handlers only while holding a Lease; undefined without `--leader-elect`. */
  leaderElection: { leaseName: string | undefined; leaseNamespace: string | undefined } | undefined;
}

export interface GenerateCommand {
  command: 'crd' | 'rbac';
  files: string[];
  /** For rbac: the operator's name and namespace (ServiceAccount and bindings). */
  name: string;
  namespace: string;
  /** For rbac: namespaced Roles for these namespaces instead of a ClusterRole. */
  watchNamespaces: string[];
}

export type Command =
  | RunCommand
  | GenerateCommand
  | { command: 'version' }
  | { command: 'help'; text: string }
  | { command: 'usage'; message: string; exitCode: 2 };

export const HELP = `operon — Kubernetes operators in TypeScript

Usage:
  operon run <file.ts|file.js>... [options]   run the handlers the files register
  operon crd <file>...                        print the CRDs of the resources the files declare
  operon rbac <file>... [--name N] [--namespace NS] [-w NS]...
                                              print the least-privilege RBAC the operator needs
  operon webhooks <file>... --name N --namespace NS [--service S] [--port P] [--cert-manager]
                                              print the webhook configurations (and Service) for GitOps
  operon version

Options for run:
  -n, --namespace NS     watch this namespace (repeatable; globs like 'team-*' allowed)
  -A, --all-namespaces   watch all namespaces
      --context NAME     kubeconfig context
      --kubeconfig PATH  kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)
      --verbose          log at debug level: every handler run, watch reconnect and write
      --debug            log at trace level: everything, for debugging Operon itself
                         (default level: info)
      --quiet            log warnings and errors only
      --log-format F     json (default when not a terminal) or plain
      --liveness URL     serve /healthz, /readyz and /metrics at URL (e.g. http://0.0.0.0:8080/healthz)
      --health-address A same, as host:port
      --concurrency N    objects handled at once per resource (default 8; controller-runtime's
                         MaxConcurrentReconciles, kopf's worker limit)
      --leader-elect     run handlers only while holding a Lease, so several replicas can run
      --lease-name N     the Lease's name (default: <plural>.<group> of the first resource)
      --lease-namespace NS
                         the Lease's namespace (default: the pod's, or the context's namespace)
`;

/**
 * Parses `argv` (without `node` and the script).
 *
 * @example
 * ```ts
 * parseCommand(['run', 'operator.ts', '-n', 'team-*', '--debug']);
 * // { command: 'run', files: ['operator.ts'], namespaces: ['team-*'], logLevel: 'trace', ... }
 * ```
 */
export function parseCommand(argv: readonly string[], isTty = false): Command {
  const [command, ...rest] = argv;
  const usage = (message: string): Command => ({ command: 'usage', message: `${message}\nRun 'operon --help' for usage.`, exitCode: 2 });
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return { command: 'help', text: HELP };
    case 'version':
    case '--version':
      return { command: 'version' };
    case 'run':
      return parseRun(rest, isTty, usage);
    case 'crd':
    case 'rbac':
      return parseGenerate(command, rest, usage);
    default:
      return usage(`unknown command "${command}"`);
  }
}

function parseRun(argv: string[], isTty: boolean, usage: (m: string) => Command): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        namespace: { type: 'string', short: 'n', multiple: true },
        'all-namespaces': { type: 'boolean', short: 'A' },
        context: { type: 'string' },
        kubeconfig: { type: 'string' },
        verbose: { type: 'boolean' },
        debug: { type: 'boolean' },
        quiet: { type: 'boolean' },
        'log-format': { type: 'string' },
        liveness: { type: 'string' },
        'health-address': { type: 'string' },
        concurrency: { type: 'string' },
        'leader-elect': { type: 'boolean' },
        'lease-name': { type: 'string' },
        'lease-namespace': { type: 'string' },
      },
    });
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (parsed.positionals.length === 0) return usage('run needs at least one operator file, e.g. operon run operator.ts');
  const namespaces = v.namespace ?? [];
  if (v['all-namespaces'] && namespaces.length > 0) return usage('--all-namespaces and --namespace exclude each other');
  for (const ns of namespaces) {
    if (!/^[a-z0-9*?!-][a-z0-9*?.-]*$/.test(ns)) return usage(`--namespace "${ns}" is not a namespace name or glob`);
  }
  // kopf's meaning: --verbose shows what the operator does, --debug also how Operon does it.
  const levels = [v.debug && 'trace', v.quiet && 'warn', v.verbose && 'debug'].filter(Boolean);
  if (levels.length > 1) return usage('choose one of --debug, --verbose and --quiet');
  const format = v['log-format'] ?? (isTty ? 'plain' : 'json');
  if (format !== 'json' && format !== 'plain') return usage(`--log-format must be json or plain, not "${format}"`);
  let healthAddress = v['health-address'];
  if (v.liveness !== undefined) {
    try {
      const url = new URL(v.liveness);
      healthAddress = `${url.hostname}:${url.port || '80'}`;
    } catch {
      return usage(`--liveness "${v.liveness}" is not a URL (e.g. http://0.0.0.0:8080/healthz)`);
    }
  }
  if (healthAddress !== undefined && !/^[^:]*:\d+$/.test(healthAddress)) return usage(`--health-address "${healthAddress}" must be host:port`);
  let concurrency: number | undefined;
  if (v.concurrency !== undefined) {
    concurrency = /^\d+$/.test(v.concurrency) ? Number(v.concurrency) : Number.NaN;
    // Above a few hundred in flight an operator floods its API server rather than speeding up.
    if (!(concurrency >= 1 && concurrency <= 1000)) return usage(`--concurrency "${v.concurrency}" must be a whole number from 1 to 1000`);
  }
  const leaseName = v['lease-name'];
  const leaseNamespace = v['lease-namespace'];
  if (!v['leader-elect'] && (leaseName !== undefined || leaseNamespace !== undefined)) return usage('--lease-name and --lease-namespace need --leader-elect');
  if (leaseName !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(leaseName)) {
    return usage(`--lease-name "${leaseName}" is not a valid object name (lowercase letters, digits, '-' and '.')`);
  }
  if (leaseNamespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(leaseNamespace)) return usage(`--lease-namespace "${leaseNamespace}" is not a namespace name`);
  return {
    command: 'run',
    files: parsed.positionals,
    namespaces,
    allNamespaces: v['all-namespaces'] ?? false,
    context: v.context,
    kubeconfig: v.kubeconfig,
    logLevel: (levels[0] as LogLevel | undefined) ?? 'info',
    logFormat: format,
    healthAddress,
    concurrency,
    leaderElection: v['leader-elect'] ? { leaseName, leaseNamespace } : undefined,
  };
}

function parseGenerate(command: 'crd' | 'rbac', argv: string[], usage: (m: string) => Command): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        name: { type: 'string' },
        namespace: { type: 'string' },
        'watch-namespace': { type: 'string', short: 'w', multiple: true },
      },
    });
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err));
  }
  if (parsed.positionals.length === 0) return usage(`${command} needs at least one file that declares resources`);
  return {
    command,
    files: parsed.positionals,
    name: parsed.values.name ?? 'operator',
    namespace: parsed.values.namespace ?? 'default',
    watchNamespaces: parsed.values['watch-namespace'] ?? [],
  };
}
