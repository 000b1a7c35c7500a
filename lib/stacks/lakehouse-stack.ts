import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { loadDomain } from '../../functions/core/index.ts';
import type { ColumnType, TableSchema } from '../../functions/core/model.ts';
import { databaseName, type EnvironmentConfig } from '../config/environment-config.ts';
import { skipCheckov } from '../constructs/checkov.ts';
import { SecureBucket, type SecureBucketProps } from '../constructs/secure-bucket.ts';
import { encodePrestoView, type ViewDefinition, viewColumns } from '../lakehouse/athena-views.ts';
import { type Layer, lakehouseTables, layerOf, sqlNameOf } from '../lakehouse/layer-schemas.ts';

export interface LakehouseStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /**
   * Athena views to declare.
   * @default every view of the environment's domain (generated from its YAML, plus those it declares)
   */
  readonly views?: readonly ViewDefinition[];
  /**
   * Tables to declare.
   * @default every table of the environment's domain (SPEC §2, from the core's layerSchemas)
   */
  readonly tables?: readonly TableSchema[];
}

/** Cross-stack references to the layer buckets (see {@link LakehouseStack.exportForConsumers}). */
export interface LakehouseExports {
  /** `Fn::ImportValue` of each layer bucket's ARN. */
  readonly bucketArns: Readonly<Record<Layer, string>>;
  /** The export names behind {@link bucketArns}. */
  readonly bucketArnExportNames: Readonly<Record<Layer, string>>;
  /** `Fn::ImportValue` of the key encrypting the buckets. */
  readonly keyArn: string;
}

/** Glue type of a core column type. */
export const GLUE_TYPES: Readonly<Record<ColumnType, glue.Type>> = {
  string: glue.Schema.STRING,
  int32: glue.Schema.INTEGER,
  int64: glue.Schema.BIG_INT,
  double: glue.Schema.DOUBLE,
  boolean: glue.Schema.BOOLEAN,
  timestamp_ms: glue.Schema.TIMESTAMP,
  date: glue.Schema.DATE,
};

/**
 * The SerDe information of an Athena (Presto) view. A view is never read through a SerDe, but the
 * metastore clients that list it (Athena's own included) fail on a view with none: "HIVE_METASTORE_ERROR:
 * Table storage descriptor is missing SerDe info" (terraform-provider-aws#28517, apache/iceberg#4549),
 * which an empty `SerdeInfo: {}` risks, as a deploy tool may drop an empty object. Presto and Trino
 * write views with a SerDe info of no library and an empty parameter map (Trino's
 * `GlueInputConverter.convertStorage` with `StorageFormat.VIEW_STORAGE_FORMAT`); Hive names a
 * table's SerDe info after the table. So: named, empty parameters, no library.
 */
export function viewSerdeInfo(viewName: string): glue.CfnTable.SerdeInfoProperty {
  return { name: viewName, parameters: {} };
}

/** First day the partition projection covers. */
export const PROJECTION_START_DATE = '2024-01-01';

/**
 * The stateful lakehouse: bronze, silver, gold and Athena-results buckets; a Glue database with one
 * Parquet table per SPEC §2 table, partition-projected on `dt=YYYY-MM-DD/hr=HH/`; the views of
 * the domain's views as Athena (Presto) views; and an Athena workgroup with enforced, encrypted results.
 *
 * Object keys: `<TableSchema.path>/dt=YYYY-MM-DD/hr=HH/<file>.parquet` in the layer's bucket.
 */
export class LakehouseStack extends Stack {
  readonly key: kms.Key;
  readonly buckets: Readonly<Record<Layer, s3.Bucket>>;
  readonly athenaResultsBucket: s3.Bucket;
  readonly database: glue.Database;
  readonly tables: Readonly<Record<string, glue.S3Table>>;
  readonly views: Readonly<Record<string, glue.CfnTable>>;
  readonly workGroup: athena.CfnWorkGroup;
  /** Glue database name, a literal (views encode it). */
  readonly databaseName: string;

  constructor(scope: Construct, id: string, props: LakehouseStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.key = new kms.Key(this, 'Key', {
      description: 'Tidewater lakehouse buckets and Athena results',
      enableKeyRotation: true,
      removalPolicy,
    });
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // Server access log delivery supports SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      lifecycleRules: [
        { id: 'expire-logs', expiration: Duration.days(config.removalPolicy === 'retain' ? 365 : 30) },
      ],
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket itself; logging it into itself would loop.',
    });
    skipCheckov(accessLogs, {
      id: 'CKV_AWS_18',
      comment:
        'This is the server access log bucket of the lakehouse buckets: logging it into itself would loop, and into another bucket would only move the question.',
    });

    const lifecycle = {
      intelligentTieringAfterDays: config.lakehouse.intelligentTieringAfterDays,
      noncurrentVersionExpirationDays: config.lakehouse.noncurrentVersionExpirationDays,
    };
    const bucket = (name: string, extra: Pick<SecureBucketProps, 'expirationDays' | 'prefixRules'> = {}) =>
      new SecureBucket(this, name, {
        encryptionKey: this.key,
        accessLogsBucket: accessLogs,
        removalPolicy,
        ...lifecycle,
        ...extra,
      }).bucket;
    this.buckets = {
      bronze: bucket('Bronze'),
      silver: bucket('Silver'),
      gold: bucket('Gold', {
        prefixRules: [
          // Partition state objects (functions/state/partition-state.ts): superseded ones are
          // deleted by the consumers after a grace period; their versions go after a day.
          { prefix: 'ops/state/', noncurrentVersionExpirationDays: 1 },
          // Window partials are deleted once merged; the backstop for any left behind (an owner
          // that died between its commit and the delete) is kept longer than a stalled partition
          // can hold a window open within Kafka's retention.
          { prefix: 'ops/partials/', noncurrentVersionExpirationDays: 1, expirationDays: 14 },
        ],
      }),
    };
    this.athenaResultsBucket = bucket('AthenaResults', {
      expirationDays: config.lakehouse.athenaResultsExpirationDays,
    });

    this.databaseName = databaseName(config);
    this.database = new glue.Database(this, 'Database', {
      databaseName: this.databaseName,
      description: `Tidewater lakehouse (${config.name})`,
    });
    this.database.applyRemovalPolicy(removalPolicy);

    const tables: Record<string, glue.S3Table> = {};
    for (const schema of props.tables ?? lakehouseTables(config.domain)) {
      tables[sqlNameOf(schema)] = this.layerTable(schema);
    }
    this.tables = tables;

    const views: Record<string, glue.CfnTable> = {};
    for (const view of props.views ?? loadDomain(config.domain).views) {
      views[view.name] = this.view(view, Object.keys(tables));
    }
    this.views = views;

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: `tidewater-${config.name}`,
      description: `Tidewater queries (${config.name})`,
      state: 'ENABLED',
      recursiveDeleteOption: config.removalPolicy === 'destroy',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: config.lakehouse.bytesScannedCutoffMiB * 1024 * 1024,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.athenaResultsBucket.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: this.key.keyArn },
        },
      },
    });
  }

  /**
   * The layer buckets and their key as explicit, stack-named exports (`<stack>-<Layer>BucketArn`,
   * `<stack>-KeyArn`), returned as `Fn::ImportValue` tokens for another stack. Explicit names keep
   * IAM findings on grants to `<bucket>/*` predictable, so they can be acknowledged exactly.
   */
  exportForConsumers(): LakehouseExports {
    const bucketArns = {} as Record<Layer, string>;
    const exportNames = {} as Record<Layer, string>;
    for (const layer of ['bronze', 'silver', 'gold'] as const) {
      const name = `${this.stackName}-${layer[0]?.toUpperCase()}${layer.slice(1)}BucketArn`;
      exportNames[layer] = name;
      bucketArns[layer] = this.exportValue(this.buckets[layer].bucketArn, { name });
    }
    const keyArn = this.exportValue(this.key.keyArn, { name: `${this.stackName}-KeyArn` });
    return { bucketArns, bucketArnExportNames: exportNames, keyArn };
  }

  /** Parquet table at `s3://<layer bucket>/<path>/`, partitions `dt` (yyyy-MM-dd) and `hr` (00..23) projected. */
  private layerTable(schema: TableSchema): glue.S3Table {
    const name = sqlNameOf(schema);
    const bucket = this.buckets[layerOf(schema)];
    const reserved = schema.columns.find((c) => c.name === 'dt' || c.name === 'hr');
    if (reserved) {
      throw new Error(
        `Table ${schema.path}: column "${reserved.name}" clashes with a partition key; rename it.`,
      );
    }
    const table = new glue.S3Table(this, `Table-${name}`, {
      database: this.database,
      tableName: name,
      description: `${schema.path}: partitioned by ${schema.partitionBy} as dt=YYYY-MM-DD/hr=HH (UTC)`,
      storage: glue.S3TableStorage.fromBucket(bucket),
      s3Prefix: `${schema.path}/`,
      dataFormat: glue.DataFormat.PARQUET,
      columns: schema.columns.map((c) => ({ name: c.name, type: GLUE_TYPES[c.type] })),
      partitionKeys: [
        { name: 'dt', type: glue.Schema.STRING },
        { name: 'hr', type: glue.Schema.STRING },
      ],
      partitionProjection: {
        dt: glue.PartitionProjectionConfiguration.date({
          min: PROJECTION_START_DATE,
          max: 'NOW',
          format: 'yyyy-MM-dd',
          step: { interval: 1, intervalUnit: glue.DateIntervalUnit.DAYS },
        }),
        hr: glue.PartitionProjectionConfiguration.integer({ min: 0, max: 23, digits: 2 }),
      },
      parameters: {
        'storage.location.template': `s3://${bucket.bucketName}/${schema.path}/dt=\${dt}/hr=\${hr}/`,
      },
      // The objects are SSE-KMS (server side): S3 decrypts them, and Athena needs no table property to
      // read them. `has_encrypted_data: true` (CDK's default) tells Athena the data may be client-side
      // encrypted (CSE-KMS). Amazon Athena User Guide, "Create tables based on encrypted datasets in
      // Amazon S3": "No additional table properties need to be specified on table creation in order to
      // read SSE-S3/SSE-KMS encrypted datasets".
      hasEncryptedData: false,
    });
    return table;
  }

  /** An Athena view: a Glue VIRTUAL_VIEW table whose original text is the Presto view encoding. */
  private view(view: ViewDefinition, tableNames: readonly string[]): glue.CfnTable {
    if (tableNames.includes(view.name)) {
      throw new Error(`${view.source}: view "${view.name}" has the name of a table; rename the view.`);
    }
    const cfn = new glue.CfnTable(this, `View-${view.name}`, {
      catalogId: this.account,
      databaseName: this.database.databaseName,
      tableInput: {
        name: view.name,
        description: view.description,
        tableType: 'VIRTUAL_VIEW',
        parameters: { presto_view: 'true', comment: 'Presto View' },
        viewOriginalText: encodePrestoView(view, this.databaseName),
        viewExpandedText: '/* Presto View */',
        storageDescriptor: {
          columns: viewColumns(view).map((c) => ({ name: c.name, type: c.glueType })),
          serdeInfo: viewSerdeInfo(view.name),
        },
      },
    });
    for (const t of Object.values(this.tables)) cfn.node.addDependency(t);
    return cfn;
  }
}
