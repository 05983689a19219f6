import { collectDefaultMetrics, Registry } from 'prom-client';

/** Injection token of the app's prom-client Registry (one per app instance, not the global one). */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** A fresh registry with Node process metrics; the cache registers its counters in it too. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
