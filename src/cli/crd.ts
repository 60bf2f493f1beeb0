/**
 * `operon crd <file>...`: the CRDs of the custom resources the files export, as YAML, ready for
 * `kubectl apply -f -`. Versions of one kind are merged into one CRD. The output is byte-stable, so
 * checked-in CRDs can be compared with a fresh generation in tests.
 */
import { crdToYaml, toCrd, type CustomResource } from '../schema/index.ts';
import { CliError, exportedResources, importFiles } from './load.ts';

export async function crdCommand(files: readonly string[]): Promise<string> {
  const resources = exportedResources(await importFiles(files));
  if (resources.length === 0) {
    throw new CliError(`no custom resources are exported by ${files.join(', ')}: export the value returned by resource()/defineResource()`, 2);
  }
  const byName = new Map<string, CustomResource[]>();
  for (const r of resources) byName.set(r.crdName, [...(byName.get(r.crdName) ?? []), r]);
  return crdToYaml([...byName.values()].map((versions) => toCrd(versions)));
}
