import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ConsumerName, EnvironmentConfig } from '../config/environment-config.ts';

export const CONSUMER_NAMES: readonly ConsumerName[] = ['ingest', 'enrich', 'windows', 'cep'];

/** TTL attribute of the state table (epoch seconds); the handlers' side is `TTL_ATTRIBUTE` in `functions/adapters/aws/dynamodb-values.ts`. */
export const STATE_TTL_ATTRIBUTE = 'expires_at';

export interface StateStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * The processing layer's stateful resources, in their own stack so the functions can be replaced
 * freely: the DynamoDB state table (window and CEP state, offset fences, de-duplication keys) and
 * the SQS dead-letter queues (poison records written by the handlers; one on-failure queue per
 * Kafka event source mapping). All encrypted with one customer-managed key; retained in prod.
 */
export class StateStack extends Stack {
  readonly key: kms.Key;
  readonly stateTable: dynamodb.Table;
  /** Poison records (reason, Kafka coordinates, raw bytes in base64), sent by the handlers. */
  readonly poisonQueue: sqs.Queue;
  /** Metadata of batches an event source mapping gave up on, per consumer. */
  readonly onFailureQueues: Readonly<Record<ConsumerName, sqs.Queue>>;

  constructor(scope: Construct, id: string, props: StateStackProps) {
    super(scope, id, props);
    const removalPolicy =
      props.config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.key = new kms.Key(this, 'Key', {
      description: 'Tidewater processing state and dead-letter queues',
      enableKeyRotation: true,
      removalPolicy,
    });

    const billing = props.config.stateTable;
    this.stateTable = new dynamodb.Table(this, 'StateTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      ...(billing.billing === 'provisioned'
        ? {
            billingMode: dynamodb.BillingMode.PROVISIONED,
            readCapacity: billing.read.min,
            writeCapacity: billing.write.min,
          }
        : { billingMode: dynamodb.BillingMode.PAY_PER_REQUEST }),
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: STATE_TTL_ATTRIBUTE,
      deletionProtection: props.config.removalPolicy === 'retain',
      removalPolicy,
    });
    if (billing.billing === 'provisioned') {
      const scale = { targetUtilizationPercent: billing.targetUtilizationPercent };
      this.stateTable
        .autoScaleReadCapacity({ minCapacity: billing.read.min, maxCapacity: billing.read.max })
        .scaleOnUtilization(scale);
      this.stateTable
        .autoScaleWriteCapacity({ minCapacity: billing.write.min, maxCapacity: billing.write.max })
        .scaleOnUtilization(scale);
    }

    const queue = (name: string, reason: string) => {
      const q = new sqs.Queue(this, name, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.key,
        retentionPeriod: Duration.days(14),
        enforceSSL: true,
        removalPolicy,
      });
      Validations.of(q).acknowledge({ id: 'AwsSolutions-SQS3', reason });
      return q;
    };
    this.poisonQueue = queue(
      'PoisonQueue',
      'This queue is the dead-letter destination for poison records; a DLQ of a DLQ would only move the problem.',
    );
    const onFailure = {} as Record<ConsumerName, sqs.Queue>;
    for (const name of CONSUMER_NAMES) {
      onFailure[name] = queue(
        `${name[0]?.toUpperCase()}${name.slice(1)}OnFailureQueue`,
        'This queue is the on-failure destination of a Kafka event source mapping (itself a dead-letter queue).',
      );
    }
    this.onFailureQueues = onFailure;
  }
}
