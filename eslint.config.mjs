// @ts-check
/**
 * ESLint for the whole repository (`npm run lint`, zero warnings; CONTRIBUTING.md
 * explains the choices). Type-aware: typescript-eslint reads tsconfig.json, so
 * apps/, libs/, bench/ and test/ are linted with the types the compiler sees.
 * eslint-config-prettier comes last so no style rule argues with Prettier.
 */
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Everything that only runs under Jest: specs, the suite's set-up and helpers, and test doubles. */
const TEST_FILES = ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'apps/*/test/**', 'libs/*/test/**', 'test/**'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.data/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A leading underscore marks a parameter or binding kept on purpose (a signature to match, a field dropped by a rest spread).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // CONTRIBUTING.md: files of 30-250 lines; a longer source file is usually two things. Tests may run longer.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: TEST_FILES,
    rules: { 'max-lines': ['error', { max: 250, skipBlankLines: false, skipComments: false }] },
  },
  {
    files: TEST_FILES,
    rules: {
      // Tests read untyped data on purpose (supertest's `res.body: any`, raw SQL rows) and check its shape with `expect`:
      // casting it to a type first would only hide what the assertion is there to check.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // ...and say so: a JSON body the test has not checked yet is honestly `any`.
      '@typescript-eslint/no-explicit-any': 'off',
      // Fakes and factories implement async contracts (`factory: () => Promise<T>`) with values they already have.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Implements the async CacheStore contract in memory: `async` turns a throw into a rejection, as with the Redis store.
    files: ['libs/stampede-cache/src/stores/memory.store.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // Plain CommonJS config and CI scripts: outside tsconfig.json, so no type-aware rules.
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  prettier,
);
