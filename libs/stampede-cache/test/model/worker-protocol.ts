import type { CircuitState } from '../../src/redis/circuit-breaker';
import type { Key, ReadRequest, Value } from './cache-calls';

/** Messages from the test to the cache worker process. */
export type ToWorker =
  | { t: 'open'; id: number; command: string; subscriber: string; namespace: string; clockOffsetMs: number }
  | { t: 'read'; id: number; request: ReadRequest }
  | { t: 'invalidate'; id: number; key?: Key; tags?: string[] }
  | { t: 'factory-result'; id: number; value?: Value; error?: string }
  | { t: 'state'; id: number }
  | { t: 'stall'; id: number; ms: number }
  | { t: 'close'; id: number };

/** Messages from the cache worker process to the test. */
export type ToParent =
  | { t: 'ready' }
  | { t: 'reply'; id: number; value: unknown }
  | { t: 'factory'; id: number; read: number; circuitAtRead: CircuitState; circuitAtStart: CircuitState }
  | { t: 'aborted'; id: number };

/** What an instance reports about itself. */
export interface InstanceState {
  listening: boolean;
  circuit: CircuitState;
  pending: number;
}
