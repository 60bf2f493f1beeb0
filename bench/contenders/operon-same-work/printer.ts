/**
 * The controller-runtime Printer contender's work, on Operon: one reconcile handler over Printers
 * that owns their Pods, creates the Pod `<printer>-print` when the cache has none, and
 * merge-patches `status.pod` and `status.phase` when the phase differs. No `onField` diff base, no
 * summary, conditions, Events or deletion of earlier texts' Pods: what
 * `bench/contenders/controller-runtime/printer/main.go` does, line for line, so the two figures
 * compare the frameworks and not the operators. The reference operator
 * (`operators/printer/operator.ts`) does far more per Printer; the benchmark runs both.
 *
 * Written as a user outside this repository writes it: `operon-k8s` by its package name.
 *
 * Environment: KUBECONFIG, PRINTER_IMAGE (default busybox:1.37).
 */
import type { Pod as PodObject } from 'kubernetes-types/core/v1.d.ts';
import { adopt, builtin, defineOperator, defineResource, isApiError, Type } from 'operon-k8s';

const Printer = defineResource({
  group: 'operon.dev',
  version: 'v1',
  kind: 'Printer',
  plural: 'printers',
  scope: 'Namespaced',
  spec: Type.Object({ text: Type.String() }),
  status: Type.Object({ pod: Type.Optional(Type.String()), phase: Type.Optional(Type.String()) }),
});
const Pod = builtin('v1', 'Pod');
const image = process.env.PRINTER_IMAGE || 'busybox:1.37';

export default defineOperator((op) => {
  const printers = op.resource(Printer);
  printers.owns(Pod);
  printers.reconcile(
    async ({ body, name, namespace, spec, status, cache, client, patch }) => {
      const podName = `${name}-print`;
      const cached = cache.of(Pod).get(podName, namespace);
      let phase = cached?.status?.phase;
      if (cached === undefined) {
        const wanted: PodObject = adopt(
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: podName, namespace, labels: { 'app.kubernetes.io/managed-by': 'printer-operon-same-work' } },
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'printer', image, command: ['printenv', 'PRINTER_TEXT'], env: [{ name: 'PRINTER_TEXT', value: spec.text }] }],
            },
          },
          body,
        );
        try {
          phase = (await client.create(Pod, wanted)).status?.phase;
        } catch (error) {
          // The cache is behind the create of an earlier reconcile: as the Go contender, nothing to write yet.
          if (!isApiError(error, 'AlreadyExists')) throw error;
        }
      }
      if (!phase || phase === status.phase) return;
      patch.status.pod = podName;
      patch.status.phase = phase;
    },
    { id: 'pod' },
  );
});
