/**
 * The status conditions of a custom resource, declared once: the shape and limits of
 * `metav1.Condition` as Kubernetes' own CRDs declare them, so the API server refuses what
 * `kubectl wait --for=condition=…` and other tools could not read. The kits' `setCondition`
 * writes exactly this shape.
 */
import type { Static } from '@sinclair/typebox';
import { Type } from './type.ts';

/**
 * One condition. Its `type` is CamelCase, optionally prefixed with a DNS subdomain
 * (`example.com/Ready`), as `metav1.Condition` allows.
 */
export const ConditionSchema = Type.Object({
  type: Type.String({
    maxLength: 316,
    pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    description: 'Type of condition in CamelCase, e.g. Ready.',
  }),
  status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: 'int64', description: 'The .metadata.generation the condition was set for.' })),
  lastTransitionTime: Type.String({ format: 'date-time', description: 'When the status last changed.' }),
  reason: Type.String({
    minLength: 1,
    maxLength: 1024,
    pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    description: 'A CamelCase reason for the last transition.',
  }),
  message: Type.String({ maxLength: 32768, description: 'A human-readable message about the transition.' }),
});
/** One condition as the schema declares it: the TypeScript type of {@link ConditionSchema}. */
export type ConditionShape = Static<typeof ConditionSchema>;

/**
 * The schema of `status.conditions`: an optional list of {@link ConditionSchema} (Kubernetes'
 * `metav1.Condition`, with its limits), keyed by `type` (`x-kubernetes-list-type: map`), so a
 * server-side apply of one condition merges with the others instead of replacing the list, and
 * the API server refuses two conditions of one type. `description` becomes the CRD's description
 * of the list (`kubectl explain`): name your condition types and what each means. Write the list
 * with the kits' `setCondition`. Documented in docs/concepts/resources.md.
 *
 * @example
 * ```ts
 * const webs = resource({
 *   group: 'demo.example.com', version: 'v1', kind: 'Web',
 *   spec: Type.Object({ replicas: Type.Integer() }),
 *   status: Type.Object({ conditions: conditionList('Ready: every replica answers.') }),
 * });
 * webs.onCreate(({ status, patch }) => {
 *   patch.status.conditions = setCondition(status.conditions, { type: 'Ready', status: 'True', reason: 'Answering', message: '' }, Date.now());
 * });
 * ```
 */
export function conditionList(description: string) {
  return Type.Optional(Type.Array(ConditionSchema, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], description }));
}
