/**
 * Type-level test (issue #13: a typo in a patch ran and the API server dropped the field): a
 * handler's `patch.spec` and `patch.status` take exactly the fields the resource declares, so a
 * misspelt one is a type error under `operon check` (and `npx tsc --noEmit -p .`). Each
 * `@ts-expect-error` marks a mistake the types must catch, and becomes an error itself if they
 * stop catching it. The handlers are registered on a registry of their own and never run.
 */
import { conditionList, Registry, resource, setCondition, Type } from '../../../src/index.ts';

const webs = resource(
  {
    group: 'typecheck.operon.dev',
    version: 'v1',
    kind: 'Web',
    spec: Type.Object({ replicas: Type.Integer(), image: Type.String() }),
    status: Type.Object({ seen: Type.Optional(Type.Integer()), phase: Type.Optional(Type.Union([Type.Literal('Ready'), Type.Literal('Pending')])) }),
  },
  { registry: new Registry() },
);

webs.onCreate(({ patch }) => {
  patch.spec.replicas = 3;
  patch.status.seen = 1;
  patch.status.phase = 'Ready';
  patch.status.seen = null; // null deletes a field in a merge patch
  // @ts-expect-error a misspelt spec field
  patch.spec.replcias = 3;
  // @ts-expect-error a misspelt status field
  patch.status.sene = 1;
  // @ts-expect-error a status field of the wrong type
  patch.status.seen = 'one';
  // @ts-expect-error a value outside the declared union
  patch.status.phase = 'Running';
});

// A resource that declares no status schema takes any status key.
const loose = resource({ group: 'typecheck.operon.dev', version: 'v1', kind: 'Loose', spec: Type.Object({ size: Type.Integer() }) }, { registry: new Registry() });
loose.onCreate(({ patch }) => {
  patch.status['anything'] = { goes: true };
});

// Conditions declared with conditionList() are written with setCondition (docs/concepts/resources.md).
const ready = resource(
  {
    group: 'typecheck.operon.dev',
    version: 'v1',
    kind: 'Ready',
    spec: Type.Object({ replicas: Type.Integer() }),
    status: Type.Object({ conditions: conditionList('Ready: every replica answers.') }),
  },
  { registry: new Registry() },
);
ready.onCreate(({ status, patch }) => {
  patch.status.conditions = setCondition(status.conditions, { type: 'Ready', status: 'True', reason: 'Answering', message: '' }, Date.now());
  // @ts-expect-error a condition status is True, False or Unknown
  patch.status.conditions = [{ type: 'Ready', status: 'Yes', reason: 'Answering', message: '', lastTransitionTime: '' }];
});
