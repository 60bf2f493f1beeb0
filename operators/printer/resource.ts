/**
 * The Printer custom resource (`printers.operon.dev`, short name `prn`): a namespaced object whose
 * `spec.text` an operator prints once, from a Pod it owns.
 *
 * Guarantees (enforced by the API server through the generated CRD, `crd.yaml`):
 * - `spec.text` is present, 1 to {@link TEXT_MAX_LENGTH} characters (Unicode code points, as the
 *   API server counts them), and contains no NUL character, which no process environment can
 *   carry. Everything else (newlines, quotes, `$(...)`, leading dashes, emoji) is allowed: the Pod
 *   receives the text as data, never as shell input or command-line flags (see `pod.ts`).
 * - A Printer's name is at most 63 characters, so it fits the `operon.dev/printer` label value
 *   on its Pod.
 * - `status` is written only by the operator (status subresource); `status.summary` is the
 *   one-line, shortened text the `Text` column shows.
 *
 * Why the image is not in the spec: the image is what runs, so it is the operator's configuration
 * (`PRINTER_IMAGE`), not something every Printer author may choose. Letting `spec.image` pick any
 * image would turn "print a text" into "run any container in this namespace" for everyone allowed
 * to create a Printer.
 */
import { conditionList, defineResource, Type, type ConditionShape, type ResourceObject, type Static } from 'operon-k8s';

/**
 * The longest `spec.text`, in characters. 4096 allows a 4 KiB message (the largest text the tests
 * carry) while bounding what every Printer puts into etcd, into its Pod's spec (the text is copied
 * there as an environment variable) and into every watch event and `kubectl get -o yaml`. Far
 * below the limits that would otherwise bite: 128 KiB for one environment string in Linux
 * `execve`, 1.5 MiB for an etcd object. A 4096-character text is at most 16 KiB of UTF-8.
 */
export const TEXT_MAX_LENGTH = 4096;

/**
 * The longest `status.summary`, in characters. kubectl prints custom columns in full (the API
 * server's table converter does not shorten strings, and JSONPath cannot), so the `Text` column
 * reads this operator-written field instead of `spec.text`: 40 keeps `kubectl get prn` on one
 * terminal line.
 */
export const SUMMARY_MAX_LENGTH = 40;

/** The phases of the Printer's Pod, copied into `status.phase` (Kubernetes `PodPhase`). */
export const PrinterPhase = Type.Union([
  Type.Literal('Pending'),
  Type.Literal('Running'),
  Type.Literal('Succeeded'),
  Type.Literal('Failed'),
  Type.Literal('Unknown'),
]);
export type PrinterPhase = Static<typeof PrinterPhase>;

/** A status condition, as `setCondition` writes it. */
export type Condition = ConditionShape;

export const PrinterSpec = Type.Object({
  text: Type.String({
    minLength: 1,
    maxLength: TEXT_MAX_LENGTH,
    // Go's regexp (the API server) and JavaScript both read this as "no NUL anywhere".
    pattern: '^[^\\x00]*$',
    description: 'The text the Pod prints to its standard output, verbatim, followed by a newline.',
  }),
});

export const PrinterStatus = Type.Object({
  pod: Type.Optional(Type.String({ maxLength: 253, description: 'Name of the Pod that prints the current text.' })),
  phase: Type.Optional(PrinterPhase),
  summary: Type.Optional(Type.String({ maxLength: SUMMARY_MAX_LENGTH, description: 'The text on one line, shortened; shown by kubectl get.' })),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: 'int64', description: 'The .metadata.generation the operator last acted on.' })),
  conditions: conditionList('Printed: True once the Pod succeeded, False when it failed, Unknown while it runs.'),
  // Operon's state (resource(Printer, { state: 'status' })): the last handled spec and handler progress.
  operon: Type.Optional(Type.Object({}, { additionalProperties: true, description: "Operon's state: the last handled configuration and the progress of handlers." })),
  // Room for a framework's per-handler results, whose shape the handler decides; kept as written.
  handlers: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Results of the operator\'s handlers, by handler name.' })),
});
export type PrinterStatus = Static<typeof PrinterStatus>;

/**
 * The Printer resource. Feed it to `toCrd` for the CRD, use it as the client address, or type
 * objects with {@link PrinterObject}.
 *
 * @example
 * ```ts
 * import { toCrd, crdToYaml } from 'operon-k8s';
 * process.stdout.write(crdToYaml(toCrd(Printer)));
 * ```
 */
export const Printer = defineResource({
  group: 'operon.dev',
  version: 'v1',
  kind: 'Printer',
  scope: 'Namespaced',
  shortNames: ['prn'],
  description: 'A text that an operator prints once, from a Pod it owns; deleting the Printer deletes the Pod.',
  spec: PrinterSpec,
  status: PrinterStatus,
  required: ['spec'],
  validations: [
    {
      rule: 'size(self.metadata.name) <= 63',
      message: 'a Printer name is at most 63 characters: it is also the value of the operon.dev/printer label on its Pod',
    },
  ],
  printerColumns: [
    { name: 'Text', type: 'string', jsonPath: '.status.summary', description: 'The text on one line, shortened to 40 characters.' },
    { name: 'Pod', type: 'string', jsonPath: '.status.pod', description: 'The Pod that prints the text.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'The phase of that Pod.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});

/** A Printer as the API server returns it. */
export type PrinterObject = ResourceObject<typeof Printer>;
