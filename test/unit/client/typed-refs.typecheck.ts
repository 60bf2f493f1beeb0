/**
 * Type-level test: the object type of a typed resource flows into the client's results, with no
 * type argument written. It proves its point by type-checking under `npx tsc --noEmit -p .`; each
 * `@ts-expect-error` marks a mistake the types must catch, and becomes an error itself if they
 * stop catching it. The checks live in functions that are never called, so running the file does
 * nothing.
 */
import type { ConfigMap, Pod } from 'kubernetes-types/core/v1.d.ts';
import type { Lease } from 'kubernetes-types/coordination/v1.d.ts';
import { builtin, defineResource, Type, type KubeClient, type KubeObject, type ResourceRef, type Status, type Stored } from '../../../src/index.ts';
import { sourceFor } from '../../../src/watch/source.ts';

const Printer = defineResource({
  group: 'operon.dev',
  version: 'v1',
  kind: 'Printer',
  spec: Type.Object({ text: Type.String(), copies: Type.Optional(Type.Integer()) }),
  status: Type.Object({ pod: Type.Optional(Type.String()) }),
  required: ['spec'],
});

const configmaps = builtin('v1', 'ConfigMap');
const leases: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespaced: true };

export async function _builtinResultsAreTheirKind(client: KubeClient): Promise<void> {
  const cm = await client.get(configmaps, 'x', { namespace: 'default' });
  const asConfigMap: Stored<ConfigMap> = cm;
  const data: { [key: string]: string } | undefined = cm.data;
  const name: string = cm.metadata.name; // stored metadata
  // @ts-expect-error a ConfigMap has no spec of a known shape
  void cm.spec.containers;
  // @ts-expect-error nor a misspelt field
  void cm.dta;

  const { items } = await client.list(configmaps, { namespace: 'default' });
  const all = await client.listAll(builtin('v1', 'Pod'));
  const firstPod: Pod | undefined = all.items[0];
  const patched = await client.patch(configmaps, 'x', { type: 'merge', body: { data: { a: '1' } } }, { namespace: 'default' });
  const deleted = await client.delete(configmaps, 'x', { namespace: 'default' });
  const gone: Stored<ConfigMap> | Status = deleted; // the object while finalizers hold it, or a Status
  for await (const event of client.watch(configmaps, { namespace: 'default' })) {
    if (event.type === 'ADDED') void (event.object.data satisfies ConfigMap['data']);
  }
  void [asConfigMap, data, name, items[0]?.binaryData, firstPod, patched.data, gone];
}

export async function _customResourceSpecFlows(client: KubeClient): Promise<void> {
  const printer = await client.get(Printer, 'p1', { namespace: 'lab' });
  const text: string = printer.spec.text; // `required: ['spec']`, so no `?.`
  const copies: number | undefined = printer.spec.copies;
  const pod: string | undefined = printer.status?.pod;
  // @ts-expect-error text is a string
  const wrong: number = printer.spec.text;
  // @ts-expect-error the spec declares no colour
  void printer.spec.colour;

  const { items } = await client.list(Printer.ref);
  const first: string | undefined = items[0]?.spec.text;
  const watched = sourceFor(client, Printer); // a watch source of Printers, no type argument
  const page = await watched.list({});
  const listed: string | undefined = page.items[0]?.spec.text;
  void [text, copies, pod, wrong, first, listed];
}

export async function _writesAreCheckedAgainstTheResource(client: KubeClient): Promise<void> {
  // The resource types the body in place: `apiVersion: 'v1'` needs no `as const`.
  const created = await client.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' }, data: { a: '1' } });
  const asConfigMap: Stored<ConfigMap> = created;
  // A body that is a narrower ConfigMap keeps its own type, extra certainty and all.
  const narrow = await client.create(configmaps, { metadata: { name: 'x', namespace: 'default' }, data: { a: '1' } });
  const a: string = narrow.data.a;
  const replaced = await client.replace(Printer, { ...(await client.get(Printer, 'p1', { namespace: 'lab' })), spec: { text: 'again' } });
  const again: string = replaced.spec.text;
  // @ts-expect-error a Pod is not a ConfigMap
  await client.create(configmaps, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'default' } });
  // @ts-expect-error the spec declares `text` a string
  await client.create(Printer, { apiVersion: 'operon.dev/v1', kind: 'Printer', metadata: { name: 'p' }, spec: { text: 7 } });
  // @ts-expect-error the status declares `pod` a string
  await client.replace(Printer, { metadata: { name: 'p', namespace: 'lab' }, spec: { text: 'x' }, status: { pod: false } }, { subresource: 'status' });
  void [asConfigMap, a, again];
}

export async function _plainRefsStillTakeATypeArgument(client: KubeClient): Promise<void> {
  const lease = await client.get<Lease>(leases, 'leader', { namespace: 'kube-system' });
  const holder: string | undefined = lease.spec?.holderIdentity;
  const object = await client.get(leases, 'leader', { namespace: 'kube-system' });
  const untyped: Stored<KubeObject> = object;
  // @ts-expect-error without a type argument a plain ref gives a KubeObject, whose spec is unknown
  void object.spec.holderIdentity;
  // A body with fields of its own, through a plain ref: inferred from the body, as before.
  const cm = await client.create({ group: '', version: 'v1', plural: 'configmaps', namespaced: true }, { metadata: { name: 'x', namespace: 'default' }, data: { a: '1' } });
  const a: string = cm.data.a;
  const replaced = await client.replace<Lease>(leases, { ...lease, spec: { ...lease.spec, holderIdentity: 'me' } });
  const watched = sourceFor<Lease>(client, leases);
  const refs: ResourceRef[] = [configmaps, Printer, Printer.ref, leases]; // typed resources are still refs
  void [holder, untyped, a, replaced, watched, refs];
}
