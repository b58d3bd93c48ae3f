// Type-aware linting: floating promises are the classic bug of async actors.
import { builtinModules } from 'node:module'
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// The core runs in browsers too: it may not import Node built-ins or the engines' drivers.
// (tsconfig.core.json checks the same files for Node globals such as `process`.)
const coreFiles = ['index.ts', 'lib/*.ts', 'lib/listeners/**/*.ts', 'lib/testing/**/*.ts', 'lib/read/**/*.ts', 'lib/store/*.ts', 'lib/store/memory/**/*.ts', 'lib/store/kit/**/*.ts', 'lib/sync/*.ts', 'lib/sync/local/**/*.ts', 'actors/**/*.ts']
const nodeOnly = ['node:*', ...builtinModules, 'better-sqlite3', 'pg', 'rethinkdb-ts']

export default tseslint.config(
  // spec/package/consumer/ is a consumer's project, checked by its own tsc in consumer.spec.ts.
  { ignores: ['node_modules/**', '.data/**', 'dist/**', 'spec/package/consumer/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Handler methods are looked up by event name, so some are legitimately sync-but-typed.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: coreFiles,
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: nodeOnly, message: 'the core must run in browsers: Node-only code goes on its own entry point (node.ts, a subpath)' }],
      }],
    },
  },
  {
    files: ['spec/**/*.ts', 'examples/**/*.spec.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Type information for this file's nested ReQL (rethinkdb-ts's overloads: r.branch inside
    // fold inside do) grows past 4 GB under the type-aware rules, where tsc checks the whole
    // program in 0.5 GB: it is linted without types (tsc still checks it).
    files: ['lib/store/rethinkdb/storeCatalog.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The inspector page: plain browser modules, served as they are (no build step, no types).
    files: ['inspector/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      sourceType: 'module',
      parserOptions: { projectService: false, project: null },
      globals: { document: 'readonly', window: 'readonly', fetch: 'readonly', EventSource: 'readonly', URLSearchParams: 'readonly', Node: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
)
