import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ConsumerName, EnvironmentConfig } from '../config/environment-config.ts';
import type { KafkaConsumerFunction } from '../constructs/kafka-consumer-function.ts';
import {
  LATENCY_METRICS,
  LAYERS,
  METRIC_NAMESPACE,
  METRIC_SERVICE,
  METRICS,
} from '../observability/metric-contract.ts';

export interface ObservabilityStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly consumers: Readonly<Record<ConsumerName, KafkaConsumerFunction>>;
  readonly poisonQueue: sqs.IQueue;
  /** The consumers' state table (stage states, enrich's event ids, cep's keys). */
  readonly stateTable: dynamodb.ITable;
}

const PERIOD = Duration.minutes(5);

/**
 * Dashboard (per consumer: invocations, errors, p99 duration, throttles, OffsetLag; dead-letter
 * depth; event-to-output and Kafka-to-output latency p50/p99; records in/out per layer; alerts per
 * pattern; late events; the state table's consumed capacity and throttling) and alarms (among
 * them p99 event-to-alert above `observability.alertLatencyP99AlarmMs`) routed to an encrypted
 * SNS topic.
 */
export class ObservabilityStack extends Stack {
  readonly alarmTopic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config } = props;
    const obs = config.observability;

    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Tidewater alarm topic',
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // CloudWatch alarms publish to an encrypted topic only if they may use its key.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true });
    if (obs.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(obs.alarmEmail));
    const action = new cwActions.SnsAction(this.alarmTopic);

    const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# Tidewater — ${config.name}\nConsumers, Kafka lag, dead letters, lakehouse layers and CEP alerts.`,
        width: 24,
        height: 2,
      }),
    );

    const consumers = Object.entries(props.consumers) as [ConsumerName, KafkaConsumerFunction][];
    const perConsumer = (make: (c: KafkaConsumerFunction) => cloudwatch.Metric) =>
      consumers.map(([name, c]) => make(c).with({ label: name, period: PERIOD }));
    const offsetLag = (c: KafkaConsumerFunction) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName: 'OffsetLag',
        dimensionsMap: { FunctionName: c.function.functionName },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: PERIOD,
      });

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Invocations',
        left: perConsumer((c) => c.function.metricInvocations({ statistic: cloudwatch.Stats.SUM })),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Errors',
        left: perConsumer((c) => c.function.metricErrors({ statistic: cloudwatch.Stats.SUM })),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Duration p99 (ms)',
        left: perConsumer((c) => c.function.metricDuration({ statistic: cloudwatch.Stats.percentile(99) })),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Throttles',
        left: perConsumer((c) => c.function.metricThrottles({ statistic: cloudwatch.Stats.SUM })),
        width: 6,
      }),
    );

    // Alarm metrics carry no label: a label turns an alarm into the metric-math form (`Metrics`),
    // which the local emulator does not accept; the dashboard adds labels.
    const dlqDepth = (q: sqs.IQueue) =>
      q.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: PERIOD });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Kafka OffsetLag per event source mapping',
        left: consumers.map(([name, c]) => offsetLag(c).with({ label: name })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter depth',
        left: [
          dlqDepth(props.poisonQueue).with({ label: 'poison records' }),
          ...consumers.map(([name, c]) => dlqDepth(c.onFailureQueue).with({ label: `${name} on-failure` })),
        ],
        width: 12,
      }),
    );

    const custom = (metricName: string, dims: Record<string, string>, label: string) =>
      new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName,
        dimensionsMap: { service: METRIC_SERVICE, Environment: config.name, ...dims },
        statistic: cloudwatch.Stats.SUM,
        period: PERIOD,
        label,
      });
    const searchExpr = (metricName: string, dimension: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRIC_NAMESPACE},service,Environment,${dimension}} MetricName="${metricName}" service="${METRIC_SERVICE}" Environment="${config.name}"', 'Sum', ${PERIOD.toSeconds()})`,
        label: '',
        period: PERIOD,
      });
    // Latency: percentiles of the values each invocation records (EMF value arrays), per consumer.
    const latency = (metricName: string, consumer: string, p: 50 | 99, label?: string) =>
      new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName,
        dimensionsMap: { service: METRIC_SERVICE, Environment: config.name, Consumer: consumer },
        statistic: cloudwatch.Stats.percentile(p),
        period: PERIOD,
        ...(label === undefined ? {} : { label }),
      });
    const percentiles = (m: { readonly name: string; readonly consumers: readonly string[] }) =>
      m.consumers.flatMap((c) => [latency(m.name, c, 50, `${c} p50`), latency(m.name, c, 99, `${c} p99`)]);
    const alertP99 = latency(LATENCY_METRICS.EventToOutputLatency.name, 'cep', 99);
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Event time to output (ms): enrich = silver, cep = alert',
        left: percentiles(LATENCY_METRICS.EventToOutputLatency),
        leftAnnotations: [{ value: obs.alertLatencyP99AlarmMs, label: 'alarm: p99 event to alert' }],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Kafka record to output per consumer hop (ms)',
        left: percentiles(LATENCY_METRICS.KafkaToOutputLatency),
        width: 12,
      }),
    );

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Records in per layer',
        left: LAYERS.map((l) => custom(METRICS.RecordsIn.name, { Layer: l }, l)),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Records out per layer',
        left: LAYERS.map((l) => custom(METRICS.RecordsOut.name, { Layer: l }, l)),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Alerts per pattern',
        left: [searchExpr(METRICS.Alerts.name, 'Pattern')],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Late events per window',
        // The domain's window names (`sessions`, or an IoT domain's own): a SEARCH shows them all.
        left: [searchExpr(METRICS.LateEvents.name, 'Window')],
        width: 6,
      }),
    );

    // The state table: every valid event is one id item (enrich) and one key item (cep), so its
    // capacity follows traffic; throttling slows batches down (they are retried, never dropped).
    const table = props.stateTable;
    const tableMetric = (metricName: string) =>
      table.metric(metricName, { statistic: cloudwatch.Stats.SUM, period: PERIOD });
    const throttles = new cloudwatch.MathExpression({
      expression: 'r + w',
      usingMetrics: { r: tableMetric('ReadThrottleEvents'), w: tableMetric('WriteThrottleEvents') },
      label: 'throttled reads + writes',
      period: PERIOD,
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'State table: consumed capacity units',
        left: [
          table
            .metricConsumedWriteCapacityUnits({ statistic: cloudwatch.Stats.SUM, period: PERIOD })
            .with({ label: 'write' }),
          table
            .metricConsumedReadCapacityUnits({ statistic: cloudwatch.Stats.SUM, period: PERIOD })
            .with({ label: 'read' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({ title: 'State table: throttled requests', left: [throttles], width: 12 }),
      // Provisioned capacity (`stateTable.billing: provisioned`): consumed against provisioned, per
      // second, which is how auto scaling sees them.
      ...(config.stateTable.billing === 'provisioned'
        ? (['Write', 'Read'] as const).map(
            (side) =>
              new cloudwatch.GraphWidget({
                title: `State table: ${side.toLowerCase()} capacity units per second`,
                left: [
                  new cloudwatch.MathExpression({
                    expression: `c / ${PERIOD.toSeconds()}`,
                    usingMetrics: { c: tableMetric(`Consumed${side}CapacityUnits`) },
                    label: 'consumed',
                    period: PERIOD,
                  }),
                  table
                    .metric(`Provisioned${side}CapacityUnits`, {
                      statistic: cloudwatch.Stats.AVERAGE,
                      period: PERIOD,
                    })
                    .with({ label: 'provisioned' }),
                ],
                width: 12,
              }),
          )
        : []),
      new cloudwatch.GraphWidget({
        title: 'State write conflicts (attempts redone)',
        left: consumers.map(([name]) => custom(METRICS.StateConflicts.name, { Consumer: name }, name)),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Partition state read from S3 (cold loads) and compacted (snapshots)',
        left: consumers.map(([name]) => custom(METRICS.StateColdLoads.name, { Consumer: name }, name)),
        right: consumers.map(([name]) =>
          custom(METRICS.StateSnapshots.name, { Consumer: name }, `${name} snapshots`),
        ),
        width: 12,
      }),
    );
    // The alarm takes the write throttles alone (simple metric form, see above); reads are charted.
    alarm(
      'StateTable-WriteThrottles',
      tableMetric('WriteThrottleEvents'),
      obs.stateThrottleAlarmThreshold,
      `The state table throttled ≥ ${obs.stateThrottleAlarmThreshold} writes in 5 minutes: consumers slow down; check its capacity.`,
    );

    for (const [name, c] of consumers) {
      alarm(
        `${name}-Errors`,
        c.function.metricErrors({ statistic: cloudwatch.Stats.SUM, period: PERIOD }),
        1,
        `${name}: the function returned errors (whole batches failing).`,
      );
      alarm(
        `${name}-OffsetLag`,
        offsetLag(c),
        obs.offsetLagAlarmThreshold,
        `${name}: Kafka offset lag ≥ ${obs.offsetLagAlarmThreshold}; consumers are falling behind.`,
      );
      alarm(
        `${name}-OnFailureDepth`,
        dlqDepth(c.onFailureQueue),
        obs.deadLetterDepthAlarmThreshold,
        `${name}: batches exhausted their retries and reached the on-failure queue; each message names the batch's topic, partition and offsets: fix the cause, then \`tidewater replay --on-failure-queue <its URL>\`.`,
      );
    }
    alarm(
      'AlertLatency-P99',
      alertP99,
      obs.alertLatencyP99AlarmMs,
      `p99 of event time to alert ≥ ${obs.alertLatencyP99AlarmMs} ms over 5 minutes: alerts come late. Look at the cep and enrich hops (Kafka record to output), their OffsetLag and duration: a consumer falling behind, or producers sending events late.`,
    );
    alarm(
      'PoisonDepth',
      dlqDepth(props.poisonQueue),
      obs.deadLetterDepthAlarmThreshold,
      'Poison records are waiting in the dead-letter queue; once their cause is fixed, `tidewater redrive --queue <its URL>` puts them back into Kafka.',
    );
    // Every alarm above, with its state, at the bottom of the dashboard.
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
  }
}
