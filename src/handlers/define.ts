/**
 * An operator as a factory: `defineOperator(setup)` registers nothing when its module is
 * imported; each `build()` runs `setup` against a fresh {@link Registry}. So one module can be
 * loaded by two operators, or by a test twice, without their handlers mixing in the default
 * registry, and state the operator keeps (a price cache, a connection pool) is a variable of
 * `setup`'s closure, one per built operator: kopf's `memo`, kube-rs's controller context.
 *
 * The kopf style (`resource(...)`, `onStartup(...)` at the top level of a module, filling the
 * default registry) keeps working; `operon run` takes whichever a module uses.
 */
import type { KubeClient } from '../client/client.ts';
import type { Stored } from '../client/types.ts';
import type { CustomResource, ObjectOf, Resource, ResourceDeclaration } from '../schema/resource.ts';
import type { VersionedResource } from '../schema/versions.ts';
import { onCleanup, onLogin, onStartup, probe, schedule, serveConversion, type ActivityOptions, type ScheduleOptions } from './operator-handlers.ts';
import { Registry, resource, type ResourceHandlers } from './registry.ts';
import type { LoginContext, OperatorContext } from './types.ts';

/** What `setup` registers with: the functions of the top-level API, bound to one registry. */
export interface OperatorScope {
  /** The registry this build fills. */
  readonly registry: Registry;
  /** As the top-level `resource()`: declares a custom resource and returns its handler methods. */
  resource<const D extends ResourceDeclaration>(declaration: D): CustomResource<D> & ResourceHandlers<Stored<ObjectOf<CustomResource<D>>>>;
  /** As the top-level `resource()`: takes an existing resource (a `builtin`, a declaration). */
  resource<R extends Resource>(existing: R): R & ResourceHandlers<Stored<ObjectOf<R>>>;
  /** As the top-level `onStartup()`. */
  onStartup(fn: (context: OperatorContext) => unknown, options?: Omit<ActivityOptions, 'registry'>): string;
  /** As the top-level `onCleanup()`. */
  onCleanup(fn: (context: OperatorContext) => unknown, options?: Omit<ActivityOptions, 'registry'>): string;
  /** As the top-level `onLogin()`. */
  onLogin(fn: (context: LoginContext) => KubeClient | Promise<KubeClient>): void;
  /** As the top-level `probe()`. */
  probe(id: string, fn: (context: OperatorContext) => unknown): void;
  /** As the top-level `serveConversion()`. */
  serveConversion(versions: VersionedResource): void;
  /** As the top-level `schedule()`: operator-level work every interval, on the leader only. */
  schedule(fn: (context: OperatorContext) => unknown, options: Omit<ScheduleOptions, 'registry'>): string;
}

const DEFINITION = Symbol.for('operon.operator-definition');

/** An operator defined by {@link defineOperator}: `build()` gives a fresh registry each time. */
export interface OperatorDefinition {
  /** Marks the value for `operon run`, which finds it among a module's exports. */
  readonly [DEFINITION]: true;
  /** Runs the setup against a new registry and returns it. */
  build(): Promise<Registry>;
}

/**
 * Defines an operator as a factory (see the module comment).
 *
 * @example
 * ```ts
 * // operator.ts: `operon run operator.ts` builds and runs it
 * export default defineOperator((op) => {
 *   let prices: PriceCache | undefined;           // this operator's own state (kopf's memo)
 *   const cvcs = op.resource(CryptoValueCalculator);
 *   op.onStartup(() => { prices = new PriceCache(...); prices.start(); });
 *   op.onCleanup(() => prices?.stop());
 *   cvcs.reconcile(async ({ spec, patch }) => { patch.status.price = await prices?.get(spec.coin); });
 * });
 * // a test: a registry of its own, however many times the module was imported
 * const run = startOperator(await definition.build(), { namespaces: [ns] });
 * ```
 */
export function defineOperator(setup: (op: OperatorScope) => void | Promise<void>): OperatorDefinition {
  return {
    [DEFINITION]: true,
    build: async () => {
      const registry = new Registry();
      const scope: OperatorScope = {
        registry,
        resource: ((input: ResourceDeclaration | Resource) => resource(input as Resource, { registry })) as OperatorScope['resource'],
        onStartup: (fn, options = {}) => onStartup(fn, { ...options, registry }),
        onCleanup: (fn, options = {}) => onCleanup(fn, { ...options, registry }),
        onLogin: (fn) => onLogin(fn, { registry }),
        probe: (id, fn) => probe(id, fn, { registry }),
        serveConversion: (versions) => serveConversion(versions, { registry }),
        schedule: (fn, options) => schedule(fn, { ...options, registry }),
      };
      await setup(scope);
      return registry;
    },
  };
}

/**
 * True for a value made by {@link defineOperator}.
 *
 * @example
 * ```ts
 * const definition = Object.values(exports).find(isOperatorDefinition);
 * ```
 */
export function isOperatorDefinition(value: unknown): value is OperatorDefinition {
  return typeof value === 'object' && value !== null && (value as { [DEFINITION]?: unknown })[DEFINITION] === true;
}
