/**
 * The Printer's pure pieces for the no-framework operator: the Pod it creates and the status it
 * writes. A copy of `operators/printer/pod.ts` and `status.ts`, because this example may import
 * nothing of Operon's tree (not even its reference operator); `test/unit/printer/parity.test.ts`
 * fails when the copies build anything different.
 *
 * The same guarantees as the originals: the text reaches the container only as the value of an
 * environment variable printed by `printenv` (no shell, no arguments); the Pod's name is a hash of
 * the Printer's uid and text, so creating it twice gives AlreadyExists, never a second Pod; the
 * Printer owns the Pod; the Pod passes the "restricted" Pod Security profile.
 */
import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';

export const GROUP = 'operon.dev';
export const VERSION = 'v1';
export const PLURAL = 'printers';
export const DEFAULT_IMAGE = 'busybox:1.37'; // ~2 MB, public, has printenv, runs as any uid

/** A Printer as the API server returns it (the fields this operator reads). */
export interface Printer {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid: string; generation?: number; resourceVersion?: string; deletionTimestamp?: string };
  spec: { text: string };
  status?: { pod?: string; phase?: string; summary?: string; observedGeneration?: number; conditions?: Condition[] };
}

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** `print-` + 10 characters of Kubernetes' name alphabet, from a SHA-256 of uid and text. */
export function printerPodName(uid: string, text: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let n = BigInt(`0x${createHash('sha256').update(`${uid}\n${text}`, 'utf8').digest('hex')}`);
  let suffix = '';
  for (let i = 0; i < 10; i++) {
    suffix += alphabet[Number(n % 27n)];
    n /= 27n;
  }
  return `print-${suffix}`;
}

/** The Pod that prints `printer.spec.text`, owned by the Printer. */
export function printerPod(printer: Printer, options: { managedBy: string; image?: string }): V1Pod {
  const { name, namespace, uid } = printer.metadata;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: printerPodName(uid, printer.spec.text),
      namespace,
      labels: { 'app.kubernetes.io/name': 'printer', 'app.kubernetes.io/managed-by': options.managedBy, 'operon.dev/printer': name },
      ownerReferences: [{ apiVersion: `${GROUP}/${VERSION}`, kind: 'Printer', name, uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'printer',
          image: options.image ?? DEFAULT_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          // The text is data: an environment variable that printenv writes out verbatim.
          command: ['printenv', 'PRINTER_TEXT'],
          env: [{ name: 'PRINTER_TEXT', value: printer.spec.text }],
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '50m', memory: '32Mi' } },
        },
      ],
    },
  };
}

/** The text on one line, at most 40 code points, for the `Text` column. */
export function summarize(text: string): string {
  const flat = text.replace(/\p{Cc}+/gu, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= 40 ? flat : `${chars.slice(0, 39).join('')}…`;
}

/** Conditions after the Pod reached `phase`: `Printed` True/False/Unknown, transition time kept when unchanged. */
export function printedConditions(phase: string, generation: number | undefined, previous: readonly Condition[] | undefined, now: Date): Condition[] {
  const status = phase === 'Succeeded' ? 'True' : phase === 'Failed' ? 'False' : 'Unknown';
  const old = previous?.find((c) => c.type === 'Printed');
  const condition: Condition = {
    type: 'Printed',
    status,
    reason: `Pod${phase}`,
    message: `the printing Pod is ${phase}`,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  if (generation !== undefined) condition.observedGeneration = generation;
  return [...(previous ?? []).filter((c) => c.type !== 'Printed'), condition];
}
