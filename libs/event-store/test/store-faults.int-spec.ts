import { runScenario, type ScenarioPlan } from './fault-harness/scenario';
import { FAULT_NAMES } from './fault-harness/faults';

/**
 * The CI set: fixed seeds and fixed faults, so every fault kind runs on every
 * CI run and a failure replays with its seed. More random scenarios:
 * `FAULT_SCENARIOS=<n>` (seeds from `FAULT_SEED`, default 1, upwards, each
 * drawing 2 or 3 faults); `FAULT_SEED=<s> FAULT_SCENARIOS=1` replays one.
 */
const CI_SET: ScenarioPlan[] = [
  { seed: 101, faults: ['freeze-a', 'cancel'] },
  { seed: 102, faults: ['kill-b', 'statement-timeout'] },
  { seed: 103, faults: ['cut-a', 'terminate'] },
  { seed: 104, faults: ['trap-append', 'trap-notify', 'kill-b'] },
  { seed: 105, faults: ['freeze-holder', 'cancel'] },
  { seed: 106, faults: ['import-collide', 'cut-a'] },
];

function plans(): ScenarioPlan[] {
  const count = Number(process.env.FAULT_SCENARIOS ?? 0);
  if (!count) return CI_SET;
  const first = Number(process.env.FAULT_SEED ?? 1);
  return Array.from({ length: count }, (_, i) => ({ seed: first + i }));
}

/**
 * The store keeps its promises under faults: concurrent single appends,
 * `appendToStreams` batches and a bulk import on two instances behind TCP
 * proxies, projections running, while links freeze and get cut, statements
 * are cancelled or time out and an instance is killed and restarted. See
 * docs/operations.md, "The fault harness", for the invariants.
 */
describe('the event store under faults', () => {
  it('knows every fault the plans name', () => {
    for (const plan of CI_SET) for (const fault of plan.faults ?? []) expect(FAULT_NAMES).toContain(fault);
  });

  it.each(plans().map((p) => [p.seed, p] as const))(
    'scenario seed %i keeps every invariant',
    async (_seed, plan) => {
      const report = await runScenario(plan);
      process.stdout.write(`fault scenario ${JSON.stringify(report)}\n`);
      expect(report.violations).toEqual([]);
    },
    120_000,
  );
});
