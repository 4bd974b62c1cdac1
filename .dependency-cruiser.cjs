// Import boundaries between rooms (docs/architecture.md), checked by test/unit/lint/import-graph.test.ts
// and drawn by `npm run -s graph`. eslint (eslint.config.mjs) keeps libs behind their index, kafkajs /
// pg / mssql in their libs, and flags a relative import of another dialect folder as it is typed;
// these rules work on resolved paths: app → app and lib → app (which eslint does not check), and
// dialect → dialect however the path is spelled (from a subfolder, or through ../../src/...).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-app-to-app',
      comment: 'Apps deploy separately: code two apps share belongs in a lib both import.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'no-lib-to-app',
      comment: 'Libs serve apps, never the other way round.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'no-dialect-to-dialect',
      comment: 'Each dialect of libs/legacy-db is one folder; what two dialects share lives in core/.',
      severity: 'error',
      from: { path: '^libs/legacy-db/src/(postgres|mssql)/' },
      to: { path: '^libs/legacy-db/src/(postgres|mssql)/', pathNot: '^libs/legacy-db/src/$1/' },
    },
  ],
  options: {
    // Only the project's own modules: npm packages and node: built-ins are not rooms.
    includeOnly: '^(apps|libs|test|scripts|examples)/',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.json'] },
  },
};
