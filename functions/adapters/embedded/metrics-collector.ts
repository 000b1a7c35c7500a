import type { MetricDimensions, MetricName, Metrics } from '../../ports/metrics.ts';

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
