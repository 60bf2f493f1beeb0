/**
 * Type-level test: this file proves its point by type-checking under `npx tsc --noEmit -p .`.
 * Each `@ts-expect-error` marks a mistake the types must catch; if the types stop catching it,
 * the directive itself becomes an error. The checks live in functions that are never called, so
 * running the file (a test runner globbing `test/**`) only declares resources and does nothing.
 */
import { Type } from '@sinclair/typebox';
import type { Pod } from 'kubernetes-types/core/v1.d.ts';
import type { KubeObject, ResourceRef } from '../../../src/client/types.ts';
import { builtin, conversion, defineResource, defineVersions, type CustomResource, type ResourceObject } from '../../../src/schema/index.ts';
import { toCrd } from '../../../src/manifests/index.ts';

const Printer = defineResource({
  group: 'operon.dev',
  version: 'v1',
  kind: 'Printer',
  shortNames: ['prn'],
  spec: Type.Object({ text: Type.String({ maxLength: 4096 }), copies: Type.Optional(Type.Integer()) }),
  status: Type.Object({ pod: Type.Optional(Type.String()) }),
  required: ['spec'],
});

type PrinterObject = ResourceObject<typeof Printer>;

/** A handler registration as the handlers layer will type it. */
function onCreate(handler: (body: PrinterObject) => void): void {
  void handler;
}

export function _handlerGetsTypesWithoutAnnotations(): void {
  onCreate((body) => {
    const text: string = body.spec.text; // `required: ['spec']` makes spec present
    const copies: number | undefined = body.spec.copies;
    const pod: string | undefined = body.status?.pod;
    const name: string = body.metadata.name; // Stored metadata
    const apiVersion: 'operon.dev/v1' | undefined = body.apiVersion;
    const kind: 'Printer' | undefined = body.kind;
    // @ts-expect-error a misspelt spec field does not exist
    void body.spec.txt;
    // @ts-expect-error text is a string, not a number
    const wrong: number = body.spec.text;
    // @ts-expect-error status has no such field
    void body.status?.phase;
    // @ts-expect-error wrong apiVersion literal
    const badVersion: PrinterObject['apiVersion'] = 'operon.dev/v2';
    void [text, copies, pod, name, apiVersion, kind, wrong, badVersion];
  });
}

// Without `required`, spec may be absent; without a status schema, status is never set.
export const Loose = defineResource({ group: 'operon.dev', version: 'v1', kind: 'Loose', spec: Type.Object({ n: Type.Number() }) });

export function _optionalSpecAndNoStatus(loose: ResourceObject<typeof Loose>): void {
  // @ts-expect-error spec may be undefined
  void loose.spec.n;
  const n: number | undefined = loose.spec?.n;
  // @ts-expect-error no status declared
  const status: { pod?: string } = loose.status;
  void [n, status];
}

// Enum literals flow as a union of strings.
const Cvc = defineResource({
  group: 'crypto.tools',
  version: 'v1',
  kind: 'CryptoValueCalculator',
  spec: Type.Object({ coin: Type.Union([Type.Literal('bitcoin'), Type.Literal('ethereum')]), amount: Type.Number({ minimum: 0 }) }),
  required: ['spec'],
});

export function _enumsAreLiteralUnions(cvc: ResourceObject<typeof Cvc>): void {
  const coin: 'bitcoin' | 'ethereum' = cvc.spec.coin;
  const amount: number = cvc.spec.amount;
  // @ts-expect-error 'dogecoin' is not one of the declared coins
  const doge: typeof cvc.spec.coin = 'dogecoin';
  void [coin, amount, doge];
}

export function _builtinsCarryKubernetesTypes(): void {
  const pods = builtin('v1', 'Pod');
  const check = (pod: ResourceObject<typeof pods>): void => {
    const podSpec: Pod['spec'] = pod.spec;
    const containerName: string | undefined = pod.spec?.containers[0]?.name;
    // @ts-expect-error pods have no `text`
    void pod.spec?.text;
    void [podSpec, containerName];
  };
  void [pods, check];
  // @ts-expect-error unknown kinds need their names
  builtin('v1', 'Potato');
}

export function _resourcesAreRefsAndFeedToCrd(object: KubeObject): void {
  const ref: ResourceRef = Printer;
  const any: CustomResource = Printer;
  const objects: KubeObject[] = [] as ResourceObject<typeof Printer>[];
  toCrd([Printer, Cvc as CustomResource]);
  if (Printer.is(object)) {
    const text: string | undefined = object.spec?.text; // the guard narrows
    void text;
  }
  void [ref, any, objects];
}

export function _conversionsAreTypedByTheirVersions(): void {
  const V1 = defineResource({ group: 'example.com', version: 'v1', kind: 'Gadget', spec: Type.Object({ size: Type.Number() }) });
  const V2 = defineResource({ group: 'example.com', version: 'v2', kind: 'Gadget', spec: Type.Object({ size: Type.String() }) });
  conversion(V1, V2, {
    up: (o) => ({ spec: { size: String(o.spec?.size satisfies number | undefined) } }),
    down: (o) => ({ spec: { size: Number(o.spec?.size satisfies string | undefined) } }),
  });
  conversion(V1, V2, {
    // @ts-expect-error v2's size is a string, not a number
    up: (o) => ({ spec: { size: o.spec?.size ?? 0 } }),
    down: () => ({}),
  });
  const set = defineVersions({ versions: [V1, V2], storage: 'v1', conversions: [conversion(V1, V2, { up: () => ({}), down: () => ({}) })] });
  toCrd(set);
}
