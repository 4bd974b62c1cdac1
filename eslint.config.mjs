// Lint rules that keep the lib boundaries of STYLE.md: import a lib through its index only;
// kafkajs only inside libs/kafka; pg/mssql for legacy tables only inside libs/legacy-db.
import tseslint from 'typescript-eslint';

const deepImports = { group: ['@sync/*/*'], message: 'Import the lib through its index (@sync/<lib>), never a deep path.' };
const kafkajs = { group: ['kafkajs'], message: 'Only libs/kafka imports kafkajs; use @sync/kafka.' };
const legacyDrivers = { group: ['pg', 'mssql'], message: 'Only libs/legacy-db imports pg/mssql for legacy tables; use @sync/legacy-db.' };
// libs/legacy-db is cut by dialect (docs/architecture.md): core/ knows no dialect, no dialect folder imports another.
const toDialect = (name) => ({ regex: `^\\.\\.?/${name}/`, message: `Only the dialect registry (libs/legacy-db/src/dialects.ts) imports a dialect folder (${name}/).` });
// A lib's internals are reached by relative path from test/ only (the public API is its index).
const libInternalsFromOutside = { regex: '(^|/)libs/', message: 'Import a lib through its index (@sync/<lib>); reaching into libs/<lib>/src by path is for tests only.' };
const otherLibInternals = { regex: '^(\\.\\./){2,}[^/]+/src/', message: "Import another lib through its index (@sync/<lib>), not its src/ by path." };
const toRegistry = { regex: '^\\.\\.?/dialects$', message: 'core/ and the dialect folders must not import the dialect registry.' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.run/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [deepImports, kafkajs, legacyDrivers, libInternalsFromOutside, otherLibInternals] }],
    },
  },
  { files: ['libs/kafka/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [deepImports, legacyDrivers, otherLibInternals] }] } },
  { files: ['libs/legacy-db/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [deepImports, kafkajs, otherLibInternals] }] } },
  { files: ['libs/legacy-db/src/core/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [deepImports, kafkajs, legacyDrivers, otherLibInternals, toDialect('postgres'), toDialect('mssql'), toRegistry] }] } },
  { files: ['libs/legacy-db/src/postgres/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [deepImports, kafkajs, otherLibInternals, toDialect('mssql'), toRegistry] }] } },
  { files: ['libs/legacy-db/src/mssql/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [deepImports, kafkajs, otherLibInternals, toDialect('postgres'), toRegistry] }] } },
  // Tests and benchmarks may talk to PostgreSQL directly to set up and check legacy tables.
  {
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [deepImports, kafkajs] }],
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
    },
  },
  // Scripts may talk to PostgreSQL like tests, but reach a lib only through its index.
  { files: ['scripts/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [deepImports, kafkajs, libInternalsFromOutside] }] } },
);
