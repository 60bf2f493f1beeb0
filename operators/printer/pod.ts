/**
 * The Pod that prints a Printer's text, built by a pure function (no I/O, no clock, no randomness).
 *
 * Guarantees:
 * - The text reaches the container as data only: it is the value of the `PRINTER_TEXT`
 *   environment variable, and the container runs `printenv PRINTER_TEXT`. No shell reads it and it
 *   is never a command-line argument, so `$(rm -rf /)`, `; echo pwned`, `-n` or `--help` are printed
 *   as they are (followed by the newline printenv adds), and nothing is executed or parsed.
 * - The Pod's name is a function of the Printer's uid and text ({@link printerPodName}). Building
 *   the Pod twice, in two operator processes or after a crash, gives the same name, so the API
 *   server's AlreadyExists is what stops a second Pod: one Pod per Printer and text, whatever
 *   happens to the operator.
 * - The Printer owns the Pod (`controller: true`, `blockOwnerDeletion: true`), so the garbage
 *   collector deletes it with the Printer.
 * - The Pod passes the Pod Security "restricted" profile: non-root (uid/gid 65534, "nobody"),
 *   read-only root file system, no privilege escalation, no capabilities, RuntimeDefault seccomp,
 *   and no ServiceAccount token mounted (printing needs no API access).
 */
import { createHash } from 'node:crypto';
import type { Pod, PodSpec } from 'kubernetes-types/core/v1.d.ts';
import { Printer } from './resource.ts';

/**
 * The default image: busybox 1.37 is about 2 MB, public on Docker Hub, has a `printenv` applet and
 * runs as any uid with a read-only root file system. Any image with a `printenv` on its PATH
 * works (coreutils' prints the same way); set `PRINTER_IMAGE` to use a mirror or a pinned digest.
 */
export const DEFAULT_IMAGE = 'busybox:1.37';

/** The environment variable that carries the text into the container. */
export const TEXT_VARIABLE = 'PRINTER_TEXT';

/** The label naming the Printer a Pod belongs to (the Pod's name does not say, being a hash). */
export const PRINTER_LABEL = 'operon.dev/printer';

/**
 * Kubernetes' own `generateName` alphabet (k8s.io/apimachinery `util/rand`): lower-case consonants
 * and digits, chosen so that suffixes never spell words. Using it keeps the names looking like the
 * design document's `print-wrgtvjcydk`.
 */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const SUFFIX_LENGTH = 10;
/** 27^10, about 2.1e14: below 2^53, so the suffix's arithmetic is exact in a Number. */
const SUFFIX_MODULUS = BigInt(NAME_ALPHABET.length) ** BigInt(SUFFIX_LENGTH);

/** What the builder needs from a Printer: any object the API server returned will do. */
export interface PrinterPodSource {
  metadata: { name: string; namespace?: string; uid: string };
  spec: { text: string };
}

export interface PrinterPodOptions {
  /** The operator's name, for the `app.kubernetes.io/managed-by` label and its Pod watch. */
  managedBy: string;
  /** Default: {@link DEFAULT_IMAGE}; see {@link printerImage}. */
  image?: string;
}

/** A Pod whose name, namespace and spec are set. */
export type PrinterPod = Pod & { metadata: { name: string; namespace: string }; spec: PodSpec };

/**
 * The Pod's name: `print-` and 10 characters derived from a SHA-256 of the Printer's uid and text.
 * The uid (not the name) tells apart a Printer deleted and created again with the same name; the
 * text makes an edited Printer print its new text from a new Pod. About 47 bits of suffix: a
 * collision needs millions of Printers in one namespace.
 *
 * @example
 * ```ts
 * printerPodName('0b8e5d4c-…', 'Hello Kube!'); // 'print-' + 10 characters, the same on every call
 * ```
 */
export function printerPodName(uid: string, text: string): string {
  // A uid never contains '\n', so the input splits back into (uid, text) one way only.
  const digest = BigInt(`0x${createHash('sha256').update(`${uid}\n${text}`, 'utf8').digest('hex')}`);
  // The suffix is the lowest base-27 digits of the digest, as since the first version (names must
  // not change across upgrades). They are the digits of digest mod 27^10, which fits a Number: one
  // BigInt division instead of ten.
  let n = Number(digest % SUFFIX_MODULUS);
  let suffix = '';
  for (let i = 0; i < SUFFIX_LENGTH; i++) {
    suffix += NAME_ALPHABET[n % NAME_ALPHABET.length];
    n = Math.floor(n / NAME_ALPHABET.length);
  }
  return `print-${suffix}`;
}


/**
 * Whether `pod` is the one {@link printerPod} builds for the Printer with `uid` and `text`: the
 * Printer controls it and it prints that text. The reconcile asks this of the Pod its status names
 * on every run, where hashing uid and text again to compare names cost a SHA-256 and a BigInt
 * division per run (3% of a 1,000-Printer burst's CPU, docs/performance.md).
 *
 * @example
 * ```ts
 * podPrints(cache.get(status.pod, namespace), uid, body.spec.text); // false for the Pod of an earlier text
 * ```
 */
export function podPrints(pod: Pod, uid: string, text: string): boolean {
  const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller === true);
  if (owner?.uid !== uid) return false;
  const variable = pod.spec?.containers?.[0]?.env?.find((env) => env.name === TEXT_VARIABLE);
  return variable !== undefined && variable.value === text;
}

/**
 * The image the operator uses: `PRINTER_IMAGE` when set and not empty, else {@link DEFAULT_IMAGE}.
 *
 * @example
 * ```ts
 * printerImage({ PRINTER_IMAGE: 'registry.local/busybox:1.37' }); // 'registry.local/busybox:1.37'
 * ```
 */
export function printerImage(env: { readonly [name: string]: string | undefined } = process.env): string {
  return env['PRINTER_IMAGE'] || DEFAULT_IMAGE;
}

/**
 * The Pod that prints `printer.spec.text`, owned by the Printer.
 *
 * @throws {RangeError} when the Printer has no namespace (Printers are namespaced; the API server
 *   always sets it on objects it returns).
 * @example
 * ```ts
 * const pod = printerPod(printer, { managedBy: 'printer-operator' });
 * await client.create(pod); // AlreadyExists means another run already created it: nothing to do
 * ```
 */
export function printerPod(printer: PrinterPodSource, options: PrinterPodOptions): PrinterPod {
  const { name, namespace, uid } = printer.metadata;
  if (!namespace) throw new RangeError(`Printer ${name} has no namespace; Pods are built from Printers read from the API server`);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: printerPodName(uid, printer.spec.text),
      namespace,
      labels: {
        'app.kubernetes.io/name': 'printer',
        'app.kubernetes.io/managed-by': options.managedBy,
        [PRINTER_LABEL]: name,
      },
      ownerReferences: [{ apiVersion: Printer.apiVersion, kind: Printer.kind, name, uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      // Only the variables we set: no Service discovery variables next to the text.
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65534,
        runAsGroup: 65534,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'printer',
          image: options.image ?? DEFAULT_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          command: ['printenv', TEXT_VARIABLE],
          env: [{ name: TEXT_VARIABLE, value: printer.spec.text }],
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
          // printenv needs almost nothing; the limits stop a misconfigured image from hogging a node.
          resources: {
            requests: { cpu: '10m', memory: '16Mi' },
            limits: { cpu: '50m', memory: '32Mi' },
          },
        },
      ],
    },
  };
}
