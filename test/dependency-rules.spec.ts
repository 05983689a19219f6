import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Runs the architecture rules in .dependency-cruiser.js. dependency-cruiser 17
 * is ESM-only, which Jest's CommonJS runtime cannot import without
 * --experimental-vm-modules, so the CLI runs in a child process and reports JSON.
 */
const ROOT = join(__dirname, '..');
const CONFIG = join(ROOT, '.dependency-cruiser.js');
/** Everything that imports a library: the app, the libraries, the suite's support and specs, the benchmarks. */
const CRUISED = ['apps', 'libs', 'test', 'bench'];
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}
interface CruiseResult {
  modules: { source: string; dependencies: { module: string; couldNotResolve: boolean }[] }[];
  summary: { violations: Violation[]; totalCruised: number };
}

function cruise(cwd: string): CruiseResult {
  const run = spawnSync(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'json', ...CRUISED], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!run.stdout) throw new Error(`depcruise produced no output (exit ${run.status}):\n${run.stderr}`);
  return JSON.parse(run.stdout) as CruiseResult;
}

/** `rule: from -> to`, a package named from its node_modules folder wherever that folder is (the fixture links the real one). */
const describeViolation = (v: Violation) => `${v.rule.name}: ${v.from} -> ${v.to.replace(/^.*?node_modules\//, 'node_modules/')}`;

describe('dependency rules (.dependency-cruiser.js)', () => {
  it('holds for apps/, libs/, test/ and bench/', () => {
    const result = cruise(ROOT);

    expect(result.summary.violations.map(describeViolation)).toEqual([]);
    // Not vacuous: the tsconfig path aliases resolved, so the public-API rules saw real targets.
    const aliasImports = result.modules.flatMap((m) => m.dependencies).filter((d) => d.module.startsWith('@app/'));
    expect(aliasImports.length).toBeGreaterThan(0);
    expect(aliasImports.filter((d) => d.couldNotResolve).map((d) => d.module)).toEqual([]);
  });

  describe('on a fixture that breaks each rule once', () => {
    let fixture: string;
    const write = (path: string, source: string) => {
      mkdirSync(dirname(join(fixture, path)), { recursive: true });
      writeFileSync(join(fixture, path), source);
    };

    beforeAll(() => {
      fixture = mkdtempSync(join(tmpdir(), 'dependency-rules-'));
      copyFileSync(join(ROOT, 'tsconfig.json'), join(fixture, 'tsconfig.json'));
      // The real packages, so an import of typeorm resolves to node_modules/typeorm as in the repository.
      symlinkSync(join(ROOT, 'node_modules'), join(fixture, 'node_modules'), 'dir');
      write('libs/event-store/src/index.ts', 'export const store = 1;\n');
      write('libs/event-store/src/tools/index.ts', 'export const tool = 1;\n');
      write('libs/event-store/src/migrations.ts', 'export const schemaOf = 1;\n');
      write('libs/event-store/src/internal.ts', 'export const internal = 1;\n');
      write(
        'libs/event-store/src/testing/helper.ts',
        "export { eventually } from '../../../../test/eventually';\nexport const helper = 1;\n",
      );
      write('libs/event-store/src/testing/index.ts', "export { helper } from './helper';\n");
      write('test/eventually.ts', 'export const eventually = 1;\n');
      write('libs/event-store/src/uses-test-support.ts', "export { eventually } from '../../../test/eventually';\n");
      write('libs/event-store/src/uses-app.ts', "export { thing } from '../../../apps/api/src/thing';\n");
      write('libs/event-store/src/uses-cache.ts', "export { cache } from '@app/stampede-cache';\n");
      write('libs/stampede-cache/src/index.ts', 'export const cache = 1;\n');
      write('libs/stampede-cache/src/internal.ts', 'export const internal = 1;\n');
      write('libs/stampede-cache/src/testing/index.ts', 'export const harness = 1;\n');
      write('libs/stampede-cache/src/uses-store.ts', "export { store } from '@app/event-store';\n");
      write('libs/stampede-cache/src/cycle-a.ts', "import { b } from './cycle-b';\nexport const a = () => b;\n");
      write('libs/stampede-cache/src/cycle-b.ts', "import { a } from './cycle-a';\nexport const b = () => a;\n");
      write('apps/api/src/type-cycle-a.ts', "import type { B } from './type-cycle-b';\nexport const a = (x: B) => x;\n");
      write('apps/api/src/type-cycle-b.ts', "import { a } from './type-cycle-a';\nexport type B = number;\nexport const b = a;\n");
      write(
        'apps/api/src/thing.ts',
        "export { store as thing } from '@app/event-store';\nexport { tool } from '@app/event-store/tools';\n",
      );
      write('apps/api/src/uses-internal.ts', "export { internal } from '../../../libs/event-store/src/internal';\n");
      write('apps/api/src/uses-testing.ts', "export { helper } from '@app/event-store/testing';\n");
      write('apps/api/src/uses-typeorm.ts', "export { DataSource } from 'typeorm';\n");
      write(
        'apps/api/src/migrations/1-ok.ts',
        "export type { MigrationInterface } from 'typeorm';\nexport { schemaOf } from '@app/event-store/migrations';\n",
      );
      write('apps/api/test/test-app.ts', "export { helper } from '../../../libs/event-store/src/testing/helper';\n");
      write(
        'apps/api/test/ok.e2e-spec.ts',
        "export { store } from '@app/event-store';\nexport { helper } from '@app/event-store/testing';\nexport { harness } from '@app/stampede-cache/testing';\n",
      );
      write('test/deep.spec.ts', "export { internal } from '../libs/event-store/src/internal';\n");
      write(
        'bench/deep.bench.ts',
        "export { internal } from '../libs/stampede-cache/src/internal';\nexport { helper } from '@app/event-store/testing';\n",
      );
    });

    afterAll(() => rmSync(fixture, { recursive: true, force: true }));

    it('reports exactly the broken imports, and allows public entries, test helpers in tests and benches, and migrations on TypeORM', () => {
      const found = cruise(fixture).summary.violations.map(describeViolation).sort();

      expect(found).toEqual(
        [
          'libs-not-to-apps: libs/event-store/src/uses-app.ts -> apps/api/src/thing.ts',
          'event-store-not-to-stampede-cache: libs/event-store/src/uses-cache.ts -> libs/stampede-cache/src/index.ts',
          'stampede-cache-not-to-event-store: libs/stampede-cache/src/uses-store.ts -> libs/event-store/src/index.ts',
          // A cycle is reported once, at the first edge found; a type-only one too.
          'no-circular: libs/stampede-cache/src/cycle-a.ts -> libs/stampede-cache/src/cycle-b.ts',
          'no-circular: apps/api/src/type-cycle-a.ts -> apps/api/src/type-cycle-b.ts',
          'public-entries-only: apps/api/src/uses-internal.ts -> libs/event-store/src/internal.ts',
          'public-entries-only: apps/api/test/test-app.ts -> libs/event-store/src/testing/helper.ts',
          'public-entries-only: test/deep.spec.ts -> libs/event-store/src/internal.ts',
          'public-entries-only: bench/deep.bench.ts -> libs/stampede-cache/src/internal.ts',
          'testing-entries-only-in-tests: apps/api/src/uses-testing.ts -> libs/event-store/src/testing/index.ts',
          'production-not-to-test-support: libs/event-store/src/uses-test-support.ts -> test/eventually.ts',
          'app-without-typeorm: apps/api/src/uses-typeorm.ts -> node_modules/typeorm/index.js',
        ].sort(),
      );
    });
  });
});
