/**
 * One `npm test` runs every level. Names tell the level (see CONTRIBUTING.md):
 *   *.spec.ts       unit, next to the code, no I/O
 *   *.int-spec.ts   real PostgreSQL / Redis / processes, own schema + key prefix per run
 *   *.e2e-spec.ts   HTTP against the booted app
 * The integration and e2e levels share one PostgreSQL and one Redis, resolved
 * (or started) for the run by test/setup/global-setup.ts.
 * SWC compiles TypeScript (with decorator metadata, which Nest DI needs) so the
 * suite does not pay for a full type-check; `npm run typecheck` does that.
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];
const moduleNameMapper = {
  '^@app/event-store$': '<rootDir>/libs/event-store/src/index.ts',
  '^@app/event-store/(tools|testing)$': '<rootDir>/libs/event-store/src/$1/index.ts',
  '^@app/event-store/migrations$': '<rootDir>/libs/event-store/src/migrations.ts',
  '^@app/stampede-cache$': '<rootDir>/libs/stampede-cache/src/index.ts',
  '^@app/stampede-cache/testing$': '<rootDir>/libs/stampede-cache/src/testing/index.ts',
};
// @fastify/static (Swagger UI on Fastify) requires an ES module, which Node 20 loads and Jest's CommonJS runtime
// does not: SWC compiles that one package to CommonJS.
const ESM_DEPENDENCY = '/node_modules/@fastify/static/node_modules/content-disposition/';
const common = {
  transform: { '^.+\\.ts$': swc, [`${ESM_DEPENDENCY}.+\\.js$`]: swc },
  transformIgnorePatterns: [`^(?!.*${ESM_DEPENDENCY}).*/node_modules/`],
  moduleNameMapper,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
};
const services = { globalSetup: '<rootDir>/test/setup/global-setup.ts', globalTeardown: '<rootDir>/test/setup/global-teardown.ts' };

module.exports = {
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,bench,test}/**/*.spec.ts'] },
    { ...common, ...services, displayName: 'integration', testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'] },
    { ...common, ...services, displayName: 'e2e', testMatch: ['<rootDir>/apps/**/test/**/*.e2e-spec.ts'] },
  ],
};
