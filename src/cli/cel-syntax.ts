/**
 * CEL syntax check for `operon crd`: every `x-kubernetes-validations` rule and messageExpression of
 * the generated CRDs is parsed before the YAML is printed, so a typo is named here (CRD, version,
 * schema path, rule) rather than by the API server at `kubectl apply`.
 *
 * The parser (`@marcbachmann/cel-js`, zero dependencies, +6 MB RSS) is imported only here, by
 * `operon crd`; `operon run` never loads it. Only syntax is checked, with CEL's optional syntax
 * (`self.?x`) enabled as the API server has it: types and field names are `src/schema/cel.ts`'s
 * static checks, costs remain the API server's.
 */
import type { CustomResourceDefinition } from '../manifests/index.ts';
import type { JSONSchemaProps } from '../schema/index.ts';

/** One rule that does not parse, where it is, and the parser's message. */
export interface CelSyntaxProblem {
  path: string;
  expression: string;
  message: string;
}

/**
 * Every rule and messageExpression in the CRDs that is not valid CEL syntax.
 *
 * @example
 * ```ts
 * const problems = await celSyntaxProblems([toCrd(Printer)]); // [] when every rule parses
 * ```
 */
export async function celSyntaxProblems(crds: readonly CustomResourceDefinition[]): Promise<CelSyntaxProblem[]> {
  const { Environment } = await import('@marcbachmann/cel-js');
  const env = new Environment({ enableOptionalTypes: true, unlistedVariablesAreDyn: true });
  const problems: CelSyntaxProblem[] = [];
  const check = (path: string, expression: string): void => {
    try {
      env.parse(expression);
    } catch (error) {
      const first = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
      problems.push({ path, expression, message: first });
    }
  };
  const walk = (node: JSONSchemaProps, path: string): void => {
    (node['x-kubernetes-validations'] ?? []).forEach((rule, i) => {
      const at = `${path}.x-kubernetes-validations[${i}]`;
      check(`${at}.rule`, rule.rule);
      if (rule.messageExpression !== undefined) check(`${at}.messageExpression`, rule.messageExpression);
    });
    for (const [name, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.properties.${name}`);
    if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}.additionalProperties`);
    if (node.items && !Array.isArray(node.items)) walk(node.items, `${path}.items`);
  };
  for (const crd of crds) for (const version of crd.spec.versions) walk(version.schema.openAPIV3Schema, `${crd.spec.names.kind}.${version.name}.openAPIV3Schema`);
  return problems;
}
