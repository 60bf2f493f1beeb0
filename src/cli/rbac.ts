/**
 * `operon rbac <file>... [--name N] [--namespace NS] [-w NS]...`: the least-privilege RBAC of the
 * operator the files define, as YAML for `kubectl apply -f -` (what is granted and why:
 * `manifests/rbac.ts`). Extra rules come from an exported `Operator`'s `rbac` option and from an
 * exported array named `rbac`. The output is byte-stable, so it can be checked in and compared
 * with a fresh generation in tests.
 */
import YAML from 'yaml';
import type { KubeObject } from '../client/types.ts';
import { rbacFor, type RbacRule } from '../manifests/rbac.ts';
import { addShardAssignment } from '../runtime/shard-assignment.ts';
import type { GenerateCommand } from './options.ts';
import { CliError, importFiles } from './load.ts';
import { operatorFrom, registryFrom } from './run.ts';

/**
 * The RBAC YAML for the operator the files define.
 *
 * @example
 * ```ts
 * process.stdout.write(await rbacCommand({ command: 'rbac', files: ['operator.ts'], name: 'printer', namespace: 'ops', watchNamespaces: [] }));
 * ```
 */
export async function rbacCommand(cmd: GenerateCommand): Promise<string> {
  const modules = await importFiles(cmd.files);
  const operator = operatorFrom(modules);
  const registry = await registryFrom(modules);
  if (registry.resources.length === 0) {
    throw new CliError(`${cmd.files.join(', ')} registered no resource: call resource(...).onCreate(...) or similar at the top level`, 2);
  }
  // A sharded operator that serves webhooks also serves the ring's assignment webhook.
  if (operator?.sharding && operator.servesWebhooks) addShardAssignment(registry, operator.sharding.ring, () => undefined);
  const exported = modules.flatMap((m) => (m.exports['rbac'] === undefined ? [] : [checkRules(m.exports['rbac'], m.file)]));
  const extraRules = [...(operator?.rbac ?? []), ...exported.flat()];
  return rbacToYaml(rbacFor(registry, { name: cmd.name, namespace: cmd.namespace, watchNamespaces: cmd.watchNamespaces, extraRules, ...(cmd.namespaceSelector ? { namespaceSelector: true } : {}), ...(cmd.sharding || operator?.sharding ? { sharding: true } : {}) }));
}

/**
 * Objects as a multi-document YAML stream, keys in Kubernetes' usual order.
 *
 * @example
 * ```ts
 * rbacToYaml(rbacFor(registry, { name: 'op', namespace: 'ops' }));
 * ```
 */
export function rbacToYaml(objects: readonly KubeObject[]): string {
  return objects.map((object) => YAML.stringify(object, { lineWidth: 0, version: '1.1' })).join('---\n');
}

function checkRules(value: unknown, file: string): RbacRule[] {
  const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
  const ok =
    Array.isArray(value) &&
    value.every(
      (r: unknown) =>
        typeof r === 'object' &&
        r !== null &&
        isStrings((r as RbacRule).apiGroups) &&
        isStrings((r as RbacRule).resources) &&
        isStrings((r as RbacRule).verbs) &&
        ((r as RbacRule).resourceNames === undefined || isStrings((r as RbacRule).resourceNames)),
    );
  if (!ok) throw new CliError(`${file} exports "rbac", but it is not a list of rules like { apiGroups: [''], resources: ['pods'], verbs: ['delete'] }`, 2);
  return value as RbacRule[];
}
