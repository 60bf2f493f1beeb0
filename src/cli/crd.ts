/**
 * `operon crd <file>...`: the CRDs of the custom resources the files export, as YAML, ready for
 * `kubectl apply -f -`. An exported `defineVersions(...)` value gives one CRD with all its
 * versions, its storage version and `spec.conversion`; other resources of one kind are merged
 * into one CRD (one version each). The output is byte-stable, so checked-in CRDs can be compared
 * with a fresh generation in tests.
 */
import { conversionPath, crdToYaml, toCrd, type CustomResourceDefinition, type WebhookClientConfig } from '../manifests/index.ts';
import { isVersionedResource, SchemaError, type CustomResource, type VersionedResource } from '../schema/index.ts';
import { celSyntaxProblems } from './cel-syntax.ts';
import { CliError, exportedResources, importFiles } from './load.ts';
import type { GenerateCommand } from './options.ts';

/**
 * The YAML of every CRD the files export.
 *
 * @example
 * ```ts
 * process.stdout.write(await crdCommand(['operators/crypto/resource.ts']));
 * ```
 */
export async function crdCommand(files: readonly string[], conversion?: GenerateCommand['conversion']): Promise<string> {
  const modules = await importFiles(files);
  const versioned = new Map<string, VersionedResource>();
  for (const m of modules) for (const value of Object.values(m.exports)) if (isVersionedResource(value)) versioned.set(value.crdName, value);
  const resources = exportedResources(modules);
  if (resources.length === 0 && versioned.size === 0) {
    throw new CliError(`no custom resources are exported by ${files.join(', ')}: export the value returned by resource()/defineResource()`, 2);
  }
  const byName = new Map<string, CustomResource[]>();
  for (const r of resources) if (!versioned.has(r.crdName)) byName.set(r.crdName, [...(byName.get(r.crdName) ?? []), r]);
  const crds: CustomResourceDefinition[] = [];
  try {
    for (const versions of byName.values()) crds.push(toCrd(versions));
    for (const set of versioned.values()) crds.push(toCrd(set, conversion ? { conversionClientConfig: conversionClientConfig(conversion, conversionPath(set)) } : {}));
  } catch (error) {
    // A declaration mistake (versions without a storage version, a rule on the root the API
    // server would refuse) is the user's to fix: one line, no stack.
    if (error instanceof SchemaError) throw new CliError(error.message, 2);
    throw error;
  }
  const [bad, ...more] = await celSyntaxProblems(crds);
  if (bad) {
    const all = [bad, ...more].map((p) => `${p.path}: ${JSON.stringify(p.expression)} is not valid CEL (${p.message})`);
    throw new CliError(`${all.join('; ')}. Fix: correct the expression`, 2);
  }
  return crdToYaml(crds);
}

/** The CRD's client config for `--conversion-service`/`--conversion-url`: what the operator patches in, so applies merge. */
function conversionClientConfig(conversion: NonNullable<GenerateCommand['conversion']>, path: string): WebhookClientConfig {
  return 'url' in conversion ? { url: `${conversion.url}${path}` } : { service: { ...conversion.service, path } };
}
