/**
 * The files `operon init` writes, as pure functions of the project's names: one resource declared in
 * TypeBox, one reconciling handler, a test against a real cluster, the manifests (`config/`, a
 * kustomize tree), an image build, and the README that says how to run and test it. The CRD and
 * RBAC in `config/` are the output of `operon crd` and `operon rbac` on these sources (`init.ts`
 * generates them in-process from {@link exampleResource}, and `npm run generate` regenerates them).
 */
import { Type } from '@sinclair/typebox';
import { conditionList, defineResource, type CustomResource } from '../../schema/index.ts';

/** What a scaffolded project is named after. */
export interface ProjectNames {
  /** The project's folder name, also its npm name, the operator's name and namespace. */
  name: string;
  group: string;
  version: string;
  kind: string;
  /** The `operon-k8s` dependency: a semver range (`^0.1.0`) or a `file:` tarball. */
  dependency: string;
}

/** The kind's lower-case plural and the file stem, as `resource()` derives them. */
export function stemOf(kind: string): string {
  return kind.charAt(0).toLowerCase() + kind.slice(1);
}

/**
 * The example resource exactly as `src/<kind>.ts` declares it: a `message` to copy into the status,
 * and a `Ready` condition. Kept in step with {@link resourceSource}; a unit test compares the CRD of
 * both.
 */
export function exampleResource(names: Pick<ProjectNames, 'group' | 'version' | 'kind'>): CustomResource {
  return defineResource({
    group: names.group,
    version: names.version,
    kind: names.kind,
    spec: Type.Object({ message: Type.String({ minLength: 1, maxLength: 253, description: 'What the operator copies into status.echo.' }) }),
    status: Type.Object(
      {
        echo: Type.Optional(Type.String({ description: 'spec.message, as last reconciled.' })),
        conditions: Type.Optional(conditionList('Ready: the operator reconciled the current spec.')),
      },
      { additionalProperties: true },
    ),
    printerColumns: [
      { name: 'Echo', type: 'string', jsonPath: '.status.echo' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    ],
  }) as CustomResource;
}

/** `src/<kind>.ts`: the resource's declaration, its schema and types in one place. */
export function resourceSource(n: Pick<ProjectNames, 'group' | 'version' | 'kind'>): string {
  return `/**
 * The ${n.kind} custom resource (${n.group}/${n.version}). One declaration gives the TypeScript types
 * of spec and status and the CRD's schema: \`npm run generate\` writes config/crd/crd.yaml from it.
 */
import { conditionList, resource, Type } from 'operon-k8s';

export const ${stemOf(n.kind)}s = resource({
  group: '${n.group}',
  version: '${n.version}',
  kind: '${n.kind}',
  spec: Type.Object({ message: Type.String({ minLength: 1, maxLength: 253, description: 'What the operator copies into status.echo.' }) }),
  status: Type.Object(
    {
      echo: Type.Optional(Type.String({ description: 'spec.message, as last reconciled.' })),
      conditions: Type.Optional(conditionList('Ready: the operator reconciled the current spec.')),
    },
    { additionalProperties: true },
  ),
  printerColumns: [
    { name: 'Echo', type: 'string', jsonPath: '.status.echo' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  ],
});
`;
}

/** `src/operator.ts`: the handler, run with `operon run src/operator.ts` (`npm start`). */
export function operatorSource(n: Pick<ProjectNames, 'kind'>): string {
  const plural = `${stemOf(n.kind)}s`;
  return `/**
 * The operator: every ${n.kind} gets its spec.message copied into status.echo and a Ready condition.
 * Run it with \`npm start\` (operon run src/operator.ts) against the cluster KUBECONFIG names.
 */
import { findCondition, setCondition } from 'operon-k8s';
import { ${plural} } from './${stemOf(n.kind)}.ts';

export { ${plural} };

// Level-based: runs on every change of a ${n.kind} (and when the operator starts), and writes only
// what differs, so its own status write does not make it run again and again.
${plural}.reconcile(({ body, spec, status, patch, logger }) => {
  const ready = findCondition(status?.conditions, 'Ready');
  if (status?.echo === spec.message && ready?.observedGeneration === body.metadata.generation) return;
  patch.status.echo = spec.message;
  patch.status.conditions = setCondition(
    status?.conditions,
    { type: 'Ready', status: 'True', reason: 'Reconciled', message: \`echoing "\${spec.message}"\`, observedGeneration: body.metadata.generation },
    Date.now(),
  );
  logger.info({ echo: spec.message }, 'reconciled');
});
`;
}

/** `test/operator.test.ts`: the operator in-process against a real cluster (`npm test`). */
export function testSource(n: Pick<ProjectNames, 'kind' | 'group' | 'version'>): string {
  const plural = `${stemOf(n.kind)}s`;
  return `/**
 * The operator against a real API server: KUBECONFIG's cluster when it is set, else the local one
 * \`operon cluster up\` starts. Each run gets a namespace of its own, deleted afterwards.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { defaultRegistry } from 'operon-k8s';
import { startCluster, startOperator, waitFor } from 'operon-k8s/testing';
import { ${plural} } from '../src/operator.ts';

const cluster = await startCluster();
const namespace = await cluster.namespace('${stemOf(n.kind).toLowerCase()}-test');
await cluster.installCrds([${plural}]);
// Stopped after the namespace is gone (a file's after hooks run in order), so it removes its own finalizers first.
const run = startOperator(defaultRegistry, { client: cluster.client, namespaces: [namespace] });
after(() => run.stop());
await run.ready;

describe('the ${n.kind} operator', () => {
  it('echoes spec.message into the status and reports Ready', async () => {
    await cluster.client.create(${plural}, { apiVersion: '${n.group}/${n.version}', kind: '${n.kind}', metadata: { name: 'hello', namespace }, spec: { message: 'hello, world' } });
    const done = await waitFor(cluster.client, ${plural}, 'hello', namespace, (o) => o?.status?.echo === 'hello, world');
    const ready = done?.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.observedGeneration, done?.metadata.generation);
    // The operator under test did it, not another one watching the same cluster (stop \`npm start\` first).
    assert.ok(run.logs.some((line) => line.msg === 'reconciled' && line['name'] === 'hello'), 'another operator reconciled hello first: stop it (npm start) and run the test again');
  });
});
`;
}

/** `package.json`: the operator's dependencies and the scripts the README uses. */
export function packageJson(n: ProjectNames): string {
  return `${JSON.stringify(
    {
      name: n.name,
      version: '0.1.0',
      private: true,
      type: 'module',
      engines: { node: '>=24' },
      scripts: {
        start: 'operon run src/operator.ts',
        test: "node --test --test-reporter=spec 'test/**/*.test.ts'",
        check: 'tsc --noEmit',
        generate: 'operon crd src/operator.ts > config/crd/crd.yaml && operon rbac src/operator.ts --name ' + n.name + ' --namespace ' + n.name + ' > config/rbac/rbac.yaml',
      },
      // Read by `operon add resource`, so a new kind lands in the project's group and version.
      operon: { group: n.group, version: n.version },
      dependencies: { 'operon-k8s': n.dependency },
      devDependencies: { '@types/node': '^24', typescript: '^6' },
    },
    null,
    2,
  )}\n`;
}

/** `tsconfig.json`: strict, and only what Node's type stripping runs (no emit: Node runs the .ts). */
export const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'esnext',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      erasableSyntaxOnly: true,
      verbatimModuleSyntax: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
      types: ['node'],
    },
    include: ['src', 'test'],
  },
  null,
  2,
)}\n`;

/** `.gitignore`. */
export const GITIGNORE = 'node_modules/\n# The local cluster\'s state (operon cluster up), certificates and etcd data included.\n.operon/\n';

/** `README.md`: its first two commands run the operator against a local cluster and its tests. */
export function readme(n: ProjectNames): string {
  return `# ${n.name}

A Kubernetes operator in TypeScript, on [Operon](https://www.npmjs.com/package/operon-k8s): every
\`${n.kind}\` (${n.group}/${n.version}) gets its \`spec.message\` copied into \`status.echo\` and a \`Ready\` condition.

\`\`\`sh
npm install && npx operon cluster up && eval "$(npx operon cluster env)" && npm run generate && kubectl apply -f config/crd/crd.yaml && npm start
npm test
\`\`\`

The first line starts a local Kubernetes control plane (needs Go to build it the first time; any
cluster works instead: point \`KUBECONFIG\` at kind, k3d or a real one), installs the CRD and runs
the operator. In another shell:

\`\`\`sh
kubectl apply -f config/samples/${stemOf(n.kind).toLowerCase()}.yaml
kubectl get ${stemOf(n.kind).toLowerCase()}s     # Echo: hello, Ready: True
\`\`\`

| command | what |
|---|---|
| \`npm start\` | \`operon run src/operator.ts\`: type-checks, then runs the handlers |
| \`npm test\` | the tests in \`test/\`, against KUBECONFIG's cluster or the local one |
| \`npm run check\` | \`tsc --noEmit\` |
| \`npm run generate\` | \`config/crd/crd.yaml\` and \`config/rbac/rbac.yaml\` from \`src/\` (\`operon crd\`, \`operon rbac\`) |
| \`npx operon cluster status\` / \`down\` | the local cluster's health / stop it and delete its data |

## Deploy

\`\`\`sh
deploy/image/build.sh        # without Docker: an OCI image tarball in ~/.cache/operon/image (ctr images import, skopeo)
docker build -t <registry>/${n.name}:0.1.0 . && docker push <registry>/${n.name}:0.1.0
cd config && kustomize edit set image operator=<registry>/${n.name}:0.1.0 && kubectl apply -k .
\`\`\`

\`config/\` holds the CRD, the least-privilege RBAC and a Deployment with probes on :8081 and
metrics on :8080 (controller-runtime's ports).
`;
}

/** `config/samples/<kind>.yaml`: an example object. */
export function sample(n: Pick<ProjectNames, 'group' | 'version' | 'kind'>): string {
  return `apiVersion: ${n.group}/${n.version}\nkind: ${n.kind}\nmetadata:\n  name: hello\nspec:\n  message: hello\n`;
}

/** `config/kustomization.yaml`: namespace, CRD, RBAC and the Deployment. */
export function kustomization(n: Pick<ProjectNames, 'name'>): string {
  return `# kubectl apply -k config/   (regenerate crd/ and rbac/ with npm run generate)
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ${n.name}
resources:
  - namespace.yaml
  - crd/crd.yaml
  - rbac/rbac.yaml
  - manager/deployment.yaml
images:
  - name: operator
    newName: localhost/${n.name}
    newTag: 0.1.0
`;
}

/** `config/namespace.yaml`. */
export function namespaceYaml(n: Pick<ProjectNames, 'name'>): string {
  return `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${n.name}\n`;
}

/** `config/manager/deployment.yaml`: one replica, probes on :8081, metrics on :8080, locked down. */
export function deploymentYaml(n: Pick<ProjectNames, 'name'>): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${n.name}
  labels: { app.kubernetes.io/name: ${n.name} }
spec:
  replicas: 1
  selector:
    matchLabels: { app.kubernetes.io/name: ${n.name} }
  template:
    metadata:
      labels: { app.kubernetes.io/name: ${n.name} }
    spec:
      serviceAccountName: ${n.name}
      # operon run stops gracefully on SIGTERM: running handlers finish, progress is written.
      terminationGracePeriodSeconds: 30
      securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: RuntimeDefault } }
      containers:
        - name: operator
          image: operator
          # Probes on :8081 and metrics on :8080, controller-runtime's ports.
          args: [--health-address, '0.0.0.0:8081', --metrics-address, '0.0.0.0:8080', --all-namespaces, --log-format, json]
          ports:
            - { name: health, containerPort: 8081 }
            - { name: metrics, containerPort: 8080 }
          livenessProbe: { httpGet: { path: /healthz, port: health }, periodSeconds: 10 }
          readinessProbe: { httpGet: { path: /readyz, port: health }, periodSeconds: 5 }
          resources:
            requests: { cpu: 50m, memory: 128Mi }
            limits: { memory: 384Mi }
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
`;
}

/**
 * `Dockerfile`: the operator's .ts sources run by Node's type stripping, production dependencies
 * only. `operon prepare` strips them once at build time, as the image's user and with the image's
 * Node, into Node's compile cache: without it every start loads the stripper (28 MiB of RSS).
 */
export const DOCKERFILE = `FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json* ./
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund && mkdir .node-compile-cache
FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build --chown=65532:65532 /app/.node-compile-cache ./.node-compile-cache
COPY package.json ./
COPY src ./src
ENV PATH=/nodejs/bin:/usr/bin:/bin NODE_ENV=production NODE_COMPILE_CACHE=/app/.node-compile-cache NODE_COMPILE_CACHE_PORTABLE=1
USER 65532:65532
# Strips the types of src/ once, here (Node's compile cache), not at every start.
RUN ["node", "node_modules/operon-k8s/dist/src/cli/main.js", "prepare", "src/operator.ts"]
ENTRYPOINT ["node", "node_modules/operon-k8s/dist/src/cli/main.js", "run", "src/operator.ts"]
`;

/**
 * `src/<kind>.ts` for `operon add resource <Kind>`: the declaration and its reconcile handler in
 * one file, which `src/operator.ts` re-exports (so `operon run`, `operon crd` and `operon rbac` on
 * it see the new kind).
 */
export function addedResourceSource(n: Pick<ProjectNames, 'group' | 'version' | 'kind'>): string {
  const plural = `${stemOf(n.kind)}s`;
  const declaration = resourceSource(n).replace("import { conditionList, resource, Type } from 'operon-k8s';", "import { conditionList, findCondition, resource, setCondition, Type } from 'operon-k8s';");
  return `${declaration}
${plural}.reconcile(({ body, spec, status, patch }) => {
  const ready = findCondition(status?.conditions, 'Ready');
  if (status?.echo === spec.message && ready?.observedGeneration === body.metadata.generation) return;
  patch.status.echo = spec.message;
  patch.status.conditions = setCondition(
    status?.conditions,
    { type: 'Ready', status: 'True', reason: 'Reconciled', message: '', observedGeneration: body.metadata.generation },
    Date.now(),
  );
});
`;
}
