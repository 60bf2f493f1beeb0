/**
 * Every program the benchmark measures, as a command line. Adding a contender is adding one entry:
 * the harness only starts the command with KUBECONFIG, COINGECKO_BASE_URL and the refresh interval set,
 * and watches the cluster for the result.
 *
 * The CVC workloads' programs do the same job: value = spec.amount × USD price, to 4 decimals
 * half-up, written as `$X.XXXX` into the `value` annotation (Operon's reference operator: into
 * `status.value`, with its conditions in one write); recomputed every REFRESH_SECONDS. The
 * printer workload's programs run the Printer operator (`operators/printer/crd.yaml`): one
 * run-to-completion Pod per Printer, owned by it, and the Pod's phase copied into `status.phase`.
 * A contender has a Printer program either as its own `command` (its `workloads` are
 * `['printer']`) or as `printer`, beside its CVC program.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type WorkloadName = 'burst' | 'steady' | 'restart' | 'idle' | 'printer';

/** What `setup` made ready, or why the contender cannot run on this machine. */
export type Readiness = { ready: true; path?: string } | { ready: false; reason: string };

/** One program the harness starts: what it is, how to prepare it, how to run it. */
export interface Program {
  /** One line for the report: what it is and its settings that matter for the numbers. */
  about: string;
  /**
   * Installs or builds what the command needs (idempotent). Absent: nothing to prepare. The
   * harness runs every setup before it opens its first connection to the API server (see
   * `prepareAll` in bench.ts), and never blocks its event loop on one: a build of minutes with
   * keep-alive sockets open left them closed by the server yet still pooled (`socket hang up`).
   */
  setup?: (repo: string) => Promise<Readiness>;
  /** The command line; `prepared` is what `setup` returned. */
  command: (repo: string, prepared: Readiness & { ready: true }) => string[];
  /** Extra environment. */
  env?: Record<string, string>;
  /**
   * Printer programs only: whether it writes the Pod's phase into the Printer's `status.phase`.
   * Default true; false makes the report say "status: n/a" instead of judging the status.
   */
  followsPodPhase?: boolean;
}

export interface Contender extends Program {
  name: string;
  /** The variable it reads its refresh interval from. Default REFRESH_SECONDS. */
  refreshEnv?: string;
  /** Workloads its `command` takes part in. Default: all CVC workloads. */
  workloads?: readonly WorkloadName[];
  /** Contenders with the same group are variants; the report shows the best of them too. */
  group?: string;
  /** The same contender's Printer operator, run for the printer workload in place of `command`. */
  printer?: Program;
}

export const CVC_WORKLOADS: readonly WorkloadName[] = ['idle', 'burst', 'steady', 'restart'];

/** The program `contender` runs for the printer workload, or undefined when it has none. */
export function printerProgram(contender: Contender): Program | undefined {
  return contender.printer ?? (contender.workloads?.includes('printer') ? contender : undefined);
}

/** One run of each setup.sh target per harness process: the CVC and Printer programs of kopf share a venv. */
const scripts = new Map<string, Promise<Readiness>>();
function setupScript(repo: string, what: string): Promise<Readiness> {
  let made = scripts.get(what);
  if (!made) scripts.set(what, (made = runSetupScript(repo, what)));
  return made;
}

async function runSetupScript(repo: string, what: string): Promise<Readiness> {
  try {
    const { stdout } = await run('bash', [join(repo, 'bench', 'setup.sh'), what], { encoding: 'utf8', timeout: 15 * 60_000, maxBuffer: 64 * 1024 * 1024 });
    return { ready: true, path: stdout.trim().split('\n').pop() ?? '' };
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    return { ready: false, reason: `bench/setup.sh ${what} failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || String(err)}` };
  }
}

const node = process.execPath;

/**
 * Compiles Operon and the reference operators to dist/ once per harness process (the CVC and the
 * Printer entries share it): what production runs (deploy/image) is the compiled JavaScript, not
 * the .ts sources that Node type-strips at run time (about 30 MB more resident memory;
 * docs/dependencies.md). The compiled operators import `operon-k8s`, which resolves (self-reference,
 * no condition) to dist/src/, the same compiled framework.
 */
export async function compileOperon(repo: string, operator: string): Promise<Readiness> {
  for (const file of [operator, 'src/cli/main.ts']) {
    if (!existsSync(join(repo, file))) return { ready: false, reason: `${file} does not exist yet; this entry runs once it does` };
  }
  // The image's compile (tsconfig.image.json); a checkout from before that file, the same without dropping comments.
  const image = existsSync(join(repo, 'tsconfig.image.json'));
  const args = image ? ['-p', join(repo, 'tsconfig.image.json')] : ['-p', join(repo, 'tsconfig.build.json'), '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false'];
  return compileOnce(repo, [...args, '--outDir', join(repo, 'dist')], 'Operon');
}

/**
 * Compiles a contender's own tsconfig (one that extends tsconfig.image.json and includes the Operon
 * command and its operator) into the same dist/, once per harness process: an Operon contender
 * outside the reference operators, compiled as the image compiles them.
 */
export async function compileProject(repo: string, tsconfig: string): Promise<Readiness> {
  if (!existsSync(join(repo, tsconfig))) return { ready: false, reason: `${tsconfig} does not exist yet; this entry runs once it does` };
  return compileOnce(repo, ['-p', join(repo, tsconfig)], tsconfig);
}

/** One `tsc` run per distinct argument list and harness process, shared by the entries that need it. */
const compiles = new Map<string, Promise<Readiness>>();
function compileOnce(repo: string, args: readonly string[], what: string): Promise<Readiness> {
  const key = args.join(' ');
  let done = compiles.get(key);
  if (done === undefined) {
    done = run(join(repo, 'node_modules/.bin/tsc'), [...args], { encoding: 'utf8' }).then(
      (): Readiness => ({ ready: true }),
      (err: unknown): Readiness => ({ ready: false, reason: `compiling ${what} failed: ${String((err as { stdout?: string }).stdout || err).slice(0, 500)}` }),
    );
    compiles.set(key, done);
  }
  return done;
}

/**
 * The environment of every Printer program: the Pods go to kwok's simulated Node, whatever the
 * harness's own environment says (the reference operator reads these; an empty value means none).
 */
const PRINTER_ENV = { PRINTER_NODE_SELECTOR: '', PRINTER_TOLERATIONS: '' };

const ceiling = (concurrency: number): Contender => ({
  name: `ceiling-${concurrency}`,
  about: `raw HTTPS list+watch and merge patches, ${concurrency} in flight, no cache or queue: what the API server takes`,
  command: (repo) => [node, join(repo, 'bench/contenders/ceiling/operator.ts')],
  env: { CEILING_CONCURRENCY: String(concurrency) },
  workloads: ['burst'],
  group: 'ceiling',
});

/** The V8 flags of the image's entrypoint (Dockerfile, deploy/image/build.sh): Operon runs here as it runs there. */
export const IMAGE_NODE_FLAGS = ['--max-semi-space-size=1'];

const OPERON: Contender = {
  name: 'operon',
  about: 'the reference CVC operator on Operon (operators/crypto/operator.ts) compiled to JavaScript and run as the image runs it (node with the V8 flags of its entrypoint), all namespaces',
  setup: (repo) => compileOperon(repo, 'operators/crypto/operator.ts'),
  command: (repo) => [node, ...IMAGE_NODE_FLAGS, join(repo, 'dist/src/cli/main.js'), 'run', join(repo, 'dist/operators/crypto/operator.js'), '-A'],
  refreshEnv: 'CVC_REFRESH_SECONDS',
  printer: {
    about: 'the reference Printer operator on Operon (operators/printer/operator.ts: onField spec.text creates the Pod, owns(Pod), reconcile copies the phase) compiled and run as the image runs it, all namespaces',
    setup: (repo) => compileOperon(repo, 'operators/printer/operator.ts'),
    command: (repo) => [node, ...IMAGE_NODE_FLAGS, join(repo, 'dist/src/cli/main.js'), 'run', join(repo, 'dist/operators/printer/operator.js'), '-A'],
    env: PRINTER_ENV,
  },
};

/**
 * Operon doing exactly the controller-runtime contender's work (the `value` annotation, RequeueAfter,
 * one shared price request per interval), compiled as the image compiles: against
 * `controller-runtime` it measures the frameworks; `operon` measures the reference operator, which
 * writes a status with every digit, the change and conditions.
 */
const OPERON_SAME_WORK: Contender = {
  name: 'operon-same-work',
  about: "Operon doing the controller-runtime contender's work line for line (bench/contenders/operon-same-work: reconcile writes the value annotation when it differs, requeueAfter the interval, shared price cache), compiled and run as the image runs it, all namespaces",
  setup: (repo) => compileProject(repo, 'bench/contenders/operon-same-work/tsconfig.json'),
  command: (repo) => [node, ...IMAGE_NODE_FLAGS, join(repo, 'dist/src/cli/main.js'), 'run', join(repo, 'dist/bench/contenders/operon-same-work/operator.js'), '-A'],
  printer: {
    about: "Operon doing the controller-runtime Printer contender's work line for line (bench/contenders/operon-same-work/printer.ts: reconcile over Printers owning their Pods, creates <printer>-print when the cache has none, merge-patches status.pod and status.phase when the phase differs), compiled and run as the image runs it, all namespaces",
    setup: (repo) => compileProject(repo, 'bench/contenders/operon-same-work/tsconfig.json'),
    command: (repo) => [node, ...IMAGE_NODE_FLAGS, join(repo, 'dist/src/cli/main.js'), 'run', join(repo, 'dist/bench/contenders/operon-same-work/printer.js'), '-A'],
    env: PRINTER_ENV,
  },
};

const CONTROLLER_RUNTIME: Contender = {
  name: 'controller-runtime',
  about: 'controller-runtime v0.24.1 (Go), unstructured reconciler reading from the cache, RequeueAfter, shared price cache, MaxConcurrentReconciles 8, client QPS limit off',
  setup: (repo) => setupScript(repo, 'controller-runtime'),
  command: (_repo, prepared) => [prepared.path ?? ''],
  env: { MAX_CONCURRENT_RECONCILES: '8' },
  printer: {
    about: 'controller-runtime v0.24.1 (Go), contenders/controller-runtime/printer: For(Printer, unstructured from the cache) Owns(Pod), creates the Pod (name <printer>-print) when the cache has none, merge-patches status.phase when it differs; MaxConcurrentReconciles 8, client QPS limit off',
    setup: (repo) => setupScript(repo, 'controller-runtime-printer'),
    command: (_repo, prepared) => [prepared.path ?? ''],
    env: { MAX_CONCURRENT_RECONCILES: '8' },
  },
};

/**
 * A CVC contender at a fixed `concurrency` objects in flight, burst only. At 8 (the Go and
 * client-node contenders' setting above, and Operon's fixed default before it adapted) every
 * contender queues behind the creator; the ceiling kept up with it at 64, so these show what the
 * same code does with room to keep up, and `operon-8` what Operon's adaptive default changes.
 */
function inFlight(base: Contender, concurrency: number, change: Pick<Contender, 'command'> | Pick<Contender, 'env'>): Contender {
  const { printer: _printer, ...cvc } = base;
  return { ...cvc, ...change, name: `${base.name}-${concurrency}`, about: `${base.name} with ${concurrency} objects in flight`, workloads: ['burst'] };
}

export const CONTENDERS: readonly Contender[] = [
  OPERON,
  {
    name: 'kopf',
    about: 'kopf 1.45.2 (Python 3.11), @kopf.on.create + @kopf.timer, sync handlers with requests: one price request per object per refresh (as the design document)',
    setup: (repo) => setupScript(repo, 'kopf'),
    command: (repo, prepared) => [join(prepared.path ?? '', 'bin', 'kopf'), 'run', '--standalone', '--all-namespaces', join(repo, 'bench/contenders/kopf/operator.py')],
    printer: {
      about: 'kopf 1.45.2 (Python 3.11) with the kubernetes client, as the design document: @kopf.on.create creates the Pod (kopf.adopt, generateName print-), @kopf.on.event on its Pods patches status.phase when it changed (per-Pod memo)',
      setup: (repo) => setupScript(repo, 'kopf'),
      command: (repo, prepared) => [join(prepared.path ?? '', 'bin', 'kopf'), 'run', '--standalone', '--all-namespaces', join(repo, 'bench/contenders/kopf/printer.py')],
    },
  },
  CONTROLLER_RUNTIME,
  OPERON_SAME_WORK,
  {
    name: 'client-node-informer',
    about: '@kubernetes/client-node 2.0.1 makeInformer, hand-written keyed queue with 8 workers, merge patch only on change, shared price fetch',
    command: (repo) => [node, join(repo, 'bench/contenders/client-node-informer/operator.ts')],
    env: { WORKERS: '8' },
  },
  {
    name: 'printer-no-framework',
    about: '@kubernetes/client-node 2.0.1 only (examples/printer-no-framework/operator.ts): list+watch of Printers and of its Pods, a keyed queue with no worker limit, GETs of the Printer and its Pod per reconcile, merge patch of the status when it changed',
    command: (repo) => [node, join(repo, 'examples/printer-no-framework/operator.ts')],
    workloads: ['printer'],
  },
  inFlight(OPERON, 8, { command: (repo, prepared) => [...OPERON.command(repo, prepared), '--concurrency', '8'] }),
  inFlight(OPERON, 64, { command: (repo, prepared) => [...OPERON.command(repo, prepared), '--concurrency', '64'] }),
  inFlight(CONTROLLER_RUNTIME, 64, { env: { MAX_CONCURRENT_RECONCILES: '64' } }),
  ceiling(4),
  ceiling(16),
  ceiling(64),
];

/**
 * The contenders named in `names`, in the order named (a group's members in registry order); all
 * of them in registry order when `names` is empty. Unknown names throw. The order is the caller's
 * because it matters on a shared plane: whoever runs first meets the API server right after the
 * warm-up, whoever runs later meets it after other contenders' objects were deleted, so a fair
 * comparison runs once in each order.
 */
export function selectContenders(names: readonly string[]): Contender[] {
  const unknown = names.filter((n) => !CONTENDERS.some((c) => c.name === n || c.group === n));
  if (unknown.length) throw new Error(`unknown contender(s): ${unknown.join(', ')}; known: ${CONTENDERS.map((c) => c.name).join(', ')}`);
  if (names.length === 0) return [...CONTENDERS];
  const chosen = names.flatMap((n) => CONTENDERS.filter((c) => c.name === n || c.group === n));
  return chosen.filter((c, i) => chosen.indexOf(c) === i);
}
