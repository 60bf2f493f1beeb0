/**
 * The one error the schema layer throws. Like every Operon error it is a value with a `kind` to
 * branch on, a message for a human and a `hint` saying what to do. Every problem names the place
 * it was found (a schema path such as `Printer.spec.properties.text`), so a user never has to
 * bisect a schema to find the construct Kubernetes would refuse.
 *
 * Guarantee: `message` always contains each problem's path and fix, so a stack trace printed by
 * Node at import time (where resources are declared) is enough to repair the declaration.
 */

export type SchemaErrorKind =
  /** The input uses a construct that has no structural-schema equivalent (e.g. a union of objects). */
  | 'Unsupported'
  /** A finished schema breaks one of Kubernetes' structural-schema rules. */
  | 'NotStructural'
  /** A `$ref` names a schema that was not given. */
  | 'UnresolvedRef'
  /** A schema refers to itself; structural schemas are finite trees. */
  | 'Recursive'
  /** A CEL rule (`x-kubernetes-validations`) the API server would refuse. */
  | 'InvalidRule'
  /** A resource declaration (names, scope, printer columns, versions) is invalid. */
  | 'InvalidDeclaration';

/** One thing wrong, where it is and how to fix it. */
export interface SchemaProblem {
  /** Where, as a schema path: `Printer.spec.properties.tags.patternProperties`. */
  path: string;
  message: string;
  /** What to change so the problem goes away. */
  fix: string;
}

/**
 * A resource declaration or schema Kubernetes would refuse, thrown where the resource is declared;
 * `problems` lists each place and its fix.
 *
 * @example
 * ```ts
 * // Throws SchemaError (kind 'Unsupported'): a union of objects has no structural schema.
 * resource({ group, version: 'v1', kind: 'Pet', spec: Type.Union([Type.Object({ cat: Type.String() }), Type.Object({ dog: Type.String() })]) });
 * ```
 */
export class SchemaError extends Error {
  /** Always `'SchemaError'`. */
  override readonly name = 'SchemaError';
  /** What went wrong, to branch on. */
  readonly kind: SchemaErrorKind;
  /** Every problem found; at least one. */
  readonly problems: readonly SchemaProblem[];
  /** The path of the first problem. */
  readonly path: string;
  /** The fix of the first problem. */
  readonly hint: string;

  constructor(kind: SchemaErrorKind, problems: readonly [SchemaProblem, ...SchemaProblem[]]) {
    super(formatProblems(problems));
    this.kind = kind;
    this.problems = problems;
    this.path = problems[0].path;
    this.hint = problems[0].fix;
  }
}

/**
 * Throws a {@link SchemaError} of the given kind for one problem.
 *
 * @example
 * ```ts
 * fail('Unsupported', { path: 'X.spec', message: 'bigint has no JSON form', fix: 'use Type.Integer()' });
 * ```
 */
export function fail(kind: SchemaErrorKind, problem: SchemaProblem): never {
  throw new SchemaError(kind, [problem]);
}

function formatProblems(problems: readonly SchemaProblem[]): string {
  const lines = problems.map((p) => `${p.path}: ${p.message}. Fix: ${p.fix}`);
  return lines.length === 1 ? (lines[0] ?? '') : `${lines.length} problems:\n  ${lines.join('\n  ')}`;
}
