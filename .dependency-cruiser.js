/**
 * Architecture rules, checked by test/dependency-rules.spec.ts on every unit run (or by hand:
 * `npx depcruise apps libs test bench`). See CONTRIBUTING.md#dependency-rules: the libraries
 * never import the app or each other (they meet in the app); everything outside a library
 * (app, tests, benchmarks) uses it only through its public entries; only tests use the
 * `/testing` entries; the app reaches the database through the event store's own query
 * interface, never TypeORM (migrations excepted); and there are no import cycles anywhere.
 */

/** The libraries' public entries: `@app/<lib>` and its documented subpaths (tsconfig.json `paths`). */
const PUBLIC_ENTRIES = [
  '^libs/event-store/src/index\\.ts$',
  '^libs/event-store/src/tools/index\\.ts$',
  '^libs/event-store/src/testing/index\\.ts$',
  '^libs/event-store/src/migrations\\.ts$',
  '^libs/stampede-cache/src/index\\.ts$',
  '^libs/stampede-cache/src/testing/index\\.ts$',
];
/** Test helpers inside the libraries, reached from outside through `@app/<lib>/testing`. */
const LIB_TESTING = '^libs/[^/]+/src/testing/';
/** Specs, the app's e2e support folder and the suite's support (`test/`). */
const TEST_FILES = '(\\.(spec|int-spec|e2e-spec)\\.ts$)|(^apps/[^/]+/test/)|(^test/)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'libs-not-to-apps',
      comment: 'A library is reusable only if it knows nothing of the application that uses it.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^(apps|bench)/' },
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
      name: 'no-circular',
      comment:
        'No import cycles, type-only ones included: a runtime cycle lets load order decide whether an import is ' +
        'still undefined, and a type-only one means a type sits in the wrong file (two files that cannot change apart).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'public-entries-only',
      comment:
        'Outside a library (app, tests, benchmarks), import only its public entries: @app/event-store, ' +
        '@app/event-store/tools, @app/event-store/testing, @app/event-store/migrations, @app/stampede-cache, ' +
        '@app/stampede-cache/testing. Anything else is private to the library.',
      severity: 'error',
      from: { pathNot: '^libs/' },
      to: { path: '^libs/', pathNot: PUBLIC_ENTRIES },
    },
    {
      name: 'testing-entries-only-in-tests',
      comment: "A library's test helpers (`/testing`) are for specs, the e2e support and benchmarks, never production code.",
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: [TEST_FILES, LIB_TESTING, '^libs/[^/]+/test/'] },
      to: { path: LIB_TESTING },
    },
    {
      name: 'production-not-to-test-support',
      comment: "test/ holds the suite's set-up and helpers: only tests and test helpers use them.",
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: [TEST_FILES, '^libs/[^/]+/test/', LIB_TESTING] },
      to: { path: '^test/' },
    },
    {
      name: 'app-without-typeorm',
      comment:
        "The app reaches the database through the event store's own query interface (handle.db, Queryable); " +
        'TypeORM stays inside the store. Migrations may use its MigrationInterface.',
      severity: 'error',
      from: { path: '^(apps|bench|test)/', pathNot: '^apps/[^/]+/src/migrations/' },
      to: { path: '(^|/)node_modules/typeorm/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|coverage)/' },
    // Type-only imports count too: a boundary crossed only by types is still crossed.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
