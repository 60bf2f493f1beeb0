/**
 * What to watch: which namespaces (all, one, several, or glob patterns with exclusions) and which
 * objects (label and field selectors), turned into a plan of concrete watches.
 *
 * The plan, and why:
 * - A cluster-scoped resource: one watch. Namespaces do not apply and are ignored.
 * - All namespaces (nothing given, or `*`): one cluster-wide watch.
 * - Only exact names (`['shop', 'billing']`): one watch per namespace. Each needs only a Role in
 *   its namespace, not a ClusterRole, and the server sends nothing we would throw away.
 * - Any glob (`team-*`) or exclusion (`!kube-*`): one cluster-wide watch and a client-side filter
 *   on the namespace. A namespace created later that matches is then seen at once, without
 *   watching Namespace objects; the cost is that the server sends the excluded objects too and a
 *   cluster-wide list/watch permission is needed.
 *
 * Guarantee: `planWatches` decides everything up front and throws on an invalid pattern, so a typo
 * fails at start-up, not as a silently empty cache.
 */

export interface WatchScope {
  /**
   * Namespaces to watch: omitted or `'*'` for all; a name, a glob (`*` any run, `?` one character)
   * or an exclusion starting with `!`, or a list of them. Exclusions win over inclusions; a list of
   * only exclusions means "all but these".
   */
  namespaces?: string | readonly string[];
  /** `app=web,tier!=cache`, or `{ app: 'web' }` for equality terms. */
  labelSelector?: string | Readonly<Record<string, string>>;
  /** `status.phase=Running`, or `{ 'status.phase': 'Running' }`. */
  fieldSelector?: string | Readonly<Record<string, string>>;
}

/** One watch of a plan: the list/watch options it sends. */
export interface PlannedWatch {
  /** Omitted: all namespaces, or a cluster-scoped resource. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchPlan {
  readonly watches: readonly PlannedWatch[];
  /** Present when objects must be filtered by namespace on our side (globs, exclusions). */
  readonly namespaceFilter?: (namespace: string) => boolean;
  /** For logs: `namespaces shop, billing` or `all namespaces matching team-*, !team-x`. */
  readonly description: string;
}

const PATTERN = /^[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?$/;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Decides the watches for a scope.
 *
 * @example
 * ```ts
 * planWatches({ namespaces: ['shop', 'billing'] }, { namespaced: true }).watches;
 * // [{ namespace: 'shop' }, { namespace: 'billing' }]
 * planWatches({ namespaces: ['team-*', '!team-x'] }, { namespaced: true }).namespaceFilter?.('team-a'); // true
 * ```
 */
export function planWatches(scope: WatchScope, resource: { namespaced: boolean }): WatchPlan {
  const selectors: PlannedWatch = {};
  const labels = formatSelector(scope.labelSelector);
  const fields = formatSelector(scope.fieldSelector);
  if (labels !== undefined) selectors.labelSelector = labels;
  if (fields !== undefined) selectors.fieldSelector = fields;
  const suffix = [labels && `labels ${labels}`, fields && `fields ${fields}`].filter(Boolean).join(', ');
  const describe = (what: string): string => (suffix ? `${what}, ${suffix}` : what);

  if (!resource.namespaced) return { watches: [selectors], description: describe('cluster-scoped') };

  const entries = scope.namespaces === undefined ? ['*'] : typeof scope.namespaces === 'string' ? [scope.namespaces] : [...scope.namespaces];
  if (entries.length === 0) throw new RangeError('namespaces: an empty list watches nothing; omit it to watch all namespaces');
  const includes: string[] = [];
  const excludes: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    const negated = entry.startsWith('!');
    const pattern = negated ? entry.slice(1) : entry;
    if (!PATTERN.test(pattern)) throw new RangeError(`namespaces: "${raw}" is neither a namespace name nor a glob pattern`);
    (negated ? excludes : includes).push(pattern);
  }

  const excluded = excludes.length > 0 ? globMatcher(excludes) : () => false;
  const everything = includes.length === 0 || includes.includes('*');
  if (!everything && includes.every((p) => NAME.test(p))) {
    const names = [...new Set(includes)].filter((n) => !excluded(n));
    if (names.length === 0) throw new RangeError(`namespaces: every listed namespace is excluded (${entries.join(', ')})`);
    return {
      watches: names.map((namespace) => ({ namespace, ...selectors })),
      description: describe(`namespace${names.length > 1 ? 's' : ''} ${names.join(', ')}`),
    };
  }
  if (everything && excludes.length === 0) return { watches: [selectors], description: describe('all namespaces') };

  const included = everything ? () => true : globMatcher(includes);
  return {
    watches: [selectors],
    namespaceFilter: (namespace) => included(namespace) && !excluded(namespace),
    description: describe(`all namespaces matching ${entries.join(', ')}`),
  };
}

/**
 * A predicate for namespace patterns, with `!` exclusions, as {@link WatchScope.namespaces}.
 *
 * @example
 * ```ts
 * const ok = namespaceMatcher(['team-*', '!team-x']);
 * ok('team-a'); // true
 * ok('team-x'); // false
 * ```
 */
export function namespaceMatcher(patterns: string | readonly string[]): (namespace: string) => boolean {
  const plan = planWatches({ namespaces: patterns }, { namespaced: true });
  if (plan.namespaceFilter) return plan.namespaceFilter;
  const names = new Set(plan.watches.map((w) => w.namespace).filter((n): n is string => n !== undefined));
  return names.size === 0 ? () => true : (namespace) => names.has(namespace);
}

/**
 * A selector as the API wants it: strings pass through, records become `k=v` terms joined by commas.
 *
 * @example
 * ```ts
 * formatSelector({ app: 'web', tier: 'front' }); // 'app=web,tier=front'
 * ```
 */
export function formatSelector(selector: string | Readonly<Record<string, string>> | undefined): string | undefined {
  if (selector === undefined) return undefined;
  const text = typeof selector === 'string' ? selector.trim() : Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
  return text === '' ? undefined : text;
}

function globMatcher(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((p) => !/[*?]/.test(p)));
  const globs = patterns.filter((p) => /[*?]/.test(p)).map((p) => new RegExp(`^${p.replace(/-/g, '\\-').replace(/\*/g, '.*').replace(/\?/g, '.')}$`));
  return (name) => exact.has(name) || globs.some((g) => g.test(name));
}
