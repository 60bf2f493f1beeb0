/**
 * A user's first hour, end to end, from the packed package (docs/getting-started.md follows the
 * same steps): `npm pack`, install into a folder outside the checkout, `npx operon init`, the new
 * project's `npm install`, its type-check against the shipped declarations, its own `npm test`
 * against the test plane, its CRD and RBAC accepted by the API server, `operon run`
 * reconciling the example object, and the image its own `deploy/image/build.sh` builds starting
 * the operator's `.ts` files without Node's TypeScript stripper (the compile cache `operon
 * prepare` fills at build time).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually, useCluster } from '../support/cluster.ts';
import { command, mustRun, packOperon, repoRoot, userEnv } from '../support/package.ts';

// This file runs under node --test, which marks its children as test workers (NODE_TEST_CONTEXT):
// the project's own `node --test` would then report to this runner instead of printing.
delete process.env['NODE_TEST_CONTEXT'];

const cluster = await useCluster();
const ns = await cluster.namespace('scaffold');
const tarball = await packOperon();
const root = mkdtempSync(join(tmpdir(), 'operon-scaffold-'));
after(() => rmSync(root, { recursive: true, force: true }));
const tools = join(root, 'tools');
mkdirSync(tools);
await mustRun('npm', ['init', '-y'], tools);
await mustRun('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], tools, { timeoutMs: 600_000 });
const project = join(root, 'my-operator');
const env = { KUBECONFIG: cluster.kubeconfig, OPERON_INIT_DEPENDENCY: `file:${tarball}` };
const operon = join(project, 'node_modules', '.bin', 'operon');

describe('operon init, from the packed package', () => {
  it('writes a project whose own install, type-check and tests pass against the cluster', async () => {
    await mustRun(join(tools, 'node_modules', '.bin', 'operon'), ['init', project, '--group', 'scaffold.operon.dev', '--kind', 'Echo'], root, { env });
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.equal(pkg.dependencies['operon-k8s'], `file:${tarball}`);
    await mustRun('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], project, { timeoutMs: 600_000 });
    await mustRun('npm', ['run', 'check'], project, { env });
    const test = await command('npm', ['test'], project, { env, timeoutMs: 300_000 });
    assert.equal(test.code, 0, `${test.stdout}\n${test.stderr}`);
    assert.match(test.stdout, /✔ echoes spec.message into the status and reports Ready/);
    assert.match(test.stdout, /pass 1\n/);
  });

  it('writes exactly the files docs/getting-started.md shows', () => {
    const guide = readFileSync(join(repoRoot, 'docs', 'getting-started.md'), 'utf8');
    for (const file of ['src/echo.ts', 'src/operator.ts', 'test/operator.test.ts']) {
      const written = readFileSync(join(project, file), 'utf8').replaceAll('scaffold.operon.dev', 'example.com').trim();
      assert.ok(guide.includes(written), `docs/getting-started.md does not show ${file} as operon init writes it`);
    }
  });

  it('regenerates config/ byte for byte, and the API server accepts the CRD and the RBAC', async () => {
    const crd = await mustRun(operon, ['crd', 'src/operator.ts'], project, { env });
    assert.equal(crd, readFileSync(join(project, 'config', 'crd', 'crd.yaml'), 'utf8'));
    const rbac = await mustRun(operon, ['rbac', 'src/operator.ts', '--name', 'my-operator', '--namespace', ns], project, { env });
    await cluster.kubectl(['apply', '-f', '-'], { input: crd });
    await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: rbac });
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/echos.scaffold.operon.dev']);
  });

  it('reconciles its example object under operon run: status.echo and Ready written', async () => {
    const child = spawn(operon, ['run', 'src/operator.ts', '-n', ns, '--log-format', 'json'], { cwd: project, env: userEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    after(() => {
      child.kill('SIGTERM');
    });
    await cluster.kubectl(['apply', '-n', ns, '-f', join(project, 'config', 'samples', 'echo.yaml')]);
    await eventually(async () => (await cluster.kubectl(['get', 'echos.scaffold.operon.dev', 'hello', '-n', ns, '-o', 'jsonpath={.status.echo}'])) === 'hello', {
      timeoutMs: 120_000,
      what: `status.echo of the sample (operator output: ${output.slice(-2000)})`,
    });
    assert.equal(await cluster.kubectl(['get', 'echos.scaffold.operon.dev', 'hello', '-n', ns, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']), 'True');
  });
});

describe("the generated project's image, built offline by its deploy/image/build.sh", () => {
  it("runs the operator's .ts files as its user without loading Node's TypeScript stripper", async () => {
    assert.equal(process.getuid?.(), 0, "running the image's root filesystem with chroot as its user needs root");
    const out = await mustRun('bash', ['deploy/image/build.sh'], project, { env: { OPERON_CACHE: join(root, 'image-cache') }, timeoutMs: 15 * 60_000 });
    const output = out.trim().split('\n').pop() ?? '';
    // The entrypoint's environment, from the image config in the OCI archive, as a runtime reads it.
    const blob = async (path: string): Promise<Record<string, unknown>> => JSON.parse(await mustRun('tar', ['-xOf', join(output, 'image.tar'), path], root)) as Record<string, unknown>;
    const digestOf = (d: unknown): string => `./blobs/sha256/${String((d as { digest: string }).digest).replace(/^sha256:/, '')}`;
    const index = (await blob('./index.json')) as { manifests: unknown[] };
    const manifest = (await blob(digestOf(index.manifests[0]))) as { config: unknown };
    const config = (await blob(digestOf(manifest.config))) as { config: { Env: string[]; User: string; WorkingDir: string } };
    assert.equal(config.config.User, '65532:65532');
    assert.ok(config.config.Env.includes('NODE_COMPILE_CACHE=/app/.node-compile-cache'), config.config.Env.join(' '));
    const probe = "await import('/app/src/operator.ts'); console.log(process.moduleLoadList.some((m) => m.includes('amaro')) ? 'stripper loaded' : 'no stripper');";
    const chroot = (await mustRun('bash', ['-c', 'command -v chroot'], root)).trim();
    const inImage = (extra: string[]) => mustRun('env', ['-i', ...config.config.Env, ...extra, chroot, '--userspec=65532:65532', join(output, 'rootfs'), '/nodejs/bin/node', '--max-semi-space-size=1', '--input-type=module', '-e', probe], root);
    assert.equal((await inImage([])).trim(), 'no stripper');
    assert.equal((await inImage(['NODE_DISABLE_COMPILE_CACHE=1'])).trim(), 'stripper loaded', 'without the cache the probe must see the stripper');
  });
});

describe('operon add resource, in the generated project', () => {
  it('adds a second kind that type-checks and appears in operon crd', async () => {
    await mustRun(operon, ['add', 'resource', 'Backup'], project, { env });
    await mustRun('npm', ['run', 'check'], project, { env });
    const crds = await mustRun(operon, ['crd', 'src/operator.ts'], project, { env });
    assert.match(crds, /name: backups\.scaffold\.operon\.dev/);
    assert.match(crds, /name: echos\.scaffold\.operon\.dev/);
  });
});

describe('bad input to the installed operon: one line, exit 2, never a stack', () => {
  const tool = join(tools, 'node_modules', '.bin', 'operon');
  const oneLine = (r: { code: number; stdout: string; stderr: string }, pattern: RegExp) => {
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  };

  it('init into a folder with conflicting files lists them and writes nothing', async () => {
    oneLine(await command(tool, ['init', project], root, { env }), /already has package\.json, tsconfig\.json, .*nothing was written/);
  });

  it('init with an invalid kind or group names the rule', async () => {
    oneLine(await command(tool, ['init', join(root, 'bad'), '--kind', 'my_kind'], root, { env }), /--kind "my_kind" must be UpperCamelCase/);
    oneLine(await command(tool, ['init', join(root, 'bad'), '--group', 'nodot'], root, { env }), /--group "nodot" must be a DNS subdomain with a dot/);
  });

  it('run on a file outside any project says how to make one', async () => {
    const loose = mkdtempSync(join(tmpdir(), 'operon-loose-'));
    writeFileSync(join(loose, 'op.ts'), "import { resource } from 'operon-k8s';\nexport const x = resource;\n");
    oneLine(await command(tool, ['run', join(loose, 'op.ts')], loose, { env }), /is in no project \(no package\.json at or above it\).*npx operon init/);
  });

  it('run in a project that asks for another major version of operon-k8s names both', async () => {
    const other = join(root, 'pins-other');
    mkdirSync(other);
    writeFileSync(join(other, 'package.json'), JSON.stringify({ name: 'pins-other', type: 'module', dependencies: { 'operon-k8s': '^9.0.0' } }));
    writeFileSync(join(other, 'op.ts'), "import { resource } from 'operon-k8s';\nexport const x = resource;\n");
    oneLine(await command(tool, ['run', 'op.ts'], other, { env }), /asks for operon-k8s \^9\.0\.0, but this operon is 0\.1\.0/);
  });

  it('cluster up without Go names it and the alternative, KUBECONFIG', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'operon-nogo-'));
    const r = await command(tool, ['cluster', 'up'], empty, {
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, OPERON_CACHE: join(empty, 'cache'), OPERON_CONTROLPLANE_DIR: join(empty, 'state'), HOME: empty },
    });
    oneLine(r, /needs go .*point KUBECONFIG at any cluster/);
  });
});
