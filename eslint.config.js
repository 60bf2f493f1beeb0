// Lint rules. The layer rule (lower layers never import higher ones) is enforced by
// dependency-cruiser (.dependency-cruiser.cjs), which sees whole import graphs.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'docs/api/**', '.dependency-cruiser.cjs', '**/.cache/**', 'bench/results/**', 'chaos/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', Buffer: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly', performance: 'readonly', setImmediate: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    // Command-line tools and tests talk to a terminal on purpose.
    files: ['controlplane/**', 'src/cli/**', 'scripts/**', 'bench/**', 'chaos/**', 'test/**', 'examples/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // An ES import of node:http reads every export, and its lazy ones load http2, zlib, perf_hooks
    // and undici: about 8 MiB of resident memory in every operator (docs/performance.md).
    files: ['src/**', 'operators/**'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['node:http', 'http'].map((name) => ({
            name,
            allowTypeImports: true,
            message: "use process.getBuiltinModule('node:http'): an ES import of node:http also loads http2 and undici (about 8 MiB resident); type imports are fine",
          })),
        },
      ],
    },
  },
);
