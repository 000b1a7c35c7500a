import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRIC_NAMESPACE, METRIC_SERVICE } from '../../lib/observability/metric-contract.ts';
import type {
  LatencyDimensions,
  LatencyMetricName,
  MetricDimensions,
  MetricName,
  Metrics as MetricsPort,
} from '../ports/metrics.ts';

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
 * Values an EMF document may hold for one metric (the EMF specification's limit, and Powertools',
 * which publishes a document by itself when a metric reaches it).
 */
export const EMF_MAX_VALUES = 100;

/**
 * At most `max` values that stand for `values`: all of them when they fit, else the order
 * statistics at the middle of `max` equal-count slices of the sorted values (so the minimum-ish,
 * the median and the tail keep their place; p99 of 100 values is the top slice's value).
 */
export function representativeValues(values: readonly number[], max = EMF_MAX_VALUES): number[] {
  if (values.length <= max) return [...values];
  const sorted = Float64Array.from(values).sort();
  const out: number[] = [];
  for (let i = 0; i < max; i++) out.push(sorted[Math.floor(((i + 0.5) * sorted.length) / max)]!);
  // The maximum is what an alarm on the tail must not lose: it replaces the top slice's middle.
  out[max - 1] = sorted[sorted.length - 1]!;
  return out;
}

/** An EMF document as JSON (the CloudWatch embedded metric format: `_aws` plus the values). */
export type EmfJson = Record<string, unknown>;

/** One EMF document of one metric, exactly as Powertools writes it (for `emit`). */
export function emfDocument(
  name: string,
  unit: string,
  dimensions: Readonly<Record<string, string>>,
  value: number | readonly number[],
  timestamp = Date.now(),
): EmfJson {
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [['service', ...Object.keys(dimensions)]],
          Metrics: [{ Name: name, Unit: unit }],
        },
      ],
    },
    service: METRIC_SERVICE,
    ...dimensions,
    [name]: Array.isArray(value) && value.length === 1 ? value[0] : value,
  };
}

/** One EMF document being built (a Powertools `Metrics` that is not a single-metric one). */
export type EmfDocument = Pick<
  Metrics,
  'addDimension' | 'addMetric' | 'publishStoredMetrics' | 'hasStoredMetrics'
>;

/**
 * The stages' `Metrics` port on Powertools EMF. Counts are summed per (name, dimensions) during an
 * invocation and {@link EmfMetrics.flush}ed at its end: one EMF document per distinct dimension set
 * (a handful), not one per `count` call. `Environment` comes from TIDEWATER_ENV.
 *
 * Latencies are a distribution, not a sum: CloudWatch computes percentiles from the values a
 * metric receives. Each (latency metric, consumer) of an invocation becomes one EMF document whose
 * value is an array (unit Milliseconds) of its values, or, above {@link EMF_MAX_VALUES}, of as many
 * order statistics of them ({@link representativeValues}). So an invocation of many records counts
 * as 100 values in the percentiles: within an invocation the latencies differ by the batching
 * window at most, and a batch's weight matters less than its tail, whose maximum is always kept.
 */
export class EmfMetrics implements MetricsPort {
  private readonly sink: Metrics;
  private readonly environment: string;
  private readonly newDocument: () => EmfDocument;
  private readonly sums = new Map<string, { name: MetricName; dims: MetricDimensions; value: number }>();
  private readonly latencies = new Map<
    string,
    { name: LatencyMetricName; consumer: string; values: number[] }
  >();

  private readonly emit: ((emf: EmfJson) => void) | undefined;

  /**
   * @param newDocument where a latency document is built and published.
   *   @default a Powertools `Metrics` of the Tidewater namespace and service
   * @param options.emit where the EMF documents go instead of stdout (the local stack forwards
   *   them to the emulator's CloudWatch, as Lambda's log pipeline does). @default stdout, by Powertools
   */
  constructor(
    sink: Metrics = metrics,
    environment = process.env['TIDEWATER_ENV'] ?? 'local',
    newDocument: () => EmfDocument = () =>
      new Metrics({ namespace: METRIC_NAMESPACE, serviceName: METRIC_SERVICE }),
    options: { readonly emit?: (emf: EmfJson) => void } = {},
  ) {
    this.sink = sink;
    this.environment = environment;
    this.newDocument = newDocument;
    this.emit = options.emit;
  }

  latency(name: LatencyMetricName, valuesMs: readonly number[], dimensions: LatencyDimensions): void {
    if (valuesMs.length === 0) return;
    const id = `${name}|${dimensions.consumer}`;
    const cur = this.latencies.get(id);
    if (cur === undefined)
      this.latencies.set(id, { name, consumer: dimensions.consumer, values: [...valuesMs] });
    else for (const v of valuesMs) cur.values.push(v);
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
    const emit = this.emit;
    if (emit !== undefined) {
      try {
        for (const { name, dims, value } of this.sums.values()) {
          const d: Record<string, string> = { Environment: this.environment };
          for (const [k, v] of Object.entries(dims) as Array<[keyof MetricDimensions, string | undefined]>)
            if (v !== undefined) d[DIMENSION_NAMES[k]] = v;
          emit(emfDocument(name, MetricUnit.Count, d, value));
        }
        for (const { name, consumer, values } of this.latencies.values()) {
          const kept = representativeValues(values).map((v) => Math.max(0, v));
          emit(
            emfDocument(
              name,
              MetricUnit.Milliseconds,
              { Environment: this.environment, Consumer: consumer },
              kept,
            ),
          );
        }
      } catch (err) {
        logger.warn('metrics flush failed', { error: err as Error });
      } finally {
        this.sums.clear();
        this.latencies.clear();
      }
      return;
    }
    try {
      for (const { name, dims, value } of this.sums.values()) {
        const single = this.sink.singleMetric();
        single.addDimension('Environment', this.environment);
        for (const [k, v] of Object.entries(dims) as Array<[keyof MetricDimensions, string | undefined]>) {
          if (v !== undefined) single.addDimension(DIMENSION_NAMES[k], v);
        }
        single.addMetric(name, MetricUnit.Count, value);
      }
      for (const { name, consumer, values } of this.latencies.values()) {
        const doc = this.newDocument();
        doc.addDimension('Environment', this.environment);
        doc.addDimension('Consumer', consumer);
        // A clock skew between producer and consumer can make a latency negative: it counts as 0.
        for (const v of representativeValues(values))
          doc.addMetric(name, MetricUnit.Milliseconds, Math.max(0, v));
        if (doc.hasStoredMetrics()) doc.publishStoredMetrics();
      }
    } catch (err) {
      logger.warn('metrics flush failed', { error: err as Error });
    } finally {
      this.sums.clear();
      this.latencies.clear();
    }
  }

  /** The latencies so far (tests). */
  latencySnapshot(): Array<{ name: LatencyMetricName; consumer: string; values: number[] }> {
    return [...this.latencies.values()].map((l) => ({ ...l, values: [...l.values] }));
  }

  /** The sums so far (tests). */
  snapshot(): Array<{ name: MetricName; dims: MetricDimensions; value: number }> {
    return [...this.sums.values()].map((s) => ({ ...s }));
  }
}
