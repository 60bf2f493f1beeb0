import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { rbacCommand } from '../../../src/cli/rbac.ts';

const index = pathToFileURL(fileURLToPath(new URL('../../../src/index.ts', import.meta.url))).href;
const dir = mkdtempSync(join(tmpdir(), 'operon-rbac-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function moduleFile(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `import { builtin, resource, Type, Operator, Registry } from ${JSON.stringify(index)};\n${body}\n`);
  return file;
}

describe('operon rbac', () => {
  it('prints the derived RBAC with the rules a file exports, byte-stable across runs', async () => {
    const file = moduleFile(
      'widgets.ts',
      `const widgets = resource({ group: 'cli.operon.dev', version: 'v1', kind: 'Widget', spec: Type.Object({}), status: Type.Object({}) });
widgets.onCreate(async () => {});
widgets.owns(builtin('v1', 'ConfigMap'));
export const rbac = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['delete'] }];`,
    );
    const cmd = { command: 'rbac' as const, files: [file], name: 'widgets', namespace: 'ops', watchNamespaces: [] };
    const yaml = await rbacCommand(cmd);
    assert.equal(await rbacCommand(cmd), yaml);
    const docs = YAML.parseAllDocuments(yaml).map((d) => d.toJSON() as { kind: string; rules?: Array<{ resources: string[]; verbs: string[] }> });
    assert.deepEqual(docs.map((d) => d.kind), ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
    const configmaps = docs[1]?.rules?.find((r) => r.resources.includes('configmaps'));
    assert.deepEqual(configmaps?.verbs, ['get', 'list', 'watch', 'create', 'patch', 'delete']);
  });

  it("takes an exported Operator's registry and its rbac option", async () => {
    const file = moduleFile(
      'gizmos.ts',
      `const registry = new Registry();
resource({ group: 'cli.operon.dev', version: 'v1', kind: 'Gizmo', spec: Type.Object({}) }, { registry }).onCreate(async () => {});
export const operator = new Operator({ registry, rbac: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }] });`,
    );
    const yaml = await rbacCommand({ command: 'rbac', files: [file], name: 'gizmos', namespace: 'ops', watchNamespaces: ['team'] });
    assert.match(yaml, /kind: Role\nmetadata:\n {2}name: gizmos\n {2}namespace: team/);
    assert.match(yaml, /- apps\n {4}resources:\n {6}- deployments\n {4}verbs:\n {6}- get/);
    assert.match(yaml, /- gizmos\n {4}verbs:\n {6}- get\n {6}- list\n {6}- watch\n {6}- patch\n/);
  });

  it('refuses an exported rbac that is not a list of rules', async () => {
    const file = moduleFile('bad.ts', `resource({ group: 'cli.operon.dev', version: 'v1', kind: 'Bad', spec: Type.Object({}) }).onCreate(async () => {});\nexport const rbac = { verbs: 'all' };`);
    await assert.rejects(rbacCommand({ command: 'rbac', files: [file], name: 'x', namespace: 'ops', watchNamespaces: [] }), /exports "rbac", but it is not a list of rules/);
  });
});
