/**
 * The status conditions of a custom resource, declared once: the shape and limits of
 * `metav1.Condition` as Kubernetes' own CRDs declare them, so the API server refuses what
 * `kubectl wait --for=condition=…` and other tools could not read. The kits' `setCondition`
 * writes exactly this shape.
 */
import { Type, type Static } from '@sinclair/typebox';

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
 * `status.conditions`: a list keyed by `type` (`x-kubernetes-list-type: map`), so server-side
 * apply merges one condition without replacing the others. `description` names your types.
 *
 * @example
 * ```ts
 * const status = Type.Object({ conditions: conditionList('Ready: the value is computed.') });
 * ```
 */
export function conditionList(description: string) {
  return Type.Optional(Type.Array(ConditionSchema, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], description }));
}
