/**
 * Credentials for each request: a static token, a token file that rotates, or an exec credential
 * plugin. A {@link CredentialProvider} hands out the current credential and forgets it on request,
 * so the transport can answer a 401 by fetching a fresh one and retrying once.
 *
 * Guarantees:
 * - A token file is re-read at most every `defaults.client.tokenFileRereadMs` (client-go: 60 s), at
 *   once after `invalidate()`; if a re-read fails, the last good token is kept.
 * - An exec plugin is run with `execFile` (no shell), stdin closed, `KUBERNETES_EXEC_INFO` set and
 *   the kubeconfig's env merged over the process env. Its answer is cached until
 *   `expirationTimestamp` minus `defaults.client.execCredentialExpiryMarginMs`, or for
 *   `defaults.client.execCredentialTtlMs` when it gives none.
 * - The exec cache key is the whole exec configuration plus the kubeconfig path (and the cluster
 *   when cluster info is sent), never the user name, so two kubeconfigs whose users share a name
 *   never share a token (client-node issue #592). Concurrent callers share one plugin run.
 * - Time comes from an injected {@link Clock}.
 */
import { readFile } from 'node:fs/promises';
import { systemClock } from '../base/clock.ts';
import type { Clock } from '../base/clock.ts';
import { silentLogger } from '../base/logger.ts';
import type { Logger } from '../base/logger.ts';
import { defaults } from '../defaults.ts';
import type { ClusterConfig, ExecConfig } from './kubeconfig.ts';

/** What a request carries to authenticate. */
export interface Credential {
  /** The `Authorization` header: `Bearer …` or `Basic …`. */
  authorization?: string;
  /** From an exec plugin; overrides the kubeconfig's client certificate. */
  clientCert?: Buffer;
  clientKey?: Buffer;
}

/** A source of credentials. */
export interface CredentialProvider {
  /**
   * The credential to use now; may read a file or run a plugin.
   *
   * @example
   * ```ts
   * const { authorization } = await provider.get();
   * ```
   */
  get(signal?: AbortSignal): Promise<Credential>;
  /**
   * Forgets the cached credential, after the server rejected it with a 401. Passing the rejected
   * credential keeps a burst of concurrent 401s from re-running a plugin once per request.
   *
   * @example
   * ```ts
   * if (res.status === 401 && provider.refreshable) { provider.invalidate(used); used = await provider.get(); }
   * ```
   */
  invalidate(rejected?: Credential): void;
  /** True when `invalidate()` can produce a different credential (token file, exec plugin). */
  readonly refreshable: boolean;
}

/**
 * A credential could not be obtained: the plugin failed, the token file is unreadable or empty.
 *
 * @example
 * ```ts
 * await provider.get().catch((err) => { if (err instanceof CredentialError) logger.error(err.hint); throw err; });
 * ```
 */
export class CredentialError extends Error {
  override readonly name = 'CredentialError';
  readonly hint: string;
  constructor(problem: string, hint: string, options: { cause?: unknown } = {}) {
    super(`${problem}. Fix: ${hint}`, { cause: options.cause });
    this.hint = hint;
  }
}

/**
 * A credential that never changes (a token, basic auth, or nothing beyond a client certificate).
 *
 * @example
 * ```ts
 * const provider = staticCredentials({ authorization: 'Bearer abc' });
 * ```
 */
export function staticCredentials(credential: Credential): CredentialProvider {
  return { get: () => Promise.resolve(credential), invalidate: () => {}, refreshable: false };
}

/** Options of {@link TokenFileCredentials}. */
export interface TokenFileOptions {
  clock?: Clock;
  /** Default `defaults.client.tokenFileRereadMs`. */
  rereadMs?: number;
  logger?: Logger;
}

/**
 * A bearer token read from a file and re-read periodically, for projected ServiceAccount tokens
 * that the kubelet rotates.
 *
 * @example
 * ```ts
 * const provider = new TokenFileCredentials('/var/run/secrets/kubernetes.io/serviceaccount/token');
 * ```
 */
export class TokenFileCredentials implements CredentialProvider {
  readonly refreshable = true;
  readonly #path: string;
  readonly #clock: Clock;
  readonly #rereadMs: number;
  readonly #logger: Logger;
  #token: string | undefined;
  #readAt = Number.NEGATIVE_INFINITY;

  constructor(path: string, options: TokenFileOptions = {}) {
    this.#path = path;
    this.#clock = options.clock ?? systemClock;
    this.#rereadMs = options.rereadMs ?? defaults.client.tokenFileRereadMs;
    this.#logger = options.logger ?? silentLogger;
  }

  async get(): Promise<Credential> {
    if (this.#token === undefined || this.#clock.now() - this.#readAt >= this.#rereadMs) await this.#read();
    return { authorization: `Bearer ${this.#token ?? ''}` };
  }

  invalidate(rejected?: Credential): void {
    if (rejected === undefined || rejected.authorization === `Bearer ${this.#token ?? ''}`) this.#readAt = Number.NEGATIVE_INFINITY;
  }

  async #read(): Promise<void> {
    let token: string;
    try {
      token = (await readFile(this.#path, 'utf8')).trim();
      if (token === '') throw new CredentialError(`token file ${this.#path} is empty`, 'write the token into the file, or fix tokenFile in the kubeconfig');
    } catch (err) {
      // A rotating writer may briefly leave the file missing or empty; the last token is still valid then.
      if (this.#token !== undefined) {
        this.#logger.warn({ path: this.#path, err: String(err) }, 'token file re-read failed; keeping the previous token');
        return;
      }
      if (err instanceof CredentialError) throw err;
      throw new CredentialError(`cannot read token file ${this.#path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'check that the file exists and is readable (in a pod: automountServiceAccountToken)', { cause: err });
    }
    this.#token = token;
    this.#readAt = this.#clock.now();
  }
}

/** A cached exec-plugin answer. */
interface CachedCredential {
  credential: Credential;
  /** Clock time after which the plugin is run again. */
  refreshAt: number;
}

/**
 * Where exec-plugin credentials are cached, keyed by the whole exec configuration. One is shared by
 * default so several clients of one cluster run a plugin once; tests pass their own.
 *
 * @example
 * ```ts
 * const cache = new ExecCredentialCache();
 * const provider = new ExecCredentials(exec, { cache });
 * ```
 */
export class ExecCredentialCache {
  readonly #entries = new Map<string, CachedCredential>();
  readonly #running = new Map<string, Promise<CachedCredential>>();

  /** Number of cached credentials. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops every cached credential. */
  clear(): void {
    this.#entries.clear();
  }

  /** @internal */
  lookup(key: string, now: number): CachedCredential | undefined {
    const entry = this.#entries.get(key);
    return entry !== undefined && now < entry.refreshAt ? entry : undefined;
  }

  /** @internal Runs `fetch` unless a run for the same key is already under way. */
  async fill(key: string, fetch: () => Promise<CachedCredential>): Promise<CachedCredential> {
    let running = this.#running.get(key);
    if (running === undefined) {
      running = fetch().then(
        (entry) => {
          this.#entries.set(key, entry);
          return entry;
        },
      ).finally(() => this.#running.delete(key));
      this.#running.set(key, running);
    }
    return running;
  }

  /** @internal */
  drop(key: string, rejected?: Credential): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    if (rejected === undefined || sameCredential(entry.credential, rejected)) this.#entries.delete(key);
  }
}

/** The process-wide exec credential cache. */
export const sharedExecCache = new ExecCredentialCache();

/** Options of {@link ExecCredentials}. */
export interface ExecCredentialOptions {
  clock?: Clock;
  /** The kubeconfig that defined the plugin; part of the cache key. */
  kubeconfigPath?: string;
  /** Sent in `KUBERNETES_EXEC_INFO` when `provideClusterInfo` is set. */
  cluster?: Pick<ClusterConfig, 'server' | 'ca' | 'insecureSkipTlsVerify' | 'tlsServerName' | 'proxyUrl'>;
  /** Default `defaults.client.execCredentialTtlMs`. */
  ttlMs?: number;
  /** Default `defaults.client.execCredentialExpiryMarginMs`. */
  expiryMarginMs?: number;
  /** Default `defaults.client.execTimeoutMs`. */
  timeoutMs?: number;
  /** Default {@link sharedExecCache}. */
  cache?: ExecCredentialCache;
  /** Base environment of the plugin; default `process.env`. */
  env?: Record<string, string | undefined>;
  logger?: Logger;
}

/**
 * Credentials from an exec plugin (`aws eks get-token`, `gke-gcloud-auth-plugin`, `kubelogin`, ...).
 *
 * @example
 * ```ts
 * const provider = new ExecCredentials(
 *   { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'prod'], env: [], provideClusterInfo: false },
 *   { kubeconfigPath: '/home/me/.kube/config' },
 * );
 * const { authorization } = await provider.get();
 * ```
 */
export class ExecCredentials implements CredentialProvider {
  readonly refreshable = true;
  readonly #exec: ExecConfig;
  readonly #options: ExecCredentialOptions;
  readonly #clock: Clock;
  readonly #cache: ExecCredentialCache;
  readonly #key: string;

  constructor(exec: ExecConfig, options: ExecCredentialOptions = {}) {
    this.#exec = exec;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#cache = options.cache ?? sharedExecCache;
    this.#key = execCacheKey(exec, options.kubeconfigPath, exec.provideClusterInfo ? options.cluster : undefined);
  }

  async get(signal?: AbortSignal): Promise<Credential> {
    const cached = this.#cache.lookup(this.#key, this.#clock.now());
    if (cached) return cached.credential;
    // The run is shared by concurrent callers, so one caller's abort must not kill it: it only
    // stops that caller's wait.
    const entry = await abortable(this.#cache.fill(this.#key, () => this.#run()), signal);
    return entry.credential;
  }

  invalidate(rejected?: Credential): void {
    this.#cache.drop(this.#key, rejected);
  }

  async #run(): Promise<CachedCredential> {
    const started = this.#clock.now();
    const stdout = await runPlugin(this.#exec, {
      execInfo: execInfo(this.#exec, this.#options.cluster),
      timeoutMs: this.#options.timeoutMs ?? defaults.client.execTimeoutMs,
      env: this.#options.env ?? process.env,
    });
    const { credential, expiresAt } = parseExecCredential(stdout, this.#exec);
    const margin = this.#options.expiryMarginMs ?? defaults.client.execCredentialExpiryMarginMs;
    const ttl = this.#options.ttlMs ?? defaults.client.execCredentialTtlMs;
    const refreshAt = expiresAt === undefined ? started + ttl : expiresAt - margin;
    this.#options.logger?.debug({ command: this.#exec.command, expiresAt }, 'exec credential plugin ran');
    return { credential, refreshAt };
  }
}

/**
 * The cache key of an exec plugin: everything that can change its answer. Exported for tests.
 *
 * @example
 * ```ts
 * execCacheKey(exec, '/a/config') !== execCacheKey(exec, '/b/config'); // true
 * ```
 */
export function execCacheKey(exec: ExecConfig, kubeconfigPath: string | undefined, cluster?: ExecCredentialOptions['cluster']): string {
  return JSON.stringify([
    exec.apiVersion,
    exec.command,
    exec.args,
    exec.env,
    exec.provideClusterInfo,
    exec.clusterExtension ?? null,
    kubeconfigPath ?? null,
    cluster ? [cluster.server, cluster.tlsServerName ?? null, cluster.ca?.toString('base64') ?? null] : null,
  ]);
}

function execInfo(exec: ExecConfig, cluster: ExecCredentialOptions['cluster']): string {
  const spec: Record<string, unknown> = { interactive: false };
  if (exec.provideClusterInfo && cluster) {
    const info: Record<string, unknown> = { server: cluster.server };
    if (cluster.tlsServerName) info['tls-server-name'] = cluster.tlsServerName;
    if (cluster.insecureSkipTlsVerify) info['insecure-skip-tls-verify'] = true;
    if (cluster.ca) info['certificate-authority-data'] = cluster.ca.toString('base64');
    if (cluster.proxyUrl) info['proxy-url'] = cluster.proxyUrl;
    if (exec.clusterExtension !== undefined) info['config'] = exec.clusterExtension;
    spec['cluster'] = info;
  }
  return JSON.stringify({ apiVersion: exec.apiVersion, kind: 'ExecCredential', spec });
}

function runPlugin(
  exec: ExecConfig,
  options: { execInfo: string; timeoutMs: number; env: Record<string, string | undefined> },
): Promise<string> {
  const env: Record<string, string | undefined> = { ...options.env };
  for (const { name, value } of exec.env) env[name] = value;
  env['KUBERNETES_EXEC_INFO'] = options.execInfo;
  return new Promise((resolvePromise, reject) => {
    // Loaded here, not imported: an operator without an exec plugin (every in-cluster one) never loads child_process.
    const child = process.getBuiltinModule('node:child_process').execFile(
      exec.command,
      exec.args,
      { env, timeout: options.timeoutMs, maxBuffer: 4 * 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        if (!err) {
          resolvePromise(stdout);
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number | null };
        const tail = stderr.trim().slice(-500);
        if (e.code === 'ENOENT') {
          reject(new CredentialError(`exec credential plugin "${exec.command}" was not found`, exec.installHint?.trim() || `install it or put it on PATH (PATH=${env['PATH'] ?? ''})`, { cause: err }));
        } else if (e.killed) {
          reject(new CredentialError(`exec credential plugin "${exec.command}" did not answer within ${options.timeoutMs} ms${tail ? `; stderr: ${tail}` : ''}`, 'check that the plugin works non-interactively (run it by hand)', { cause: err }));
        } else {
          reject(new CredentialError(`exec credential plugin "${exec.command}" failed (exit code ${String(e.code)})${tail ? `: ${tail}` : ''}`, 'run the command by hand to see why (expired login, missing profile, ...)', { cause: err }));
        }
      },
    );
    // An operator is never interactive: a plugin that asks for input gets EOF instead of hanging.
    child.stdin?.end();
  });
}

/**
 * Parses an ExecCredential printed by a plugin. Exported for tests.
 *
 * @example
 * ```ts
 * parseExecCredential('{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t"}}', exec);
 * // { credential: { authorization: 'Bearer t' }, expiresAt: undefined }
 * ```
 */
export function parseExecCredential(stdout: string, exec: Pick<ExecConfig, 'command' | 'apiVersion'>): { credential: Credential; expiresAt: number | undefined } {
  const fail = (why: string): CredentialError =>
    new CredentialError(`exec credential plugin "${exec.command}" printed ${why}`, 'run the command by hand and check that it prints an ExecCredential as JSON');
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw fail(`something that is not JSON: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  if (parsed === null || typeof parsed !== 'object') throw fail('no ExecCredential object');
  const { apiVersion, kind, status } = parsed as { apiVersion?: unknown; kind?: unknown; status?: unknown };
  if (kind !== 'ExecCredential') throw fail(`kind ${JSON.stringify(kind)} instead of ExecCredential`);
  if (apiVersion !== exec.apiVersion) throw fail(`apiVersion ${JSON.stringify(apiVersion)} but the kubeconfig asks for ${exec.apiVersion}`);
  if (status === null || typeof status !== 'object') throw fail('an ExecCredential without status');
  const s = status as { token?: unknown; clientCertificateData?: unknown; clientKeyData?: unknown; expirationTimestamp?: unknown };
  const credential: Credential = {};
  if (typeof s.token === 'string' && s.token !== '') credential.authorization = `Bearer ${s.token}`;
  const hasCert = typeof s.clientCertificateData === 'string' && s.clientCertificateData !== '';
  const hasKey = typeof s.clientKeyData === 'string' && s.clientKeyData !== '';
  if (hasCert !== hasKey) throw fail(`a client ${hasCert ? 'certificate without a key' : 'key without a certificate'}`);
  if (hasCert && hasKey) {
    credential.clientCert = Buffer.from(s.clientCertificateData as string, 'utf8');
    credential.clientKey = Buffer.from(s.clientKeyData as string, 'utf8');
  }
  if (credential.authorization === undefined && credential.clientCert === undefined) throw fail('neither status.token nor status.clientCertificateData/clientKeyData');
  let expiresAt: number | undefined;
  if (s.expirationTimestamp !== undefined && s.expirationTimestamp !== null && s.expirationTimestamp !== '') {
    expiresAt = typeof s.expirationTimestamp === 'string' ? Date.parse(s.expirationTimestamp) : Number.NaN;
    if (Number.isNaN(expiresAt)) throw fail(`an expirationTimestamp that is not RFC 3339: ${JSON.stringify(s.expirationTimestamp)}`);
  }
  return { credential, expiresAt };
}

/** Options of {@link credentialsFor}. */
export interface CredentialsForOptions {
  clock?: Clock;
  logger?: Logger;
  execCache?: ExecCredentialCache;
}

/**
 * The provider a {@link ClusterConfig}'s auth calls for.
 *
 * @example
 * ```ts
 * const provider = credentialsFor(loadClusterConfig());
 * ```
 */
export function credentialsFor(config: ClusterConfig, options: CredentialsForOptions = {}): CredentialProvider {
  const auth = config.auth;
  switch (auth.type) {
    case 'none':
    case 'clientCert':
      return staticCredentials({});
    case 'token':
      return staticCredentials({ authorization: `Bearer ${auth.token}` });
    case 'basic':
      return staticCredentials({ authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` });
    case 'tokenFile':
      return new TokenFileCredentials(auth.path, { ...(options.clock ? { clock: options.clock } : {}), ...(options.logger ? { logger: options.logger } : {}) });
    case 'exec':
      return new ExecCredentials(auth.exec, {
        cluster: config,
        ...(auth.kubeconfigPath !== undefined ? { kubeconfigPath: auth.kubeconfigPath } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.execCache ? { cache: options.execCache } : {}),
      });
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function sameCredential(a: Credential, b: Credential): boolean {
  return a.authorization === b.authorization && bufferEqual(a.clientCert, b.clientCert);
}

function bufferEqual(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.equals(b));
}
