/**
 * CEL validation rules (`x-kubernetes-validations`) attached to schema nodes, and the static
 * checks that refuse, at declaration time, rules the API server would refuse when the CRD is
 * applied.
 *
 * Guarantees: {@link checkValidationRules} reports, with the schema path of the node and the rule's
 * index, every rule that breaks one of these API server checks (apiextensions-apiserver
 * `validation.go` and the CEL compiler's type check):
 * - an empty `rule`; a `message` that is empty or has line breaks; a multi-line rule with no `message`;
 * - a `reason` other than FieldValueInvalid, FieldValueForbidden, FieldValueRequired, FieldValueDuplicate;
 * - `optionalOldSelf` on a rule that does not use `oldSelf`;
 * - a transition rule (`oldSelf`) under the items of a list that is not `x-kubernetes-list-type: map`,
 *   where old and new elements cannot be correlated;
 * - `self.<field>` / `oldSelf.<field>` naming a field the node does not declare (the compiler's
 *   "undefined field"), on objects that do not keep unknown fields, and any field access on a scalar;
 * - a `fieldPath` that does not name a declared field of the node.
 * Rules inside allOf/anyOf/oneOf/not are refused by the structural check (`structural.ts`).
 *
 * Not checked: CEL syntax, types beyond field names, and the cost budget. The API server still
 * refuses those at `kubectl apply`, with its own message.
 */
import type { ValidationRule } from 'kubernetes-types/apiextensions/v1.d.ts';
import type { SchemaProblem } from './errors.ts';
import type { JSONSchemaProps } from './structural.ts';

const REASONS = new Set(['FieldValueInvalid', 'FieldValueForbidden', 'FieldValueRequired', 'FieldValueDuplicate']);

/** Fields a rule on the root of a custom resource may read. */
const ROOT_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Attaches CEL rules to a TypeBox schema (the same as the `'x-kubernetes-validations'` option),
 * keeping its static type. `operon crd` emits them at this node.
 *
 * @example
 * ```ts
 * const Range = withRules(Type.Object({ min: Type.Integer(), max: Type.Integer() }), [
 *   { rule: 'self.min <= self.max', message: 'min must not exceed max' },
 * ]);
 * ```
 */
export function withRules<T extends object>(schema: T, rules: readonly ValidationRule[]): T {
  const existing = (schema as { 'x-kubernetes-validations'?: readonly ValidationRule[] })['x-kubernetes-validations'] ?? [];
  // The spread keeps TypeBox's symbol-keyed metadata (Kind) and leaves the input untouched.
  return { ...schema, 'x-kubernetes-validations': [...existing, ...rules] };
}

/**
 * Every rule in the tree that the API server would refuse, as problems; empty when all pass.
 * `root: true` checks a CRD's root schema (its rules may read apiVersion, kind and metadata).
 *
 * @example
 * ```ts
 * checkValidationRules(openAPIV3Schema, { path: 'Printer.v1.openAPIV3Schema', root: true }); // []
 * ```
 */
export function checkValidationRules(schema: JSONSchemaProps, options: { path: string; root?: boolean }): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  walk(schema, options.path, { correlatable: true, root: options.root === true }, problems);
  return problems;
}

function walk(node: JSONSchemaProps, path: string, where: { correlatable: boolean; root: boolean }, problems: SchemaProblem[]): void {
  (node['x-kubernetes-validations'] ?? []).forEach((rule, i) => checkRule(node, rule, `${path}.x-kubernetes-validations[${i}]`, where, problems));
  for (const [name, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.properties.${name}`, { correlatable: where.correlatable, root: false }, problems);
  if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}.additionalProperties`, { correlatable: where.correlatable, root: false }, problems);
  if (node.items && !Array.isArray(node.items)) {
    const correlatable = where.correlatable && node['x-kubernetes-list-type'] === 'map';
    walk(node.items, `${path}.items`, { correlatable, root: false }, problems);
  }
}

function checkRule(node: JSONSchemaProps, rule: ValidationRule, path: string, where: { correlatable: boolean; root: boolean }, problems: SchemaProblem[]): void {
  const report = (message: string, fix: string): void => {
    problems.push({ path, message, fix });
  };
  const text = typeof rule.rule === 'string' ? rule.rule : '';
  if (text.trim() === '') {
    report('the rule is empty', 'write a CEL expression over self, e.g. "self.min <= self.max"');
    return;
  }
  if (rule.message !== undefined) {
    if (rule.message.trim() === '') report('message is empty', 'write a message or remove the field');
    if (/[\r\n]/.test(rule.message)) report('message contains line breaks', 'put the message on one line');
  } else if (/[\r\n]/.test(text) && rule.messageExpression === undefined) {
    report('a rule with line breaks needs a message', 'add `message` (the API server cannot quote a multi-line rule)');
  }
  if (rule.messageExpression !== undefined && rule.messageExpression.trim() === '') report('messageExpression is empty', 'write a CEL string expression or remove the field');
  if (rule.reason !== undefined && !REASONS.has(rule.reason)) report(`reason ${JSON.stringify(rule.reason)} is not one the API server accepts`, `use one of ${[...REASONS].join(', ')}`);

  const code = stripStrings(text);
  const usesOldSelf = /\boldSelf\b/.test(code);
  if (rule.optionalOldSelf === true && !usesOldSelf) report('optionalOldSelf is set but the rule does not use oldSelf', 'remove optionalOldSelf or compare with oldSelf');
  if (usesOldSelf && !where.correlatable) {
    report('a transition rule (oldSelf) sits under the items of a list that is not x-kubernetes-list-type: map, so old and new items cannot be paired', 'move the rule to the list itself, or make the list a map list keyed by a field');
  }

  for (const match of code.matchAll(/(?<![\w.])(self|oldSelf)\.([A-Za-z_][A-Za-z0-9_]*)(?!\w)(?!\s*\()/g)) {
    const variable = match[1] ?? 'self';
    const field = match[2] ?? '';
    const problem = missingField(node, field, where.root);
    if (problem) report(`${variable}.${field}: ${problem}`, `declare ${field} in this node's schema, or fix the rule`);
  }
  if (rule.fieldPath !== undefined) {
    const problem = fieldPathProblem(node, rule.fieldPath);
    if (problem) report(`fieldPath ${JSON.stringify(rule.fieldPath)} ${problem}`, 'point fieldPath at a declared field of this node, e.g. ".spec.amount"');
  }
}

/** Why `field` cannot be read on `node`, or undefined when it can. */
function missingField(node: JSONSchemaProps, field: string, root: boolean): string | undefined {
  // Escaped names (__dash__, __namespace__...) map back to declared names we do not decode here.
  if (field.startsWith('__')) return undefined;
  if (node['x-kubernetes-preserve-unknown-fields'] === true || node['x-kubernetes-embedded-resource'] === true) return undefined;
  if (node.type === 'object') {
    if (typeof node.additionalProperties === 'object' || node.additionalProperties === true) return undefined;
    if (node.properties && field in node.properties) return undefined;
    if (root && ROOT_FIELDS.has(field)) return undefined;
    return 'undefined field: the schema does not declare it';
  }
  if (node.type === undefined && node['x-kubernetes-int-or-string'] !== true) return undefined;
  return `a ${node['x-kubernetes-int-or-string'] === true ? 'int-or-string' : String(node.type)} has no fields`;
}

function fieldPathProblem(node: JSONSchemaProps, fieldPath: string): string | undefined {
  if (!fieldPath.startsWith('.') && !fieldPath.startsWith('[')) return 'must start with "." or "["';
  let current: JSONSchemaProps | undefined = node;
  for (const raw of fieldPath.match(/\.[A-Za-z_][\w-]*|\['[^']*'\]|\[\d+\]/g) ?? []) {
    if (!current || current['x-kubernetes-preserve-unknown-fields'] === true) return undefined;
    if (raw.startsWith('[') && /^\[\d+\]$/.test(raw)) {
      current = Array.isArray(current.items) ? undefined : current.items;
      continue;
    }
    const name = raw.startsWith('.') ? raw.slice(1) : raw.slice(2, -2);
    const next: JSONSchemaProps | undefined = current.properties?.[name] ?? (typeof current.additionalProperties === 'object' ? current.additionalProperties : undefined);
    if (!next) return `names ${name}, which the schema does not declare`;
    current = next;
  }
  return undefined;
}

/** The rule with string literals blanked, so `'self.x'` inside a message string is not read as code. */
function stripStrings(code: string): string {
  return code.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
}
