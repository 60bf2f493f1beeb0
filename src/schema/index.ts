/**
 * The schema layer: declare a resource once with TypeBox and get its TypeScript type, its client
 * address and its CustomResourceDefinition. This file only re-exports; each module states its
 * own guarantees.
 */
export { SchemaError, type SchemaErrorKind, type SchemaProblem } from './errors.ts';
export {
  toStructuralSchema,
  validateStructuralSchema,
  assertStructuralSchema,
  canonicalSchema,
  SCHEMA_KEY_ORDER,
  type JSONSchemaProps,
  type JsonValue,
  type SchemaInput,
  type StructuralOptions,
  type StructuralType,
  type ValidateOptions,
} from './structural.ts';
export {
  defineResource,
  builtin,
  pluralize,
  type BuiltinKinds,
  type BuiltinNames,
  type BuiltinResource,
  type CustomObject,
  type CustomResource,
  type ObjectOf,
  type PrinterColumn,
  type Resource,
  type ResourceDeclaration,
  type ResourceObject,
  type Scope,
} from './resource.ts';
export { toCrd, crdToYaml, type CrdOptions, type CustomResourceDefinition, type CustomResourceDefinitionVersion } from './crd.ts';
export { ConditionSchema, conditionList, type ConditionShape } from './conditions.ts';
