import {
  type CloudWatchClient,
  type MetricDatum,
  PutMetricDataCommand,
  type StandardUnit,
} from '@aws-sdk/client-cloudwatch';

/**
 * Metrics of the local stack into the emulator's CloudWatch, as AWS would put them there: the
 * consumers' EMF documents become `PutMetricData` calls (what Lambda's log pipeline does with EMF
 * lines), and each invocation the local event source mapping makes adds the `AWS/Lambda` metrics
 * of its function (Invocations, Errors, Duration, Throttles). Calls are queued and sent in the
 * background (metrics never fail or slow a batch); {@link drain} waits for them.
 */

/** The metric data of one EMF document, by namespace (an EMF line may hold several directives). */
export function emfToMetricData(
  emf: Record<string, unknown>,
): Array<{ namespace: string; data: MetricDatum[] }> {
  const aws = emf['_aws'] as
    | {
        Timestamp?: number;
        CloudWatchMetrics?: Array<{
          Namespace: string;
          Dimensions: string[][];
          Metrics: Array<{ Name: string; Unit?: string }>;
        }>;
      }
    | undefined;
  const out: Array<{ namespace: string; data: MetricDatum[] }> = [];
  const timestamp = new Date(aws?.Timestamp ?? Date.now());
  for (const directive of aws?.CloudWatchMetrics ?? []) {
    const data: MetricDatum[] = [];
    for (const set of directive.Dimensions.length > 0 ? directive.Dimensions : [[]]) {
      const dimensions = set.map((name) => ({ Name: name, Value: String(emf[name]) }));
      for (const m of directive.Metrics) {
        const v = emf[m.Name];
        const unit = (m.Unit ?? 'None') as StandardUnit;
        if (typeof v === 'number')
          data.push({
            MetricName: m.Name,
            Dimensions: dimensions,
            Unit: unit,
            Timestamp: timestamp,
            Value: v,
          });
        else if (Array.isArray(v) && v.length > 0) {
          // Values and Counts (up to 150 distinct values per datum): percentiles need each value.
          const counts = new Map<number, number>();
          for (const x of v as number[]) counts.set(x, (counts.get(x) ?? 0) + 1);
          const entries = [...counts];
          for (let i = 0; i < entries.length; i += 150) {
            const part = entries.slice(i, i + 150);
            data.push({
              MetricName: m.Name,
              Dimensions: dimensions,
              Unit: unit,
              Timestamp: timestamp,
              Values: part.map(([x]) => x),
              Counts: part.map(([, n]) => n),
            });
          }
        }
      }
    }
    out.push({ namespace: directive.Namespace, data });
  }
  return out;
}

export class LocalCloudWatch {
  private readonly client: CloudWatchClient;
  private readonly pending = new Set<Promise<void>>();
  /** The first failure, reported once by {@link drain}. */
  private failure: Error | undefined;
  sent = 0;

  constructor(client: CloudWatchClient) {
    this.client = client;
  }

  /** Forwards one EMF document. */
  forward(emf: Record<string, unknown>): void {
    for (const { namespace, data } of emfToMetricData(emf)) this.put(namespace, data);
  }

  /** The `AWS/Lambda` metrics of one invocation of `functionName`. */
  invocation(functionName: string, durationMs: number, error: boolean): void {
    const Dimensions = [{ Name: 'FunctionName', Value: functionName }];
    const Timestamp = new Date();
    this.put('AWS/Lambda', [
      { MetricName: 'Invocations', Dimensions, Timestamp, Unit: 'Count', Value: 1 },
      { MetricName: 'Errors', Dimensions, Timestamp, Unit: 'Count', Value: error ? 1 : 0 },
      { MetricName: 'Throttles', Dimensions, Timestamp, Unit: 'Count', Value: 0 },
      { MetricName: 'Duration', Dimensions, Timestamp, Unit: 'Milliseconds', Value: durationMs },
    ]);
  }

  /** Puts `data` in the background (at most 1,000 data per call). */
  put(namespace: string, data: readonly MetricDatum[]): void {
    for (let i = 0; i < data.length; i += 1_000) {
      const p: Promise<void> = this.client
        .send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data.slice(i, i + 1_000) }))
        .then(
          () => {
            this.sent++;
          },
          (err: unknown) => {
            this.failure ??= err as Error;
          },
        )
        .finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  /** Waits for every queued call; throws the first failure, if any. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.failure !== undefined) throw this.failure;
  }
}
