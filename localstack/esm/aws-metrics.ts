import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from '@platformatic/kafka';
import type { LocalCloudWatch } from './cloudwatch.ts';
import type { RunningMappings } from './types.ts';

/**
 * The AWS service metrics of a local run, sampled the way the services publish them, into the
 * emulator's CloudWatch (which publishes none by itself):
 * - `AWS/Lambda` `OffsetLag` per function: the largest gap between a partition's end and the
 *   offset its mapping committed;
 * - `AWS/SQS` `ApproximateNumberOfMessagesVisible` per queue;
 * - `AWS/DynamoDB` consumed read and write capacity units of the state table, counted on the
 *   consumers' client as DynamoDB bills them (at least one unit a request; a write ceil(1 KB), a
 *   read ceil(4 KB) of what it carries), and its throttle events (the emulator never throttles: 0).
 * Every `intervalMs`, and once more at `stop()`.
 */

export interface AwsMetricsSamplerOptions {
  readonly sink: LocalCloudWatch;
  readonly running: RunningMappings;
  /** Deployed function name by mapping function id (`ingest`, ...). */
  readonly functionNames: Readonly<Record<string, string | undefined>>;
  readonly brokers: readonly string[];
  readonly sqs: SQSClient;
  readonly queueUrls: readonly string[];
  readonly tableName: string;
  /** The consumers' DynamoDB client, metered from now on. */
  readonly dynamodb: DynamoDBClient;
  /** @default 10_000 */
  readonly intervalMs?: number;
}

const sizeOf = (v: unknown): number => Buffer.byteLength(JSON.stringify(v ?? {}));

export function startAwsMetricsSampler(o: AwsMetricsSamplerOptions): { stop(): Promise<void> } {
  const units = { read: 0, write: 0 };
  o.dynamodb.middlewareStack.add(
    (next, ctx) => async (args) => {
      const out = await next(args);
      const input = args.input as Record<string, unknown>;
      const command = ctx.commandName ?? '';
      if (/^(Put|Update|Delete)Item/.test(command))
        units.write += Math.max(1, Math.ceil(sizeOf(input) / 1024));
      else if (/^(TransactWriteItems|BatchWriteItem)/.test(command)) {
        const items =
          JSON.stringify(input).match(/"(Put|Update|Delete|ConditionCheck)(Request)?"/g)?.length ?? 1;
        units.write += Math.max(items, Math.ceil(sizeOf(input) / 1024));
      } else if (/^(GetItem|BatchGetItem|Query|Scan|TransactGetItems)/.test(command))
        units.read += Math.max(1, Math.ceil(sizeOf((out as { output?: unknown }).output) / 4096));
      return out;
    },
    { step: 'initialize', name: 'tidewater-capacity-meter' },
  );
  const kafka = new Consumer({
    clientId: 'tidewater-local-metrics',
    groupId: `tidewater-local-metrics-${process.pid}`,
    bootstrapBrokers: [...o.brokers],
  });
  const sample = async (): Promise<void> => {
    const Timestamp = new Date();
    const lambda: MetricDatum[] = [];
    for (const s of o.running.stats()) {
      const name = o.functionNames[s.functionId];
      if (name === undefined) continue;
      const ends = await kafka.listOffsets({ topics: [...s.topics], timestamp: -1n });
      let lag = 0;
      for (const topic of s.topics) {
        (ends.get(topic) ?? []).forEach((end, p) => {
          lag = Math.max(lag, Number(end) - (s.committed[`${topic}-${p}`] ?? 0));
        });
      }
      lambda.push({
        MetricName: 'OffsetLag',
        Dimensions: [{ Name: 'FunctionName', Value: name }],
        Timestamp,
        Unit: 'Count',
        Value: lag,
      });
    }
    o.sink.put('AWS/Lambda', lambda);
    const sqs: MetricDatum[] = [];
    for (const url of o.queueUrls) {
      const a = await o.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      sqs.push({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: url.split('/').at(-1) ?? url }],
        Timestamp,
        Unit: 'Count',
        Value: Number(a.Attributes?.['ApproximateNumberOfMessages'] ?? 0),
      });
    }
    o.sink.put('AWS/SQS', sqs);
    const Dimensions = [{ Name: 'TableName', Value: o.tableName }];
    o.sink.put('AWS/DynamoDB', [
      { MetricName: 'ConsumedReadCapacityUnits', Dimensions, Timestamp, Unit: 'Count', Value: units.read },
      { MetricName: 'ConsumedWriteCapacityUnits', Dimensions, Timestamp, Unit: 'Count', Value: units.write },
      { MetricName: 'ReadThrottleEvents', Dimensions, Timestamp, Unit: 'Count', Value: 0 },
      { MetricName: 'WriteThrottleEvents', Dimensions, Timestamp, Unit: 'Count', Value: 0 },
    ]);
    units.read = 0;
    units.write = 0;
  };
  let running = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(sample).catch(() => undefined);
  }, o.intervalMs ?? 10_000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      try {
        await sample();
      } finally {
        await kafka.close();
      }
    },
  };
}
