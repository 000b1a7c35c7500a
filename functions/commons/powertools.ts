import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRIC_NAMESPACE, METRIC_SERVICE } from '../../lib/observability/metric-contract.ts';
import type { MetricDimensions, MetricName, Metrics as MetricsPort } from '../ports/metrics.ts';

/**
 * Logger, metrics and tracer, built once per process (module load) and shared by every handler,
 * as in the Powertools example app. Service `tidewater` (the metric contract's fixed dimension).
 */
export const logger = new Logger({ serviceName: METRIC_SERVICE });
export const tracer = new Tracer({
  serviceName: METRIC_SERVICE,
  enabled:
    process.env['AWS_LAMBDA_FUNCTION_NAME'] !== undefined &&
    process.env['POWERTOOLS_TRACE_ENABLED'] !== 'false',
});
export const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: METRIC_SERVICE });

const DIMENSION_NAMES: Readonly<Record<keyof MetricDimensions, string>> = {
  layer: 'Layer',
  pattern: 'Pattern',
  window: 'Window',
  consumer: 'Consumer',
};

/**
 * The stages' `Metrics` port on Powertools EMF. Counts are summed per (name, dimensions) during an
 * invocation and {@link EmfMetrics.flush}ed at its end: one EMF document per distinct dimension set
 * (a handful), not one per `count` call. `Environment` comes from TIDEWATER_ENV.
 */
export class EmfMetrics implements MetricsPort {
  private readonly sink: Metrics;
  private readonly environment: string;
  private readonly sums = new Map<string, { name: MetricName; dims: MetricDimensions; value: number }>();

  constructor(sink: Metrics = metrics, environment = process.env['TIDEWATER_ENV'] ?? 'local') {
    this.sink = sink;
    this.environment = environment;
  }

  count(name: MetricName, value: number, dimensions?: MetricDimensions): void {
    const dims = dimensions ?? {};
    const id = `${name}|${dims.layer ?? ''}|${dims.pattern ?? ''}|${dims.window ?? ''}|${dims.consumer ?? ''}`;
    const cur = this.sums.get(id);
    if (cur === undefined) this.sums.set(id, { name, dims, value });
    else cur.value += value;
  }

  /** Emits the sums and resets them. Never throws: metrics never fail a batch. */
  flush(): void {
    try {
      for (const { name, dims, value } of this.sums.values()) {
        const single = this.sink.singleMetric();
        single.addDimension('Environment', this.environment);
        for (const [k, v] of Object.entries(dims) as Array<[keyof MetricDimensions, string | undefined]>) {
          if (v !== undefined) single.addDimension(DIMENSION_NAMES[k], v);
        }
        single.addMetric(name, MetricUnit.Count, value);
      }
    } catch (err) {
      logger.warn('metrics flush failed', { error: err as Error });
    } finally {
      this.sums.clear();
    }
  }

  /** The sums so far (tests). */
  snapshot(): Array<{ name: MetricName; dims: MetricDimensions; value: number }> {
    return [...this.sums.values()].map((s) => ({ ...s }));
  }
}
