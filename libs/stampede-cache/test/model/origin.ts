import type { CircuitState } from '../../src/redis/circuit-breaker';
import { HARD_TIMEOUT_MS, KEYS, type FactoryKind, type FactoryStart, type Key, type Value } from './cache-calls';
import type { FaultHistory } from './fault-history';

/** One factory run: which instance, for which read, and what the breaker said when the read and the run started. */
interface Run {
  instance: number;
  name: string;
  key: Key;
  readStartedAt: number;
  startedAt: number;
  circuitAtRead: CircuitState;
  circuitAtStart: CircuitState;
}

/** A run may outlive its call by a little after the hard timeout (abort is asynchronous): such runs are not counted. */
const ABANDON_MARGIN_MS = 500;

/**
 * The origin (the database behind the cache): a version per key, changed by the model, and
 * every factory run against it, which the test can hold (slow) and fail. It also checks
 * single flight, the half of the promise that reads alone cannot show: no run of a key may
 * start while another instance certainly holds the key's lock (see {@link FaultHistory}),
 * unless the starting instance's breaker was open (computing without the lock is allowed
 * only when Redis was known to be unreachable before the call), nor while another run of
 * the key is going on in the same instance, unless an invalidation superseded that run (the
 * library then lets the next computation start at once instead of waiting for a useless one).
 */
export class Origin {
  readonly versions = Object.fromEntries(KEYS.map((key) => [key, 0])) as Record<Key, number>;
  private readonly negative = Object.fromEntries(KEYS.map((key) => [key, false])) as Record<Key, boolean>;
  private readonly runs = new Set<Run>();
  /** When each key last changed (its invalidation follows at once): runs started before are superseded. */
  private readonly changedAt = Object.fromEntries(KEYS.map((key) => [key, 0])) as Record<Key, number>;
  private gates: Array<(ok: boolean) => void> = [];
  private released = false;
  runCount = 0;

  constructor(
    private readonly history: FaultHistory,
    private readonly violations: string[],
  ) {}

  /** The data changes: a new version (possibly "deleted", a negative result). */
  change(key: Key, negative: boolean): number {
    this.negative[key] = negative;
    this.changedAt[key] = Date.now();
    return (this.versions[key] += 1);
  }

  /** The factory of one read on `instance`; `kind` decides whether it answers at once, waits for the test, or fails. */
  factory(instance: number, name: string, key: Key, kind: FactoryKind, readStartedAt: number): (start: FactoryStart) => Promise<Value> {
    return async ({ circuitAtRead, circuitAtStart, signal }) => {
      const run: Run = { instance, name, key, readStartedAt, startedAt: Date.now(), circuitAtRead, circuitAtStart };
      this.checkSingleFlight(run);
      this.runCount += 1;
      this.runs.add(run);
      const end = () => this.runs.delete(run);
      signal.addEventListener('abort', end); // the cache gave up on it at its hard timeout: the lock may go to another
      // The origin is read when the run starts, as a query would; a slow run answers that version later.
      const value: Value = { key, version: this.versions[key] ?? 0, negative: this.negative[key] ?? false, by: instance };
      try {
        if (kind === 'fail') throw new Error('origin failed');
        if (kind === 'slow' && !this.released && !(await new Promise<boolean>((open) => this.gates.push(open)))) {
          throw new Error('origin failed after a while');
        }
        return value;
      } finally {
        end();
      }
    };
  }

  /** Whether a factory of `key` runs on `instance` now. */
  running(instance: number, key: Key): boolean {
    return [...this.runs].some((run) => run.instance === instance && run.key === key);
  }

  /** Lets the `count` oldest slow runs answer (or fail). */
  finish(count: number, ok: boolean): void {
    for (const open of this.gates.splice(0, count)) open(ok);
  }

  /** End of a run: every slow run answers now, and later ones at once. */
  releaseAll(): void {
    this.released = true;
    this.finish(this.gates.length, true);
  }

  private checkSingleFlight(run: Run): void {
    for (const other of this.runs) {
      if (other.key !== run.key || run.startedAt - other.startedAt > HARD_TIMEOUT_MS - ABANDON_MARGIN_MS) continue;
      // An invalidation since `other` started superseded it (its result will not be cached): nobody need wait for it.
      if (this.changedAt[run.key] >= other.startedAt) continue;
      if (other.instance === run.instance) {
        this.violations.push(`two runs of ${run.key} at once on ${run.name}`);
        continue;
      }
      const otherHolds =
        other.circuitAtRead === 'closed' &&
        other.circuitAtStart === 'closed' &&
        this.history.lockSurelyHeld(other.instance, run.key, other.readStartedAt);
      const mustHaveWaited =
        run.circuitAtRead === 'closed' && run.circuitAtStart === 'closed' && this.history.steadySince(run.instance, run.readStartedAt);
      if (otherHolds && mustHaveWaited) {
        this.violations.push(
          `${run.name} ran the factory of ${run.key} while ${other.name} held its lock (breaker closed, nothing changed on ${run.name} since its read began)`,
        );
      }
    }
  }
}
