// Strict from the first commit: floating promises lose acks, non-exhaustive
// switches miss message kinds, `any` and `!` hide bugs. Module boundaries keep
// the pure core pure and the services independent.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/*.js', '**/*.mjs', 'bench/results/**', '.weft/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // A library has one entry point, plus `@weft/<lib>/testing` (test suites and fixtures, never production).
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@weft/*/*', '!@weft/*/testing', '@weft/*/testing/*'], message: 'Import a library only through its entry point (or @weft/<lib>/testing in tests).' }] },
      ],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          enforceBuildableLibDependency: false,
          depConstraints: [
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:core', onlyDependOnLibsWithTags: ['type:contracts'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:core', 'type:contracts', 'type:lib'] },
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:core', 'type:contracts', 'type:lib'] },
            { sourceTag: 'type:sdk', onlyDependOnLibsWithTags: ['type:core', 'type:contracts', 'type:lib'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:core', 'type:contracts', 'type:lib', 'type:sdk', 'type:service'] },
            { sourceTag: 'type:bench', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
    },
  },
  {
    // Production code never reaches for test helpers: @weft/<lib>/testing is for specs, testing/ folders and test/.
    files: ['libs/*/src/**/*.ts', 'services/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/testing/**', '**/__fixtures__/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@weft/*/*'], message: 'Production code imports a library only through its entry point; @weft/<lib>/testing is for tests.' }] }],
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
