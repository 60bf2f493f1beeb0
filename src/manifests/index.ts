/**
 * The manifests layer: the Kubernetes objects an operator's declarations imply, as data the CLI
 * prints and the runtime applies: CustomResourceDefinitions from resource declarations, and the
 * least-privilege RBAC from a registry. This file only re-exports.
 */
export {
  toCrd,
  crdToYaml,
  conversionPath,
  localConversionClientConfig,
  type CrdOptions,
  type CustomResourceConversion,
  type CustomResourceDefinition,
  type CustomResourceDefinitionVersion,
  type WebhookClientConfig,
} from './crd.ts';
export { mergeRules, rbacFor, registryRules, type RbacOptions, type RbacRule } from './rbac.ts';
