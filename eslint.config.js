// Lint: typescript-eslint's type-aware recommended rules on every TypeScript source; `any` is an
// error in public code (see STYLE.md), allowed only in the one wrapper around the native binding.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'native/**/target/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // node:test registers tests and suites by calling them; their promises are the runner's to await.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
      // `async` on a method that implements a Promise-returning interface turns a throw into a
      // rejection even when the body awaits nothing; that is why it is there.
      '@typescript-eslint/require-await': 'off',
      // Passing on an error of unknown type (a caught one, a rejection forwarded) is fine; creating
      // a non-Error value to throw or reject with is not.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
);
