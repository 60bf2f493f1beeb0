/**
 * Namespaces chosen by a label selector, followed at run time: a watch of the Namespaces that
 * match (`kubectl label namespace team-a operon=on` brings one in, removing the label takes it
 * out). The operator's resources are then watched in all namespaces and an object is handled
 * only while its namespace is selected; when a namespace comes in or goes out, its cached
 * objects are looked at again (coming in: handled as on a start; going out: their timers and
 * daemons stop, their finalizers stay).
 *
 * Cost: objects of unselected namespaces are cached too (one cluster-wide watch per resource,
 * as with namespace globs); what changes with the labels is only what is handled.
 */
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/logger.ts';
import type { KubeClient } from '../client/client.ts';
import type { ResourceRef, Stored } from '../client/types.ts';
import { builtin } from '../schema/resource.ts';
import { Reflector } from '../watch/reflector.ts';
import { sourceFor } from '../watch/source.ts';

/** The Namespace resource. */
const NAMESPACES = builtin('v1', 'Namespace');

/**
 * The selected namespaces.
 *
 * @example
 * ```ts
 * const selection = new NamespaceSelection({ client, logger, clock, labelSelector: { 'operon.dev/watch': 'true' } });
 * selection.onChange((namespace, selected) => runtime.enqueueNamespace(namespace));
 * void selection.reflector.start();
 * ```
 */
export class NamespaceSelection {
  /** The watch of selected Namespaces (its store: what is selected now). */
  readonly reflector: Reflector<Stored>;

  constructor(options: { client: KubeClient; logger: Logger; clock: Clock; labelSelector: string | Readonly<Record<string, string>>; idleTimeoutMs?: number | undefined }) {
    this.reflector = new Reflector<Stored>({
      source: sourceFor<Stored>(options.client, NAMESPACES.ref as unknown as ResourceRef<Stored>),
      namespaced: false,
      scope: { labelSelector: options.labelSelector },
      // Only names matter: nothing else of a Namespace is kept.
      store: { transform: (ns) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { ...ns.metadata, managedFields: undefined, annotations: undefined } }) as Stored },
      name: 'namespaces',
      logger: options.logger,
      clock: options.clock,
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    });
  }

  /** True while `namespace` is selected (a cluster-scoped object, `undefined`, always is). */
  has(namespace: string | undefined): boolean {
    return namespace === undefined || this.reflector.store.get(namespace) !== undefined;
  }

  /** Calls `listener` when a namespace comes in (`true`) or goes out (`false`). */
  onChange(listener: (namespace: string, selected: boolean) => void): void {
    this.reflector.subscribe(({ type, object }) => {
      if (type === 'modified') return;
      listener(object.metadata.name, type === 'added');
    });
  }
}
