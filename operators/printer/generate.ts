/**
 * Prints the Printer's CustomResourceDefinition as YAML on stdout. `crd.yaml` is this script's
 * output, checked in; `test/unit/printer/crd.test.ts` fails when the two differ. Regenerate with:
 *
 *     node -C operon-source operators/printer/generate.ts > operators/printer/crd.yaml
 */
import { crdToYaml, toCrd } from 'operon-k8s';
import { Printer } from './resource.ts';

process.stdout.write(crdToYaml(toCrd(Printer)));
