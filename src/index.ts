/**
 * Operon's public API: what `import … from 'operon'` gives. Nothing internal is exported here;
 * each layer's own index decides what of it is public.
 */
export { defaults, type Defaults } from './defaults.ts';
export type { Clock } from './base/clock.ts';
export type { Logger } from './base/logger.ts';
export {
  KubeClient,
  ApiError,
  TransportError,
  ProtocolError,
  isApiError,
  isRetryable,
  type ApiErrorKind,
  type ClientOptions,
  type LoadOptions,
  type Patch,
  type JsonPatchOp,
} from './client/index.ts';
export type { KubeObject, Stored, ObjectList, WatchEvent, Status, ResourceRef } from './client/types.ts';
export {
  defineResource,
  builtin,
  toCrd,
  crdToYaml,
  SchemaError,
  type CustomResource,
  type ResourceObject,
  type ObjectOf,
  type PrinterColumn,
} from './schema/index.ts';
export { Type, type Static } from '@sinclair/typebox';
