/**
 * Where the cluster is and who we are: kubeconfig files, in-cluster ServiceAccount, or an object
 * shaped like `@kubernetes/client-node`'s `KubeConfig`, all reduced to one plain
 * {@link ClusterConfig} value that the transport consumes.
 *
 * Guarantees, matching kubectl (client-go `clientcmd`):
 * - `KUBECONFIG` lists several files (`path.delimiter`-separated); missing files are skipped; for a
 *   cluster, user or context name defined twice the first file wins; `current-context` comes from
 *   the first file that sets one. When `KUBECONFIG` is set, `~/.kube/config` is not read.
 * - Relative paths in a file (certificates, keys, `tokenFile`, an exec `command` containing a `/`)
 *   are resolved against the directory of the file that names them.
 * - Certificates and keys are read at load time; a token file and exec plugins are not (they
 *   rotate): the credential providers read them when needed.
 * - Every failure is a {@link ConfigError} naming the file or source and saying how to fix it.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { parse as ParseYaml } from 'yaml';

/** Exec credential plugin settings (a kubeconfig user's `exec:` block). */
export interface ExecConfig {
  /** `client.authentication.k8s.io/v1` or `client.authentication.k8s.io/v1beta1`. */
  apiVersion: string;
  /** Resolved: absolute when the kubeconfig gave a relative path with a `/`, else looked up in PATH. */
  command: string;
  args: string[];
  env: Array<{ name: string; value: string }>;
  /** Sends the cluster (server, CA, ...) to the plugin in `KUBERNETES_EXEC_INFO`. */
  provideClusterInfo: boolean;
  /** Shown when the command is not found. */
  installHint?: string;
  /** The cluster's `client.authentication.k8s.io/exec` extension, passed as `spec.cluster.config`. */
  clusterExtension?: unknown;
}

/** How requests authenticate, besides a client certificate (which is on {@link ClusterConfig}). */
export type AuthConfig =
  | { type: 'none' }
  | { type: 'token'; token: string }
  /** Re-read periodically: ServiceAccount tokens are projected and rotate. */
  | { type: 'tokenFile'; path: string }
  /** `kubeconfigPath` is part of the credential cache key, so equal user names in two files never share a token. */
  | { type: 'exec'; exec: ExecConfig; kubeconfigPath?: string }
  | { type: 'clientCert' }
  | { type: 'basic'; username: string; password: string };

/** Everything needed to talk to one API server as one user. A plain value: no IO, no handles. */
export interface ClusterConfig {
  /** `https://host:port[/prefix]`, without a trailing slash. */
  server: string;
  /** PEM bundle trusted for the server; the system roots when absent. */
  ca?: Buffer;
  clientCert?: Buffer;
  clientKey?: Buffer;
  insecureSkipTlsVerify: boolean;
  /** SNI and the name checked in the server certificate, when it differs from the server host. */
  tlsServerName?: string;
  /** `http://[user:pass@]host:port`; requests are tunnelled with HTTP CONNECT. */
  proxyUrl?: string;
  /** The context's namespace (in-cluster: the pod's), `default` when none is set. */
  namespace: string;
  auth: AuthConfig;
  /** Where this came from, for messages: `in-cluster`, or `context "x" in /path/config`. */
  source: string;
}

/**
 * A configuration problem; the message names the source and ends with the fix.
 *
 * @example
 * ```ts
 * try { loadClusterConfig({ context: 'prod' }); } catch (err) { if (err instanceof ConfigError) console.error(err.message); }
 * // no context named "prod" in kubeconfig /home/me/.kube/config. Fix: use one of "dev", "qa" (...)
 * ```
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** What to do about it, also the last sentence of the message. */
  readonly hint: string;
  constructor(problem: string, hint: string, options: { cause?: unknown } = {}) {
    super(`${problem}. Fix: ${hint}`, { cause: options.cause });
    this.hint = hint;
  }
}

/** The directory the kubelet mounts a pod's ServiceAccount credentials in. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const SUPPORTED_EXEC_VERSIONS = new Set(['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']);
const EXEC_EXTENSION = 'client.authentication.k8s.io/exec';

/** A named entry of a kubeconfig list, remembering the file that defined it. */
interface Entry {
  value: Record<string, unknown>;
  file: string;
}

/** Several kubeconfig files merged as kubectl merges them. */
export interface MergedKubeconfig {
  files: string[];
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
  currentContext: string | undefined;
}

/**
 * Merges parsed kubeconfig documents in precedence order: the first definition of a name wins, and
 * the first non-empty `current-context` wins. Pure; `path` is used only to resolve relative paths
 * later and to name the file in errors.
 *
 * @example
 * ```ts
 * const merged = mergeKubeconfigs([
 *   { path: '/a/config', text: readFileSync('/a/config', 'utf8') },
 *   { path: '/b/config', text: readFileSync('/b/config', 'utf8') },
 * ]);
 * merged.currentContext; // from /a/config if it sets one
 * ```
 */
export function mergeKubeconfigs(documents: Array<{ path: string; text: string }>): MergedKubeconfig {
  const merged: MergedKubeconfig = { files: [], clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: undefined };
  for (const { path, text } of documents) {
    merged.files.push(path);
    let doc: unknown;
    try {
      doc = parseKubeconfigText(text);
    } catch (err) {
      throw new ConfigError(`kubeconfig ${path} is not valid YAML: ${(err as Error).message}`, `correct the file, or check it with "kubectl config view --kubeconfig ${path}"`, { cause: err });
    }
    if (doc === null || doc === undefined) continue; // An empty file is a valid, empty kubeconfig.
    if (!isRecord(doc)) throw new ConfigError(`kubeconfig ${path} is not a YAML mapping`, 'point KUBECONFIG or --kubeconfig at a kubeconfig file');
    addNamed(merged.clusters, doc['clusters'], 'cluster', path);
    addNamed(merged.users, doc['users'], 'user', path);
    addNamed(merged.contexts, doc['contexts'], 'context', path);
    const current = doc['current-context'];
    if (merged.currentContext === undefined && typeof current === 'string' && current !== '') merged.currentContext = current;
  }
  return merged;
}

function addNamed(into: Map<string, Entry>, list: unknown, field: string, file: string): void {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) throw new ConfigError(`kubeconfig ${file}: "${field}s" is not a list`, `make "${field}s" a list of { name, ${field} } entries`);
  for (const item of list) {
    if (!isRecord(item) || typeof item['name'] !== 'string') {
      throw new ConfigError(`kubeconfig ${file}: an entry of "${field}s" has no name`, `give every entry of "${field}s" a name`);
    }
    if (into.has(item['name'])) continue;
    const value = item[field];
    into.set(item['name'], { value: isRecord(value) ? value : {}, file });
  }
}

/**
 * Builds the {@link ClusterConfig} of one context of merged kubeconfigs: `context` when given,
 * else the merged `current-context`. Reads the certificate and key files it names.
 *
 * @example
 * ```ts
 * const config = selectContext(mergeKubeconfigs(docs), 'kind-dev');
 * config.server;    // 'https://127.0.0.1:6443'
 * config.namespace; // the context's namespace, or 'default'
 * ```
 */
export function selectContext(merged: MergedKubeconfig, context?: string): ClusterConfig {
  const where = merged.files.length === 1 ? `${merged.files[0]}` : `[${merged.files.join(', ')}]`;
  if (merged.clusters.size === 0) {
    throw new ConfigError(`no clusters are defined in kubeconfig ${where}`, 'add a cluster with "kubectl config set-cluster", or point KUBECONFIG at the right file');
  }
  const contextName = context ?? merged.currentContext;
  if (contextName === undefined) {
    throw new ConfigError(
      `no current-context is set in kubeconfig ${where}`,
      `choose one with "kubectl config use-context <name>" or pass a context (available: ${list(merged.contexts)})`,
    );
  }
  const ctx = merged.contexts.get(contextName);
  if (ctx === undefined) {
    throw new ConfigError(
      `no context named "${contextName}" in kubeconfig ${where}`,
      `use one of ${list(merged.contexts)} ("kubectl config get-contexts" lists them)`,
    );
  }
  const clusterName = str(ctx.value['cluster']);
  const cluster = clusterName === undefined ? undefined : merged.clusters.get(clusterName);
  if (clusterName === undefined || cluster === undefined) {
    throw new ConfigError(
      `context "${contextName}" in ${ctx.file} refers to cluster "${clusterName ?? ''}", which is not defined in kubeconfig ${where}`,
      `define the cluster or fix the context (clusters: ${list(merged.clusters)})`,
    );
  }
  const userName = str(ctx.value['user']);
  let user: Entry | undefined;
  if (userName !== undefined && userName !== '') {
    user = merged.users.get(userName);
    if (user === undefined) {
      throw new ConfigError(
        `context "${contextName}" in ${ctx.file} refers to user "${userName}", which is not defined in kubeconfig ${where}`,
        `define the user or fix the context (users: ${list(merged.users)})`,
      );
    }
  }
  const clusterPart = readCluster(clusterName, cluster);
  const userPart = user === undefined || userName === undefined ? { auth: { type: 'none' } as AuthConfig } : readUser(userName, user, clusterPart.extension);
  const namespace = str(ctx.value['namespace']);
  return {
    ...clusterPart.config,
    ...userPart,
    namespace: namespace === undefined || namespace === '' ? 'default' : namespace,
    source: `context "${contextName}" in ${ctx.file}`,
  };
}

function readCluster(name: string, entry: Entry): { config: Omit<ClusterConfig, 'namespace' | 'auth' | 'source'>; extension: unknown } {
  const c = entry.value;
  const server = str(c['server']);
  if (server === undefined || server === '') {
    throw new ConfigError(`cluster "${name}" in ${entry.file} has no server`, `set it with "kubectl config set-cluster ${name} --server=https://host:port"`);
  }
  const config: Omit<ClusterConfig, 'namespace' | 'auth' | 'source'> = {
    server: normaliseServer(server, `cluster "${name}" in ${entry.file}`),
    insecureSkipTlsVerify: c['insecure-skip-tls-verify'] === true,
  };
  const ca = readPem(c, 'certificate-authority', entry, `cluster "${name}"`);
  if (ca) config.ca = ca;
  const tlsServerName = str(c['tls-server-name']);
  if (tlsServerName) config.tlsServerName = tlsServerName;
  const proxyUrl = str(c['proxy-url']);
  if (proxyUrl) config.proxyUrl = proxyUrl;
  let extension: unknown;
  const extensions = c['extensions'];
  if (Array.isArray(extensions)) {
    for (const e of extensions) if (isRecord(e) && e['name'] === EXEC_EXTENSION) extension = e['extension'];
  }
  return { config, extension };
}

function readUser(name: string, entry: Entry, clusterExtension: unknown): Pick<ClusterConfig, 'auth' | 'clientCert' | 'clientKey'> {
  const u = entry.value;
  const what = `user "${name}"`;
  const out: Pick<ClusterConfig, 'auth' | 'clientCert' | 'clientKey'> = { auth: { type: 'none' } };
  const cert = readPem(u, 'client-certificate', entry, what);
  const key = readPem(u, 'client-key', entry, what);
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(`${what} in ${entry.file} has a client ${cert ? 'certificate but no key' : 'key but no certificate'}`, 'set both client-certificate(-data) and client-key(-data)');
  }
  if (cert && key) {
    out.clientCert = cert;
    out.clientKey = key;
  }
  const token = str(u['token']);
  const tokenFile = str(u['tokenFile']);
  const username = str(u['username']);
  const password = str(u['password']);
  if (u['exec'] !== undefined && u['exec'] !== null) {
    const exec = parseExec(u['exec'], `${what} in ${entry.file}`, dirname(entry.file));
    if (clusterExtension !== undefined) exec.clusterExtension = clusterExtension;
    out.auth = { type: 'exec', exec, kubeconfigPath: entry.file };
  } else if (isRecord(u['auth-provider'])) {
    throw unsupportedAuthProvider(str(u['auth-provider']['name']) ?? '?', `${what} in ${entry.file}`);
  } else if (token) {
    out.auth = { type: 'token', token };
  } else if (tokenFile) {
    out.auth = { type: 'tokenFile', path: resolve(dirname(entry.file), tokenFile) };
  } else if (username !== undefined && password !== undefined) {
    out.auth = { type: 'basic', username, password };
  } else if (cert) {
    out.auth = { type: 'clientCert' };
  }
  return out;
}

/**
 * Validates an exec block. `baseDir` resolves a relative command containing a `/`, as kubectl does;
 * a bare command name is left to PATH lookup.
 */
function parseExec(raw: unknown, where: string, baseDir: string | undefined): ExecConfig {
  if (!isRecord(raw)) throw new ConfigError(`${where}: "exec" is not a mapping`, 'give exec a command and an apiVersion');
  const command = str(raw['command']);
  if (!command) throw new ConfigError(`${where}: exec has no command`, 'set exec.command to the credential plugin');
  const apiVersion = str(raw['apiVersion']) ?? '';
  if (!SUPPORTED_EXEC_VERSIONS.has(apiVersion)) {
    throw new ConfigError(
      `${where}: exec apiVersion "${apiVersion}" is not supported`,
      'use client.authentication.k8s.io/v1 (or v1beta1); v1alpha1 was removed in Kubernetes 1.24',
    );
  }
  const args = raw['args'] ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new ConfigError(`${where}: exec.args is not a list of strings`, 'quote every argument');
  const envRaw = raw['env'] ?? [];
  if (!Array.isArray(envRaw)) throw new ConfigError(`${where}: exec.env is not a list`, 'write env as a list of { name, value }');
  const env = envRaw.map((e: unknown) => {
    if (!isRecord(e) || typeof e['name'] !== 'string') throw new ConfigError(`${where}: an exec.env entry has no name`, 'write env as a list of { name, value }');
    return { name: e['name'], value: e['value'] === undefined || e['value'] === null ? '' : String(e['value']) };
  });
  const exec: ExecConfig = {
    apiVersion,
    command: baseDir !== undefined && !isAbsolute(command) && command.includes('/') ? resolve(baseDir, command) : command,
    args: args as string[],
    env,
    provideClusterInfo: raw['provideClusterInfo'] === true,
  };
  const installHint = str(raw['installHint']);
  if (installHint) exec.installHint = installHint;
  return exec;
}

function readPem(record: Record<string, unknown>, field: string, entry: Entry, what: string): Buffer | undefined {
  const data = str(record[`${field}-data`]);
  if (data) return Buffer.from(data, 'base64');
  const file = str(record[field]);
  if (!file) return undefined;
  const path = resolve(dirname(entry.file), file);
  return readReferenced(path, `${field} of ${what} in ${entry.file}`);
}

function readReferenced(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${path}, the ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'create the file or correct the path (relative paths are resolved against the kubeconfig file that names them)', { cause: err });
  }
}

/**
 * Reads and merges kubeconfig files, then selects a context. Missing files are skipped as kubectl
 * skips them; a file that exists but cannot be read, or none existing at all, is an error.
 *
 * @example
 * ```ts
 * const config = loadKubeconfigFiles(['/home/me/.kube/config', '/home/me/.kube/lab.yaml'], { context: 'lab' });
 * ```
 */
export function loadKubeconfigFiles(paths: string[], options: { context?: string } = {}): ClusterConfig {
  const documents: Array<{ path: string; text: string }> = [];
  const seen = new Set<string>();
  for (const p of paths) {
    const path = resolve(p);
    if (seen.has(path)) continue;
    seen.add(path);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      throw new ConfigError(`cannot read kubeconfig ${path}: ${code ?? (err as Error).message}`, code === 'EACCES' ? `make it readable ("chmod u+r ${path}")` : 'check the path in KUBECONFIG or --kubeconfig', { cause: err });
    }
    documents.push({ path, text });
  }
  if (documents.length === 0) {
    throw new ConfigError(`no kubeconfig file exists among ${paths.join(', ')}`, 'set KUBECONFIG or --kubeconfig to an existing file');
  }
  return selectContext(mergeKubeconfigs(documents), options.context);
}

/** Options of {@link loadInCluster}; the defaults are the real pod environment. */
export interface InClusterOptions {
  /** Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Default {@link SERVICE_ACCOUNT_DIR}. */
  serviceAccountDir?: string;
}

/**
 * The configuration of a pod: the API server from `KUBERNETES_SERVICE_HOST`/`_PORT`, the
 * ServiceAccount token file (re-read as it rotates), its CA and namespace.
 *
 * @example
 * ```ts
 * const config = loadInCluster();
 * config.auth; // { type: 'tokenFile', path: '/var/run/secrets/kubernetes.io/serviceaccount/token' }
 * ```
 */
export function loadInCluster(options: InClusterOptions = {}): ClusterConfig {
  const env = options.env ?? process.env;
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) {
    throw new ConfigError(
      'not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set',
      'outside a cluster, provide a kubeconfig (KUBECONFIG, --kubeconfig or ~/.kube/config)',
    );
  }
  const tokenPath = join(dir, 'token');
  if (!isFile(tokenPath)) {
    throw new ConfigError(`in-cluster: no ServiceAccount token at ${tokenPath}`, 'do not set automountServiceAccountToken: false on the pod or its ServiceAccount');
  }
  const config: ClusterConfig = {
    server: `https://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`,
    insecureSkipTlsVerify: false,
    namespace: 'default',
    auth: { type: 'tokenFile', path: tokenPath },
    source: 'in-cluster',
  };
  const caPath = join(dir, 'ca.crt');
  if (isFile(caPath)) config.ca = readReferenced(caPath, 'in-cluster CA');
  const nsPath = join(dir, 'namespace');
  if (isFile(nsPath)) {
    const ns = readReferenced(nsPath, 'in-cluster namespace').toString('utf8').trim();
    if (ns) config.namespace = ns;
  }
  return config;
}

/** Options of {@link loadClusterConfig}. */
export interface LoadConfigOptions {
  /** An explicit kubeconfig path (`--kubeconfig`): only this file is read. */
  kubeconfig?: string;
  /** Overrides the current context (`--context`). */
  context?: string;
  /** Skips kubeconfig lookup and uses the pod's ServiceAccount. */
  inCluster?: boolean;
  env?: Record<string, string | undefined>;
  /** Default `os.homedir()`. */
  homeDir?: string;
  serviceAccountDir?: string;
}

/**
 * Finds the configuration the way kubectl does: the explicit path, else `KUBECONFIG`, else
 * `~/.kube/config`, else (in a pod) the ServiceAccount.
 *
 * @example
 * ```ts
 * const config = loadClusterConfig({ context: process.env.KUBE_CONTEXT });
 * ```
 */
export function loadClusterConfig(options: LoadConfigOptions = {}): ClusterConfig {
  const env = options.env ?? process.env;
  const inCluster = (): ClusterConfig => loadInCluster({ env, ...(options.serviceAccountDir ? { serviceAccountDir: options.serviceAccountDir } : {}) });
  if (options.inCluster) return inCluster();
  if (options.kubeconfig !== undefined) {
    const path = resolve(options.kubeconfig);
    if (!isFile(path)) throw new ConfigError(`kubeconfig ${path} does not exist`, 'check the --kubeconfig path');
    return loadKubeconfigFiles([path], withContext(options.context));
  }
  const fromEnv = (env['KUBECONFIG'] ?? '').split(delimiter).filter((p) => p !== '');
  const candidates = fromEnv.length > 0 ? fromEnv : [join(options.homeDir ?? homedir(), '.kube', 'config')];
  if (candidates.some((p) => isFile(resolve(p)))) return loadKubeconfigFiles(candidates, withContext(options.context));
  if (env['KUBERNETES_SERVICE_HOST']) return inCluster();
  throw new ConfigError(
    `no Kubernetes configuration found: ${fromEnv.length > 0 ? `none of the KUBECONFIG files exist (${fromEnv.join(', ')})` : `${candidates[0]} does not exist`} and this is not a pod`,
    'set KUBECONFIG or pass a kubeconfig path, or run inside a cluster',
  );
}

/** The parts of `@kubernetes/client-node`'s `KubeConfig` that are read; no import of that package. */
export interface KubeConfigLike {
  currentContext?: string;
  getCurrentContext?(): string;
  getCurrentCluster(): {
    name?: string;
    server: string;
    caData?: string;
    caFile?: string;
    skipTLSVerify?: boolean;
    tlsServerName?: string;
    proxyUrl?: string;
  } | null;
  getCurrentUser(): {
    name?: string;
    token?: string;
    certData?: string;
    certFile?: string;
    keyData?: string;
    keyFile?: string;
    username?: string;
    password?: string;
    exec?: unknown;
    authProvider?: { name?: string; config?: Record<string, unknown> };
  } | null;
  getContextObject(name: string): { namespace?: string } | null;
}

/**
 * Converts a loaded `@kubernetes/client-node` `KubeConfig` (duck-typed) into a {@link ClusterConfig},
 * for users migrating from that library. Its in-cluster `tokenFile` auth provider maps to a
 * rotating token file.
 *
 * @example
 * ```ts
 * const kc = new KubeConfig(); kc.loadFromDefault();
 * const client = KubeClient.fromConfig(fromKubeConfigObject(kc));
 * ```
 */
export function fromKubeConfigObject(kc: KubeConfigLike): ClusterConfig {
  const contextName = kc.getCurrentContext?.() ?? kc.currentContext ?? '';
  const source = `KubeConfig object, context "${contextName}"`;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ConfigError(`${source} has no current cluster`, 'load a kubeconfig into it (loadFromDefault) or set its current context');
  const config: ClusterConfig = {
    server: normaliseServer(cluster.server, source),
    insecureSkipTlsVerify: cluster.skipTLSVerify === true,
    namespace: kc.getContextObject(contextName)?.namespace || 'default',
    auth: { type: 'none' },
    source,
  };
  const ca = dataOrFile(cluster.caData, cluster.caFile, `CA of ${source}`);
  if (ca) config.ca = ca;
  if (cluster.tlsServerName) config.tlsServerName = cluster.tlsServerName;
  if (cluster.proxyUrl) config.proxyUrl = cluster.proxyUrl;
  const user = kc.getCurrentUser();
  if (!user) return config;
  const cert = dataOrFile(user.certData, user.certFile, `client certificate of ${source}`);
  const key = dataOrFile(user.keyData, user.keyFile, `client key of ${source}`);
  if (cert && key) {
    config.clientCert = cert;
    config.clientKey = key;
  }
  if (user.exec !== undefined && user.exec !== null) {
    config.auth = { type: 'exec', exec: parseExec(user.exec, `user "${user.name ?? ''}" of ${source}`, undefined) };
  } else if (user.authProvider?.name === 'tokenFile' && typeof user.authProvider.config?.['tokenFile'] === 'string') {
    config.auth = { type: 'tokenFile', path: resolve(user.authProvider.config['tokenFile']) };
  } else if (user.authProvider?.name) {
    throw unsupportedAuthProvider(user.authProvider.name, source);
  } else if (user.token) {
    config.auth = { type: 'token', token: user.token };
  } else if (user.username !== undefined && user.password !== undefined) {
    config.auth = { type: 'basic', username: user.username, password: user.password };
  } else if (cert && key) {
    config.auth = { type: 'clientCert' };
  }
  return config;
}

function dataOrFile(data: string | undefined, file: string | undefined, what: string): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  if (file) return readReferenced(resolve(file), what);
  return undefined;
}

function unsupportedAuthProvider(name: string, where: string): ConfigError {
  return new ConfigError(
    `${where} uses the auth-provider "${name}", which Operon does not support (auth providers are deprecated in favour of exec plugins)`,
    name === 'oidc' ? 'use an exec plugin such as kubelogin (kubectl oidc-login)' : name === 'gcp' ? 'use gke-gcloud-auth-plugin (an exec plugin)' : name === 'azure' ? 'use kubelogin (an exec plugin)' : 'use an exec credential plugin, a token or a client certificate',
  );
}

function normaliseServer(server: string, where: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch (err) {
    throw new ConfigError(`${where}: server "${server}" is not a URL`, 'write it as https://host:port', { cause: err });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${where}: server "${server}" is neither https nor http`, 'write it as https://host:port');
  return server.replace(/\/+$/, '');
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function list(map: Map<string, unknown>): string {
  return map.size === 0 ? '(none)' : [...map.keys()].map((k) => `"${k}"`).join(', ');
}

function withContext(context: string | undefined): { context?: string } {
  return context === undefined ? {} : { context };
}

/**
 * Parses a kubeconfig file's text. JSON (which kubectl also writes) needs no YAML parser; the
 * `yaml` package, about 12 MB of resident memory once loaded, is required only for YAML files, so
 * an in-cluster operator, which reads no kubeconfig, never loads it.
 */
function parseKubeconfigText(text: string): unknown {
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Not JSON after all: YAML is a superset, let its parser give the error.
    }
  }
  const { parse } = createRequire(import.meta.url)('yaml') as { parse: typeof ParseYaml };
  return parse(text) as unknown;
}
