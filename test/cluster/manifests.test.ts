/**
 * The install manifests in deploy/ (kustomize), checked against the local API server and against
 * the code they describe:
 * - every kustomization renders with the plane's own kubectl (its built-in kustomize), and the
 *   result passes a server-side dry run (admission, schema and RBAC validation, nothing stored);
 * - every operator Deployment is locked down (non-root 65532, read-only root filesystem, no
 *   capabilities, RuntimeDefault seccomp, no privilege escalation), health-checked on /healthz
 *   and /readyz, has requests and limits, runs the image's release tag and an operator file that
 *   exists, as a ServiceAccount the same kustomization binds;
 * - the copies in deploy/ never drift: each CRD equals operators/<name>/crd.yaml, and once
 *   `operon rbac` exists each rbac.yaml equals its output (deploy/generate.sh rewrites both);
 * - replicas follow leader election: 2 with `--leader-elect` once `operon run` has it, else 1;
 * - the local overlays run on the real node and reach the API server the one way the local
 *   plane allows (host network, KUBERNETES_SERVICE_HOST=127.0.0.1; deploy/local/real-node).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { Container, PodSpec } from 'kubernetes-types/core/v1.d.ts';
import type { Deployment } from 'kubernetes-types/apps/v1.d.ts';
import type { ClusterRoleBinding } from 'kubernetes-types/rbac/v1.d.ts';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { RUN_FLAGS } from '../../src/cli/args.ts';
import { useCluster } from '../support/cluster.ts';
import { FROM_SOURCE } from '../support/source.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const deployDir = join(repo, 'deploy');
const OPERATORS = ['crypto', 'printer'] as const;
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Every folder under deploy/ with a kustomization, and whether it is a Component (not buildable alone). */
function kustomizations(dir = deployDir): Array<{ dir: string; component: boolean }> {
  const found: Array<{ dir: string; component: boolean }> = [];
  const file = join(dir, 'kustomization.yaml');
  if (existsSync(file)) {
    const kind = (parseYaml(readFileSync(file, 'utf8')) as { kind?: string }).kind;
    found.push({ dir, component: kind === 'Component' });
  }
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) found.push(...kustomizations(join(dir, entry.name)));
  return found.sort((a, b) => a.dir.localeCompare(b.dir));
}

const cluster = await useCluster();
const ns = await cluster.namespace('manifests');
const all = kustomizations();
const buildable = all.filter((k) => !k.component).map((k) => k.dir);
const name = (dir: string): string => relative(repo, dir);

const rendered = new Map<string, Doc[]>();
for (const dir of buildable) {
  const out = await cluster.kubectl(['kustomize', dir]);
  rendered.set(dir, parseAllDocuments(out).map((d) => d.toJS() as Doc).filter((d) => d !== null));
}
const docsOf = (dir: string): Doc[] => rendered.get(dir) ?? assert.fail(`${name(dir)} was not rendered`);
const deploymentOf = (dir: string): Deployment & Doc => {
  const deployments = docsOf(dir).filter((d) => d.kind === 'Deployment');
  assert.equal(deployments.length, 1, `${name(dir)} renders exactly one Deployment`);
  return deployments[0] as Deployment & Doc;
};
// deploy/base is the shared template (no operator file yet); the installs are the overlays.
const operatorDirs = buildable.filter((dir) => name(dir) !== 'deploy/base' && docsOf(dir).some((d) => d.kind === 'Deployment'));
const localDirs = buildable.filter((dir) => name(dir).startsWith('deploy/local/'));

/** Runs the operon CLI from the checkout; resolves with its exit code and output. */
function operon(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...FROM_SOURCE, join(repo, 'src/cli/main.ts'), ...args], { cwd: repo, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const leaderElection = 'leader-elect' in RUN_FLAGS;

describe('deploy/ manifests', () => {
  it('has an install for each reference operator and a local overlay for each', () => {
    for (const op of OPERATORS) {
      assert.ok(buildable.includes(join(deployDir, op)), `deploy/${op} is a kustomization`);
      assert.ok(buildable.includes(join(deployDir, 'local', op)), `deploy/local/${op} is a kustomization`);
    }
    assert.deepEqual(operatorDirs.map(name).sort(), ['deploy/crypto', 'deploy/crypto-cert-manager', 'deploy/local/crypto', 'deploy/local/printer', 'deploy/printer']);
  });

  it('renders every kustomization into named, well-formed objects', () => {
    for (const dir of buildable) {
      const docs = docsOf(dir);
      assert.ok(docs.length > 0, `${name(dir)} renders something`);
      for (const d of docs) {
        assert.ok(d.apiVersion && d.kind && d.metadata?.name, `${name(dir)}: every object has apiVersion, kind and name (${JSON.stringify(d).slice(0, 120)})`);
      }
    }
  });

  it('passes a server-side dry run on the API server, for every kustomization', async () => {
    // The Namespace an install creates does not exist during a dry run, so objects in it would
    // be refused; a throw-away overlay moves everything into this file's namespace instead.
    for (const dir of buildable) {
      const overlay = mkdtempSync(join(tmpdir(), 'operon-manifests-'));
      try {
        // cert-manager is not installed on the plane: its objects are checked by the test below.
        const certManager = docsOf(dir).filter((d) => d.apiVersion.startsWith('cert-manager.io/'));
        // CRDs are cluster-wide and live on the shared plane, where the CVC's conversion names the
        // plane's webhook by URL: an apply of deploy/'s Service over it would set both (refused),
        // so each CRD is dry-run as a replacement of the live one instead.
        const crds = docsOf(dir).filter((d) => d.kind === 'CustomResourceDefinition');
        const deletions = [...certManager, ...crds].map((d) => `  - patch: |\n      $patch: delete\n      apiVersion: ${d.apiVersion}\n      kind: ${d.kind}\n      metadata:\n        name: ${d.metadata.name}\n${d.metadata.namespace ? `        namespace: ${d.metadata.namespace}\n` : ''}`);
        writeFileSync(join(overlay, 'kustomization.yaml'), `namespace: ${ns}\nresources:\n  - ${relative(overlay, dir)}\n${deletions.length > 0 ? `patches:\n${deletions.join('')}` : ''}`);
        const r = await cluster.kubectlResult(['apply', '--dry-run=server', '-k', overlay]);
        assert.equal(r.code, 0, `kubectl apply --dry-run=server -k ${name(dir)} (in ${ns}): ${r.stderr}`);
        const kinds = docsOf(dir).filter((d) => !certManager.includes(d) && !crds.includes(d)).map((d) => d.kind);
        for (const kind of new Set(kinds)) assert.match(r.stdout, new RegExp(`^${kind.toLowerCase()}[./]`, 'm'), `${name(dir)}: the dry run covered the ${kind}`);
        assert.match(r.stdout, /\(server dry run\)/);
        for (const crd of crds) {
          const verb = (await cluster.kubectlResult(['get', 'crd', crd.metadata.name])).code === 0 ? 'replace' : 'create';
          const c = await cluster.kubectlResult([verb, '--dry-run=server', '-f', '-'], { input: JSON.stringify(crd) });
          assert.equal(c.code, 0, `kubectl ${verb} --dry-run=server of ${name(dir)}'s CRD ${crd.metadata.name}: ${c.stderr}`);
        }
      } finally {
        rmSync(overlay, { recursive: true, force: true });
      }
    }
  });

  it('locks the operator container down and checks its health, in every install', () => {
    for (const dir of operatorDirs) {
      const where = name(dir);
      const spec = deploymentOf(dir).spec?.template.spec as PodSpec;
      const c = spec.containers[0] as Container;
      assert.equal(spec.containers.length, 1, `${where}: one container`);
      assert.deepEqual(
        { runAsNonRoot: spec.securityContext?.runAsNonRoot, runAsUser: spec.securityContext?.runAsUser, seccomp: spec.securityContext?.seccompProfile?.type },
        { runAsNonRoot: true, runAsUser: 65532, seccomp: 'RuntimeDefault' },
        `${where}: Pod security context`,
      );
      assert.deepEqual(
        {
          allowPrivilegeEscalation: c.securityContext?.allowPrivilegeEscalation,
          readOnlyRootFilesystem: c.securityContext?.readOnlyRootFilesystem,
          runAsNonRoot: c.securityContext?.runAsNonRoot,
          drop: c.securityContext?.capabilities?.drop,
          add: c.securityContext?.capabilities?.add,
          privileged: c.securityContext?.privileged,
        },
        { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, drop: ['ALL'], add: undefined, privileged: undefined },
        `${where}: container security context`,
      );
      const healthPort = c.ports?.find((p) => p.name === 'health')?.containerPort;
      assert.ok(healthPort, `${where}: a port named health`);
      assert.equal(c.livenessProbe?.httpGet?.path, '/healthz', `${where}: liveness probe`);
      assert.equal(c.readinessProbe?.httpGet?.path, '/readyz', `${where}: readiness probe`);
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) assert.equal(probe?.httpGet?.port, 'health', `${where}: probes use the health port`);
      const address = c.args?.[c.args.indexOf('--health-address') + 1];
      assert.match(address ?? '', new RegExp(`:${healthPort}$`), `${where}: the health server listens on the probed port`);
      // controller-runtime's layout: probes and metrics on separate ports.
      const metricsPort = c.ports?.find((p) => p.name === 'metrics')?.containerPort;
      assert.ok(metricsPort && metricsPort !== healthPort, `${where}: a port named metrics, apart from health`);
      assert.match(c.args?.[c.args.indexOf('--metrics-address') + 1] ?? '', new RegExp(`:${metricsPort}$`), `${where}: the metrics server listens on the metrics port`);
      for (const kind of ['requests', 'limits'] as const) {
        assert.ok(c.resources?.[kind]?.cpu && c.resources[kind]?.memory, `${where}: resources.${kind} has cpu and memory`);
      }
      assert.equal(c.image, `localhost/operon/operator:${version}`, `${where}: the image's release tag (package.json version)`);
      const file = c.args?.[0] ?? '';
      // The image runs the compiled operator: operators/<name>/operator.js, built from the .ts.
      assert.match(file, /^operators\/[a-z-]+\/operator\.js$/, `${where}: the first argument is the compiled operator file`);
      assert.ok(existsSync(join(repo, file.replace(/\.js$/, '.ts'))), `${where}: ${file} is compiled from a source in the checkout`);
      assert.equal(spec.automountServiceAccountToken, undefined, `${where}: the ServiceAccount token is mounted (in-cluster configuration)`);
      const docs = docsOf(dir);
      const account = spec.serviceAccountName;
      assert.ok(docs.some((d) => d.kind === 'ServiceAccount' && d.metadata.name === account), `${where}: ServiceAccount ${account} is part of the install`);
      const bindings = docs.filter((d) => d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding') as Array<ClusterRoleBinding & Doc>;
      assert.ok(
        bindings.some((b) => b.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === account && s.namespace === deploymentOf(dir).metadata.namespace)),
        `${where}: a binding grants ServiceAccount ${account} its role`,
      );
    }
  });

  it(`runs ${leaderElection ? 'with --leader-elect: 2 replicas, 1 on the real node' : '1 replica, since operon run has no --leader-elect yet'}`, (t) => {
    t.diagnostic(leaderElection ? 'operon run supports --leader-elect' : 'operon run has no --leader-elect: one replica, Recreate strategy');
    for (const dir of operatorDirs) {
      const d = deploymentOf(dir);
      const args = d.spec?.template.spec?.containers[0]?.args ?? [];
      // On the host network a second replica would need the same port on the one real node.
      const single = !leaderElection || localDirs.includes(dir);
      assert.equal(args.includes('--leader-elect'), leaderElection, `${name(dir)}: --leader-elect exactly when operon run has it`);
      if (single) {
        assert.equal(d.spec?.replicas, 1, `${name(dir)}: replicas`);
        assert.equal(d.spec?.strategy?.type, 'Recreate', `${name(dir)}: no second Pod during a rollout`);
      } else {
        assert.equal(d.spec?.replicas, 2, `${name(dir)}: replicas`);
        assert.equal(d.spec?.strategy?.rollingUpdate?.maxUnavailable, 0, `${name(dir)}: a rollout keeps both replicas`);
        const pdb = docsOf(dir).find((p) => p.kind === 'PodDisruptionBudget');
        assert.ok(pdb, `${name(dir)}: a PodDisruptionBudget`);
      }
    }
  });

  it('wires cert-manager\'s certificate to the webhooks, the conversion and the operator in deploy/crypto-cert-manager', () => {
    const docs = docsOf(join(deployDir, 'crypto-cert-manager'));
    const one = (kind: string): Doc => {
      const found = docs.filter((d) => d.kind === kind);
      assert.equal(found.length, 1, `exactly one ${kind}`);
      return found[0]!;
    };
    const certificate = one('Certificate') as Doc & { spec: { secretName: string; dnsNames: string[]; issuerRef: { kind: string; name: string } } };
    const issuer = one('Issuer');
    const service = one('Service');
    const namespace = service.metadata.namespace ?? assert.fail('the Service has a namespace');
    assert.equal(certificate.metadata.namespace, namespace);
    assert.deepEqual(certificate.spec.issuerRef, { kind: 'Issuer', name: issuer.metadata.name });
    assert.equal(issuer.metadata.namespace, namespace);
    assert.ok(certificate.spec.dnsNames.includes(`${service.metadata.name}.${namespace}.svc`), 'the certificate names the Service');
    const inject = `${namespace}/${certificate.metadata.name}`;

    const configuration = one('ValidatingWebhookConfiguration') as Doc & { metadata: { annotations?: Record<string, string> }; webhooks: Array<{ clientConfig: { service?: { name: string; namespace: string } } }> };
    assert.equal(configuration.metadata.annotations?.['cert-manager.io/inject-ca-from'], inject);
    assert.ok(configuration.webhooks.length > 0);
    for (const w of configuration.webhooks) assert.deepEqual({ name: w.clientConfig.service?.name, namespace: w.clientConfig.service?.namespace }, { name: service.metadata.name, namespace });

    const crd = one('CustomResourceDefinition') as Doc & { metadata: { annotations?: Record<string, string> }; spec: { conversion?: { strategy: string; webhook?: { clientConfig: { service?: { name: string; namespace: string; path?: string } } } } } };
    assert.equal(crd.metadata.annotations?.['cert-manager.io/inject-ca-from'], inject);
    assert.equal(crd.spec.conversion?.strategy, 'Webhook');
    assert.deepEqual(crd.spec.conversion?.webhook?.clientConfig.service, { name: service.metadata.name, namespace, port: 443, path: `/convert/${crd.metadata.name}` });

    // The operator serves through that Service with the Secret cert-manager writes, and manages nothing itself.
    const pod = deploymentOf(join(deployDir, 'crypto-cert-manager')).spec!.template.spec!;
    const env = Object.fromEntries((pod.containers[0]!.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env['OPERON_WEBHOOK_SERVICE'], `${namespace}/${service.metadata.name}`);
    const dir = env['OPERON_WEBHOOK_CERT_DIR'] ?? assert.fail('OPERON_WEBHOOK_CERT_DIR is set');
    const mount = pod.containers[0]!.volumeMounts?.find((m) => m.mountPath === dir) ?? assert.fail(`a volume is mounted at ${dir}`);
    assert.equal(pod.volumes?.find((v) => v.name === mount.name)?.secret?.secretName, certificate.spec.secretName);
    const port = (service as Doc & { spec: { ports: Array<{ targetPort: string | number }> } }).spec.ports[0]!.targetPort;
    assert.ok(pod.containers[0]!.ports?.some((p) => p.name === port && p.containerPort === Number(env['OPERON_WEBHOOK_PORT'])), 'the Service targets the webhook port');
  });

  it("copies each operator's CRD, a conversion webhook naming the operator's Service", () => {
    for (const op of OPERATORS) {
      type Crd = { spec: { conversion?: { webhook?: { clientConfig: Record<string, unknown> } } } };
      const source = parseYaml(readFileSync(join(repo, 'operators', op, 'crd.yaml'), 'utf8')) as Crd;
      const copy = parseYaml(readFileSync(join(deployDir, op, 'crd.yaml'), 'utf8')) as Crd;
      const sourceConfig = source.spec.conversion?.webhook?.clientConfig;
      const copyConfig = copy.spec.conversion?.webhook?.clientConfig;
      if (sourceConfig && copyConfig) {
        // operators/ has the local-development URL; deploy/ the Service its Deployment serves through.
        const path = new URL(sourceConfig['url'] as string).pathname;
        const service = docsOf(join(deployDir, op)).find((d) => d.kind === 'Service' && d.metadata.name === `${op}-operator-webhooks`);
        assert.ok(service, `deploy/${op} has the Service ${op}-operator-webhooks`);
        assert.deepEqual(copyConfig, { service: { namespace: `operon-${op}`, name: `${op}-operator-webhooks`, port: 443, path } }, `deploy/${op}/crd.yaml's conversion: run bash deploy/generate.sh`);
        copy.spec.conversion!.webhook!.clientConfig = sourceConfig;
      }
      assert.deepEqual(copy, source, `deploy/${op}/crd.yaml differs from operators/${op}/crd.yaml: run bash deploy/generate.sh`);
    }
  });

  it('ships the RBAC that operon rbac prints (hand-written and marked as such until it exists)', async (t) => {
    for (const op of OPERATORS) {
      const file = join(deployDir, op, 'rbac.yaml');
      const checkedIn = readFileSync(file, 'utf8');
      const r = await operon(['rbac', `operators/${op}/operator.ts`, '--name', `${op}-operator`, '--namespace', `operon-${op}`]);
      if (r.code === 2 && /not available in this build/.test(r.stderr)) {
        t.diagnostic(`operon rbac is not available yet: deploy/${op}/rbac.yaml is hand-written`);
        assert.match(checkedIn, /^# HAND-WRITTEN until `operon rbac` exists/, `deploy/${op}/rbac.yaml must say that it is hand-written`);
        continue;
      }
      assert.equal(r.code, 0, `operon rbac operators/${op}/operator.ts failed: ${r.stderr}`);
      const expected = `# Generated by deploy/generate.sh: operon rbac operators/${op}/operator.ts --name ${op}-operator --namespace operon-${op}\n${r.stdout.replace(/\n+$/, '')}\n`;
      assert.equal(checkedIn, expected, `deploy/${op}/rbac.yaml differs from operon rbac: run bash deploy/generate.sh`);
    }
  });

  it('runs the local overlays on the real node, reaching the API server on the host loopback', () => {
    const ports = new Set<number>();
    for (const dir of localDirs) {
      const where = name(dir);
      const spec = deploymentOf(dir).spec?.template.spec as PodSpec;
      const c = spec.containers[0] as Container;
      assert.deepEqual(spec.nodeSelector, { 'operon.dev/node': 'real' }, `${where}: node selector`);
      assert.deepEqual(spec.tolerations, [{ key: 'operon.dev/real-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' }], `${where}: toleration`);
      assert.equal(spec.hostNetwork, true, `${where}: host network (the API server listens on 127.0.0.1)`);
      assert.equal(c.imagePullPolicy, 'Never', `${where}: the image is imported, never pulled`);
      const env = new Map((c.env ?? []).map((e) => [e.name, e]));
      assert.equal(env.get('KUBERNETES_SERVICE_HOST')?.value, '127.0.0.1', `${where}: KUBERNETES_SERVICE_HOST`);
      assert.deepEqual(env.get('KUBERNETES_SERVICE_PORT')?.valueFrom?.configMapKeyRef, { name: 'local-apiserver', key: 'port' }, `${where}: KUBERNETES_SERVICE_PORT`);
      const namespace = docsOf(dir).find((d) => d.kind === 'Namespace');
      assert.equal(namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'privileged', `${where}: host network needs the privileged Pod Security level`);
      for (const { name, containerPort } of c.ports ?? []) {
        assert.ok(!ports.has(containerPort), `${where}: ${name} port ${containerPort} is not shared with another local operator (one host network)`);
        ports.add(containerPort);
      }
      for (const flag of ['--health-address', '--metrics-address']) {
        const port = c.ports?.find((p) => p.name === (flag === '--health-address' ? 'health' : 'metrics'))?.containerPort;
        assert.equal(c.args?.[c.args.indexOf(flag) + 1], `$(POD_IP):${port}`, `${where}: ${flag} bound to the node's bridge address only, on its port`);
      }
    }
    for (const op of OPERATORS) {
      const plain = deploymentOf(join(deployDir, op)).spec?.template.spec as PodSpec;
      assert.equal(plain.hostNetwork, undefined, `deploy/${op}: no host network outside the local overlay`);
    }
  });
});
