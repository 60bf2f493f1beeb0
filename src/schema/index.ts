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
export { withRules, checkValidationRules } from './cel.ts';
export {
  defineVersions,
  conversion,
  isVersionedResource,
  type Conversion,
  type ConvertedObject,
  type ConversionStep,
  type VersionedResource,
  type VersionsDeclaration,
} from './versions.ts';
export {
  convertObject,
  convertReview,
  isConversionReviewRequest,
  conversionDataAnnotation,
  ConversionError,
  CONVERSION_DATA,
  type ConversionErrorKind,
  type ConversionRequest,
  type ConversionResponse,
  type ConversionReview,
  type ConversionReviewRequest,
} from './conversion.ts';
export { ConditionSchema, conditionList, type ConditionShape } from './conditions.ts';
