import type { Registry } from 'prom-client';

/** The value of one counter series (or a histogram's `_count`), 0 when absent. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`metric ${name} is not registered`);
  const { values } = await metric.get();
  const matches = values.filter(
    (sample) =>
      (!('metricName' in sample) ||
        sample.metricName === undefined ||
        sample.metricName === name ||
        sample.metricName === `${name}_count`) &&
      Object.entries(labels).every(([label, value]) => sample.labels[label] === value),
  );
  const counts = matches.filter((sample) => (sample as { metricName?: string }).metricName === `${name}_count`);
  return (counts.length ? counts : matches).reduce((sum, sample) => sum + sample.value, 0);
}
