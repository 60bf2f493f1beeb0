/**
 * `operon init [<dir>] [--group G] [--kind K] [--version V]`: a working operator project in `dir`
 * (kubebuilder's `init` and `create api` in one step, like `npx pepr init`). What it writes is in
 * `templates/project.ts`; the CRD and RBAC in `config/` are `operon crd` and `operon rbac` of the
 * example resource, generated here in-process because the project has no node_modules yet (byte
 * for byte what `npm run generate` writes).
 *
 * Guarantees:
 * - Names are checked before anything is written; a bad one is one line naming the rule.
 * - Nothing is overwritten: when any file `init` would write exists, it writes none and lists them.
 *   The one exception is the package.json `npm install operon-k8s` leaves in an empty folder (only
 *   dependencies): the project's package.json takes its place, keeping those dependencies as
 *   installed, so `npm install operon-k8s && npx operon init` works.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { Registry, resource } from '../handlers/registry.ts';
import { rbacFor } from '../manifests/rbac.ts';
import { crdToYaml, toCrd } from '../manifests/index.ts';
import { CliError } from './load.ts';
import { defaults } from '../defaults.ts';
import type { AddResourceCommand, InitCommand } from './options.ts';
import { rbacToYaml } from './rbac.ts';
import * as t from './templates/project.ts';


/**
 * Why a name is not acceptable, or undefined. One line naming the rule and an example, and the
 * kind as the user gave it: `--kind` to `init`, the argument of `add resource <Kind>`.
 */
export function checkNames(names: { group: string; kind: string; version: string }, kindGiven: '--kind' | 'the kind' = '--kind'): string | undefined {
  const { group, kind, version } = names;
  if (!/^[A-Z][A-Za-z0-9]{0,62}$/.test(kind)) {
    return `${kindGiven} "${kind}" must be UpperCamelCase: an upper-case letter, then letters and digits, at most 63 (e.g. Echo, CryptoValue)`;
  }
  const label = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
  if (group.length > 253 || !group.includes('.') || !group.split('.').every((l) => label.test(l))) {
    return `--group "${group}" must be a DNS subdomain with a dot: lower-case labels of letters, digits and '-', joined by '.' (e.g. example.com)`;
  }
  if (!/^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$/.test(version)) {
    return `--version "${version}" must be a Kubernetes API version: v1, v2, v1beta1, v1alpha2 …`;
  }
  return undefined;
}

/** npm's name rule, for the folder name that becomes the package's and the operator's name. */
function projectName(dir: string): string {
  const name = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return name === '' ? 'operator' : name.slice(0, 63);
}

/**
 * The dependency on `operon-k8s` a new project gets: OPERON_INIT_DEPENDENCY when set (a `file:`
 * tarball, for tests of the package before it is published), else `^<this CLI's version>`.
 */
export function dependencyRange(env: NodeJS.ProcessEnv = process.env): string {
  const given = env['OPERON_INIT_DEPENDENCY'];
  if (given !== undefined && given !== '') return given;
  const pkg = JSON.parse(readFileSync(new URL(import.meta.resolve('operon-k8s/package.json')), 'utf8')) as { version: string };
  return `^${pkg.version}`;
}

/**
 * The offline image build (`deploy/image/build.sh` of a new project), a shell script kept as a file
 * beside this module's source: `src/cli/templates/` in the repository and in the package (which
 * ships src/ beside dist/src/).
 */
function imageBuildScript(): string {
  const candidates = [new URL('./templates/image-build.sh', import.meta.url), new URL('../../../src/cli/templates/image-build.sh', import.meta.url)];
  const found = candidates.find((url) => existsSync(url));
  if (found === undefined) throw new CliError('this operon-k8s installation lacks src/cli/templates/image-build.sh: reinstall it', 1);
  return readFileSync(found, 'utf8');
}

/** Every file of a new project, by path relative to its folder. */
export function projectFiles(names: t.ProjectNames): Map<string, string> {
  const stem = t.stemOf(names.kind);
  const example = t.exampleResource(names);
  const registry = new Registry();
  // The operator registers one reconcile handler on the resource: the same RBAC as its sources.
  resource(example, { registry }).reconcile(() => undefined);
  return new Map([
    ['package.json', t.packageJson(names)],
    ['tsconfig.json', t.TSCONFIG],
    ['.gitignore', t.GITIGNORE],
    ['README.md', t.readme(names)],
    ['Dockerfile', t.DOCKERFILE],
    ['deploy/image/build.sh', imageBuildScript()],
    [`src/${stem}.ts`, t.resourceSource(names)],
    ['src/operator.ts', t.operatorSource(names)],
    ['test/operator.test.ts', t.testSource(names)],
    ['config/kustomization.yaml', t.kustomization(names)],
    ['config/namespace.yaml', t.namespaceYaml(names)],
    ['config/crd/crd.yaml', crdToYaml([toCrd(example)])],
    ['config/rbac/rbac.yaml', rbacToYaml(rbacFor(registry, { name: names.name, namespace: names.name }))],
    ['config/manager/deployment.yaml', t.deploymentYaml(names)],
    [`config/samples/${stem.toLowerCase()}.yaml`, t.sample(names)],
  ]);
}

/** Writes the project; returns the exit code. */
export function initCommand(cmd: InitCommand, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): number {
  const problem = checkNames(cmd);
  if (problem) throw new CliError(problem, 2);
  const dir = resolve(cmd.dir);
  const names: t.ProjectNames = { name: projectName(dir), group: cmd.group, kind: cmd.kind, version: cmd.version, dependency: dependencyRange() };
  const files = projectFiles(names);
  const installed = npmInstalledOnly(join(dir, 'package.json'));
  if (installed) files.set('package.json', withDependencies(files.get('package.json') ?? '{}', installed));
  const existing = [...files.keys()].filter((f) => existsSync(join(dir, f)) && !(f === 'package.json' && installed));
  if (existing.length > 0) {
    throw new CliError(`${dir} already has ${existing.join(', ')}: nothing was written; choose an empty folder or move those files away`, 2);
  }
  for (const [file, content] of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), content, { flag: file === 'package.json' && installed ? 'w' : 'wx', mode: file.endsWith('.sh') ? 0o755 : 0o644 });
  }
  const cd = relative(process.cwd(), dir);
  out(`operon: created ${names.name} (${cmd.kind}, ${cmd.group}/${cmd.version}) in ${dir}`);
  out('next:');
  if (cd !== '') out(`  cd ${cd}`);
  out('  npm install');
  out('  npx operon cluster up     # or point KUBECONFIG at any cluster');
  out('  npm test');
  return 0;
}

/** What `npm install <packages>` writes in a folder with no package.json: dependency blocks only. */
type InstalledOnly = Partial<Record<'dependencies' | 'devDependencies', Record<string, string>>>;

/** The dependencies of a package.json that `npm install` alone made, or undefined for any other (or none). */
function npmInstalledOnly(file: string): InstalledOnly | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const keys = Object.keys(parsed);
  return keys.length > 0 && keys.every((k) => k === 'dependencies' || k === 'devDependencies') ? (parsed as InstalledOnly) : undefined;
}

/** The project's package.json with what was installed before `init` added, as installed (a tarball stays a tarball). */
function withDependencies(template: string, installed: InstalledOnly): string {
  const pkg = JSON.parse(template) as Record<string, unknown> & InstalledOnly;
  pkg.dependencies = { ...pkg.dependencies, ...installed.dependencies };
  if (installed.devDependencies) pkg.devDependencies = { ...pkg.devDependencies, ...installed.devDependencies };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/**
 * `operon add resource <Kind>`: a second resource in a project `operon init` made. Writes
 * `src/<kind>.ts` (declaration and reconcile handler, in the group and version package.json's
 * `operon` block names unless flags say otherwise) and an example object in
 * `config/samples/<kind>.yaml`, and re-exports it from `src/operator.ts`. Then
 * `npm run generate` updates config/.
 */
export function addResourceCommand(cmd: AddResourceCommand, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): number {
  const dir = resolve(cmd.dir);
  const pkgFile = join(dir, 'package.json');
  const operator = join(dir, 'src', 'operator.ts');
  if (!existsSync(pkgFile) || !existsSync(operator)) {
    throw new CliError(`${dir} is not a project operon init made (no package.json and src/operator.ts): run operon init first, or --dir the project`, 2);
  }
  const recorded = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { operon?: { group?: string; version?: string } }).operon ?? {};
  const names = { kind: cmd.kind, group: cmd.group ?? recorded.group ?? defaults.init.group, version: cmd.version ?? recorded.version ?? defaults.init.version };
  const problem = checkNames(names, 'the kind');
  if (problem) throw new CliError(problem, 2);
  const stem = t.stemOf(names.kind);
  const file = `src/${stem}.ts`;
  const sample = `config/samples/${stem.toLowerCase()}.yaml`;
  for (const f of [file, sample]) {
    if (existsSync(join(dir, f))) throw new CliError(`${join(dir, f)} already exists: nothing was written; choose another kind or move it away`, 2);
  }
  writeFileSync(join(dir, file), t.addedResourceSource(names), { flag: 'wx' });
  mkdirSync(join(dir, 'config', 'samples'), { recursive: true });
  writeFileSync(join(dir, sample), t.sample(names), { flag: 'wx' });
  appendFileSync(operator, `export * from './${stem}.ts';\n`);
  out(`operon: added ${names.kind} (${names.group}/${names.version}) in ${file}, exported from src/operator.ts, with an example in ${sample}`);
  out('next: npm run generate   # config/crd and config/rbac');
  return 0;
}
