/**
 * Architecture rules, checked by test/dependency-rules.spec.ts on every unit
 * run (or by hand: `npx depcruise apps libs`). See CONTRIBUTING.md: the libs
 * never import the app, the two libs do not import each other (they meet in
 * the app), and the app uses each lib only through its public index.ts.
 */
/** Spec files and the app's e2e support folder: allowed to use libs' testing helpers. */
const TEST_FILES = '(\\.(spec|int-spec|e2e-spec)\\.ts$)|(^apps/[^/]+/test/)';
/** A library's public entries for production code: the root, operator tooling, what app migrations need. */
const PRODUCTION_ENTRIES = ['^libs/[^/]+/src/index\\.ts$', '^libs/[^/]+/src/tools/index\\.ts$', '^libs/[^/]+/src/migrations\\.ts$'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'libs-not-to-apps',
      comment: 'A library is reusable only if it knows nothing of the application that uses it.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'event-store-not-to-stampede-cache',
      comment: 'The event store and the cache are independent; they meet in the app.',
      severity: 'error',
      from: { path: '^libs/event-store/' },
      to: { path: '^libs/stampede-cache/' },
    },
    {
      name: 'stampede-cache-not-to-event-store',
      comment: 'The cache and the event store are independent; they meet in the app.',
      severity: 'error',
      from: { path: '^libs/stampede-cache/' },
      to: { path: '^libs/event-store/' },
    },
    {
      name: 'no-circular-in-libs',
      comment:
        'A runtime cycle inside a library makes load order decide whether an import is still undefined. ' +
        'Cycles closed only by `import type` are erased by the compiler and are allowed.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'app-uses-lib-public-api',
      comment:
        'Import @app/<lib> (or its /tools, /migrations entry), not @app/<lib>/<file>: anything not exported from an entry is private.',
      severity: 'error',
      from: { path: '^apps/', pathNot: TEST_FILES },
      to: { path: '^libs/[^/]+/', pathNot: PRODUCTION_ENTRIES },
    },
    {
      name: 'production-not-to-test-support',
      comment: "test/ holds the suite's set-up and helpers (eventually, test services): only tests and test helpers use them.",
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: [TEST_FILES, '^libs/[^/]+/test/', '^libs/[^/]+/src/testing/'] },
      to: { path: '^test/' },
    },
    {
      name: 'app-tests-use-lib-public-api-or-testing',
      comment: "Tests may also use a lib's test helpers (libs/<lib>/src/testing/ or libs/<lib>/test/), but no other internals.",
      severity: 'error',
      from: { path: TEST_FILES, pathNot: '^libs/' },
      to: { path: '^libs/[^/]+/', pathNot: [...PRODUCTION_ENTRIES, '^libs/[^/]+/src/testing/', '^libs/[^/]+/test/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|coverage)/' },
    // Type-only imports count too: a boundary crossed only by types is still crossed.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
