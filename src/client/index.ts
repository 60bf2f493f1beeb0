/**
 * The client layer: configuration and auth, HTTP transport, typed errors, patch kinds, discovery
 * and {@link KubeClient}. It imports nothing of Operon above `base/` and never
 * `@kubernetes/client-node`, whose install and memory cost is what this layer exists to avoid.
 */
export { KubeClient, CRD_RESOURCE, CrdNotEstablishedError } from './client.ts';
export type {
  ClientOptions,
  RequestTracer,
  LoadOptions,
  ObjectOptions,
  GetOptions,
  WriteOptions,
  ReplaceOptions,
  PatchOptions,
  DeleteOptions,
  WatchStreamOptions,
  WaitForCrdOptions,
} from './client.ts';

export { ConfigError, SERVICE_ACCOUNT_DIR, fromKubeConfigObject, loadClusterConfig, loadInCluster, loadKubeconfigFiles, mergeKubeconfigs, selectContext } from './kubeconfig.ts';
export type { AuthConfig, ClusterConfig, ExecConfig, InClusterOptions, KubeConfigLike, LoadConfigOptions, MergedKubeconfig } from './kubeconfig.ts';

export { CredentialError, ExecCredentialCache, ExecCredentials, TokenFileCredentials, credentialsFor, sharedExecCache, staticCredentials } from './credentials.ts';
export type { Credential, CredentialProvider, CredentialsForOptions, ExecCredentialOptions, TokenFileOptions } from './credentials.ts';

export { Transport, splitLines } from './transport.ts';
export type { HttpRequest, HttpResponse, LineStream, TransportOptions } from './transport.ts';

export { ApiError, ProtocolError, TransportError, classify, errorFromResponse, errorFromStatus, isApiError, isRetryable, parseRetryAfter } from './errors.ts';
export type { ApiErrorKind, RequestDescription } from './errors.ts';

export { encodePatch, escapeJsonPointer } from './patch.ts';
export type { EncodedPatch, JsonPatchOp, Patch } from './patch.ts';

export { keyOf, objectKey, parseKey, type KeyParts } from './keys.ts';
export { apiVersionOf, describeRequest, groupVersionPath, parseApiVersion, queryString, resourceName, resourcePath } from './paths.ts';
export type { QueryParams, ResourceTarget } from './paths.ts';

export { Discovery } from './discovery.ts';
export type { DiscoveredResource, DiscoveryFetch } from './discovery.ts';

export { parseWatchEvent } from './watch-events.ts';

export { INITIAL_EVENTS_END_ANNOTATION } from './types.ts';
export type { KubeObject, ListOptions, ObjectList, ObjectMeta, RequestOptions, ResourceRef, Status, Stored, WatchEvent, WatchOptions } from './types.ts';
