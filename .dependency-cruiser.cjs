// The architecture, enforced: a layer may import the layers listed before it, never after.
// `npm run lint` fails on an upward import. Keep this list in step with docs/architecture.md.
const layers = ['base', 'client', 'schema', 'watch', 'engine', 'state', 'admission', 'handlers', 'kits', 'server', 'runtime', 'testing', 'cli'];

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
      comment: 'Reference operators import `operon` as users do, not its internals.',
      severity: 'error',
      from: { path: '^operators/' },
      to: { path: '^src/(?!index\\.ts$|testing/index\\.ts$)' },
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
    exclude: { path: '(^|/)\\.cache/' },
  },
};
