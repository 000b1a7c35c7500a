import type {
  LatencyDimensions,
  LatencyMetricName,
  MetricDimensions,
  MetricName,
  Metrics,
} from '../../ports/metrics.ts';

/** One counter with its dimensions. */
export interface MetricPoint {
  readonly name: MetricName;
  readonly dimensions: MetricDimensions;
  readonly value: number;
}

function id(name: MetricName, d: MetricDimensions | undefined): string {
  return `${name}|${d?.layer ?? ''}|${d?.pattern ?? ''}|${d?.window ?? ''}|${d?.consumer ?? ''}`;
}

/** `Metrics` summed in memory (embedded runs, tests). */
export class MetricsCollector implements Metrics {
  private readonly points = new Map<
    string,
    { name: MetricName; dimensions: MetricDimensions; value: number }
  >();

  count(name: MetricName, value: number, dimensions?: MetricDimensions): void {
    const k = id(name, dimensions);
    const p = this.points.get(k);
    if (p === undefined) this.points.set(k, { name, dimensions: { ...dimensions }, value });
    else p.value += value;
  }

  private readonly latencies = new Map<string, number[]>();

  latency(name: LatencyMetricName, valuesMs: readonly number[], dimensions: LatencyDimensions): void {
    const k = `${name}|${dimensions.consumer}`;
    const list = this.latencies.get(k);
    if (list === undefined) this.latencies.set(k, [...valuesMs]);
    else for (const v of valuesMs) list.push(v);
  }

  /** Every latency recorded for `name` by `consumer`, in recording order. */
  latencyValues(name: LatencyMetricName, consumer: string): readonly number[] {
    return this.latencies.get(`${name}|${consumer}`) ?? [];
  }

  /** The counter with exactly these dimensions (0 when never counted). */
  get(name: MetricName, dimensions?: MetricDimensions): number {
    return this.points.get(id(name, dimensions))?.value ?? 0;
  }

  /** Sum of a metric over all its dimension values. */
  total(name: MetricName): number {
    let n = 0;
    for (const p of this.points.values()) if (p.name === name) n += p.value;
    return n;
  }

  snapshot(): MetricPoint[] {
    return [...this.points.values()].map((p) => ({ ...p }));
  }
}
