/**
 * The state layer: what Operon keeps on the objects it handles, so that restarts are safe and no
 * database is needed. Per-handler progress, the diff base (last handled essence) with its
 * behaviour past the annotation size limit, the patch handlers collect, and finalizer patches
 * that never lose another controller's finalizer. Pure functions over JSON; no IO.
 */
export { cloneJson, canonicalJson, getField, hasField, isPlainObject, jsonEqual, parseFieldPath, setField, type FieldPath } from './fields.ts';
export { diff, reduceDiff, type Diff, type DiffItem } from './diff.ts';
export {
  LAST_HANDLED_KEY,
  compareWithDiffBase,
  diffBaseKey,
  encodeDiffBase,
  essenceOf,
  isOwnAnnotation,
  readDiffBase,
  type Comparison,
  type DiffBase,
  type EncodeOptions,
  type Essence,
  type EssenceOptions,
} from './essence.ts';
export { AnnotationProgressStorage, StatusProgressStorage, isDone, progressKey, type ProgressRecord, type ProgressStorage } from './progress.ts';
export { applyMergePatch, isEmptyPatch, newPatch, splitPatch, type MergePatch, type MetadataPatch, type ObjectPatch, type SplitPatch } from './patch.ts';
export { addFinalizerOps, finalizerName, hasFinalizer, removeFinalizerOps } from './finalizers.ts';
