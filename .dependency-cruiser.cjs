// Import boundaries between rooms (docs/architecture.md), checked by test/unit/lint/import-graph.test.ts
// and drawn by `npm run -s graph`. eslint (eslint.config.mjs) already keeps libs behind their index
// and kafkajs / pg / mssql in their libs; these rules are the ones it cannot express.
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
