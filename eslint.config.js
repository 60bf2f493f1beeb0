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
);
