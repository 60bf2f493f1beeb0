// The architecture, enforced: a layer may import the layers listed before it, never after.
// `npm run lint` fails on an upward import. Keep this list in step with docs/architecture.md.
const layers = ['base', 'client', 'schema', 'watch', 'engine', 'state', 'admission', 'handlers', 'kits', 'lifecycle', 'sharding', 'manifests', 'server', 'runtime', 'cluster', 'testing', 'cli'];

const upward = layers.map((layer, i) => ({
  name: `no-upward-from-${layer}`,
  comment: `src/${layer} sits below ${layers.slice(i + 1).join(', ')}: it must not import them.`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${layers.slice(i + 1).join('|') || '$^'})/|^src/index\\.ts$` },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'defaults-is-a-leaf',
      comment: 'src/defaults.ts is read by every layer, so it imports nothing of Operon.',
      severity: 'error',
      from: { path: '^src/defaults\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'library-stays-inside-src',
      comment: 'The framework never depends on its users, tests or tooling.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(operators|examples|test|bench|controlplane)/' },
    },
    {
      name: 'no-framework-means-no-framework',
      comment: 'The teaching contrast uses only the Kubernetes client library.',
      severity: 'error',
      from: { path: '^examples/printer-no-framework/' },
      to: { path: '^(src|operators)/' },
    },
    {
      name: 'operators-use-the-public-api',
      comment: 'Reference operators and examples use only the public entries, `operon-k8s` and `operon-k8s/testing`, not internals.',
      severity: 'error',
      from: { path: '^(operators|examples)/' },
      to: { path: '^src/(?!index\\.ts$|testing/index\\.ts$)' },
    },
    {
      name: 'operators-import-by-package-name',
      comment: "Reference operators and examples import `operon-k8s` by name, exactly as a user's code does, not by a relative path into src/.",
      severity: 'error',
      from: { path: '^(operators|examples)/' },
      to: { path: '^src/', dependencyTypes: ['local'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // `operon-k8s` (the package's own name, used by operators and examples as by users) resolves
    // through package.json `exports` under the `operon-source` condition, to src/, as in Node
    // and tsc (docs/development.md). Unresolved, the rules below could not see those imports.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['operon-source', 'import', 'types', 'node', 'default'],
    },
    exclude: { path: '(^|/)\\.cache/' },
  },
};
