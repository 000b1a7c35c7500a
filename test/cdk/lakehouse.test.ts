import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDomain, parseViewText } from '../../functions/core/index.ts';
import { FEATURE_FLAGS } from '../../lib/app.ts';
import { loadEnvironmentConfig } from '../../lib/config/environment-config.ts';
import {
  decodePrestoView,
  encodePrestoView,
  type ViewDefinition,
  viewColumns,
} from '../../lib/lakehouse/athena-views.ts';
import { LakehouseStack } from '../../lib/stacks/lakehouse-stack.ts';

const FIXTURE_FILE = join(import.meta.dirname, 'fixtures', 'views', 'alerts_by_pattern.sql');
const FIXTURE_VIEWS: readonly ViewDefinition[] = [
  parseViewText(readFileSync(FIXTURE_FILE, 'utf8'), FIXTURE_FILE, false),
];

type Resource = { Properties: Record<string, unknown>; DeletionPolicy?: string };
type TableInput = {
  Name: string;
  TableType?: string;
  Parameters: Record<string, unknown>;
  PartitionKeys?: { Name: string; Type: string }[];
  StorageDescriptor: {
    Columns: { Name: string; Type: string }[];
    Location?: unknown;
    SerdeInfo?: Record<string, unknown>;
  };
  ViewOriginalText?: string;
  ViewExpandedText?: string;
};

function lakehouse(envName: string, views: readonly ViewDefinition[] | 'domain' = FIXTURE_VIEWS) {
  const app = new App({ context: { ...FEATURE_FLAGS } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new LakehouseStack(app, 'Lakehouse', {
    config: loadEnvironmentConfig(envName),
    ...(views === 'domain' ? {} : { views }),
  });
  app.synth(); // throws on cdk-nag findings
  return { stack, template: Template.fromStack(stack) };
}

function tableInputs(t: Template): TableInput[] {
  return Object.values(t.findResources('AWS::Glue::Table') as Record<string, Resource>).map(
    (r) => r.Properties['TableInput'] as TableInput,
  );
}

function tableNamed(t: Template, name: string): TableInput {
  const table = tableInputs(t).find((i) => i.Name === name);
  if (!table) throw new Error(`no Glue table ${name}`);
  return table;
}

let dev: Template;
let prod: Template;
beforeAll(() => {
  dev = lakehouse('dev').template;
  prod = lakehouse('prod').template;
});

describe('buckets', () => {
  it('has bronze, silver, gold and Athena-results buckets plus the access-log bucket', () => {
    // Assess
    dev.resourceCountIs('AWS::S3::Bucket', 5);
  });

  it('encrypts the data buckets with the customer key, versions them and blocks public access', () => {
    // Assess
    const kmsBuckets = Object.values(dev.findResources('AWS::S3::Bucket') as Record<string, Resource>).filter(
      (b) => JSON.stringify(b.Properties['BucketEncryption']).includes('aws:kms'),
    );
    expect(kmsBuckets.length).toBe(4);
    for (const b of kmsBuckets) {
      expect(b.Properties).toMatchObject({
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: { DestinationBucketName: expect.anything() },
      });
      expect(JSON.stringify(b.Properties['BucketEncryption'])).toContain('"BucketKeyEnabled":true');
    }
  });

  it('denies non-TLS access to every bucket', () => {
    // Assess
    const policies = Object.values(dev.findResources('AWS::S3::BucketPolicy') as Record<string, Resource>);
    expect(policies.length).toBe(5);
    for (const p of policies) {
      expect(JSON.stringify(p.Properties['PolicyDocument'])).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('tiers data, expires old versions and expires Athena results', () => {
    // Assess
    dev.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Transitions: [{ StorageClass: 'INTELLIGENT_TIERING', TransitionInDays: 30 }],
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }),
        ],
      },
    });
    dev.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ ExpirationInDays: 3, Transitions: Match.absent() })],
      },
    });
  });

  it('expires the gold bucket’s superseded state versions after a day, and left-over partials after 14 days', () => {
    // Assess
    dev.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'ops/state/', NoncurrentVersionExpiration: { NoncurrentDays: 1 } }),
          Match.objectLike({
            Prefix: 'ops/partials/',
            ExpirationInDays: 14,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
          }),
        ]),
      },
    });
  });

  it('retains buckets in prod and deletes them in dev', () => {
    // Assess
    const policies = (t: Template) =>
      new Set(
        Object.values(t.findResources('AWS::S3::Bucket') as Record<string, Resource>).map(
          (b) => b.DeletionPolicy,
        ),
      );
    expect(policies(prod)).toEqual(new Set(['Retain']));
    expect(policies(dev)).toEqual(new Set(['Delete']));
  });
});

describe('Glue tables', () => {
  it('declares one table per layer table of SPEC §2 and ops/batch_quality, named by the last path segment', () => {
    // Assess
    const names = tableInputs(dev)
      .filter((t) => t.TableType !== 'VIRTUAL_VIEW')
      .map((t) => t.Name)
      .sort();
    expect(names).toEqual([
      'alerts',
      'batch_quality',
      'events',
      'late_events',
      'raw_events',
      'sessions',
      'window_sliding_5m',
      'window_tumbling_1m',
    ]);
  });

  it('projects dt=YYYY-MM-DD/hr=HH partitions', () => {
    // Assess
    const events = tableNamed(dev, 'events');
    expect(events.PartitionKeys).toEqual([
      { Name: 'dt', Type: 'string' },
      { Name: 'hr', Type: 'string' },
    ]);
    expect(events.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2024-01-01,NOW',
      'projection.hr.type': 'integer',
      'projection.hr.range': '0,23',
      'projection.hr.digits': '2',
    });
    expect(JSON.stringify(events.Parameters['storage.location.template'])).toMatch(
      /"\/silver\/events\/dt=\$\{dt\}\/hr=\$\{hr\}\/"/,
    );
  });

  it('stores each layer under its own bucket at the table path', () => {
    // Assess
    const raw = JSON.stringify(tableNamed(dev, 'raw_events').StorageDescriptor.Location);
    const alerts = JSON.stringify(tableNamed(dev, 'alerts').StorageDescriptor.Location);
    expect(raw).toMatch(/BronzeBucket.*"\/bronze\/raw_events\/"/);
    expect(alerts).toMatch(/GoldBucket.*"\/gold\/alerts\/"/);
    expect(JSON.stringify(tableNamed(dev, 'batch_quality').StorageDescriptor.Location)).toMatch(
      /GoldBucket.*"\/ops\/batch_quality\/"/,
    );
  });

  it('maps core column types to Athena types', () => {
    // Assess
    const types = (name: string) =>
      Object.fromEntries(tableNamed(dev, name).StorageDescriptor.Columns.map((c) => [c.Name, c.Type]));
    expect(types('raw_events')).toMatchObject({
      partition: 'int',
      offset: 'bigint',
      kafka_ts: 'timestamp',
      value: 'string',
    });
    expect(types('events')).toMatchObject({
      amount: 'double',
      event_date: 'date',
      event_hour: 'int',
      amount_usd: 'double',
    });
    expect(types('window_tumbling_1m')).toMatchObject({ event_count: 'bigint', window_start: 'timestamp' });
  });

  it('reads Parquet', () => {
    // Assess
    expect(tableNamed(dev, 'events').StorageDescriptor).toMatchObject({
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    });
  });

  it('does not mark the SSE-KMS tables as client-side encrypted (has_encrypted_data)', () => {
    // Prepare
    const tables = tableInputs(dev).filter((t) => t.TableType !== 'VIRTUAL_VIEW');

    // Assess
    expect(tables.length).toBeGreaterThan(5);
    for (const t of tables) {
      expect([undefined, false, 'false'], t.Name).toContain(t.Parameters['has_encrypted_data']);
    }
  });
});

describe('Athena', () => {
  it('enforces encrypted results and a bytes-scanned cutoff per environment', () => {
    // Assess
    dev.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 1024 * 1024 * 1024,
        ResultConfiguration: {
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() },
          OutputLocation: Match.anyValue(),
        },
      }),
    });
    prod.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({ BytesScannedCutoffPerQuery: 100 * 1024 * 1024 * 1024 }),
    });
  });

  it('deploys each view file as a Presto view that decodes to its SQL, catalog, schema and columns', () => {
    // Act
    const view = tableNamed(dev, 'alerts_by_pattern');
    const json = decodePrestoView(view.ViewOriginalText ?? '');

    // Assess
    expect(view.TableType).toBe('VIRTUAL_VIEW');
    expect(view.ViewExpandedText).toBe('/* Presto View */');
    expect(view.Parameters).toMatchObject({ presto_view: 'true' });
    expect(json).toEqual({
      originalSql: expect.stringMatching(
        /^SELECT dt, pattern, severity[\s\S]*FROM alerts\nGROUP BY dt, pattern, severity$/,
      ),
      catalog: 'awsdatacatalog',
      schema: 'tidewater_dev',
      columns: [
        { name: 'dt', type: 'varchar' },
        { name: 'pattern', type: 'varchar' },
        { name: 'severity', type: 'varchar' },
        { name: 'alert_count', type: 'bigint' },
        { name: 'first_ts', type: 'timestamp(3)' },
      ],
    });
    expect(view.StorageDescriptor.Columns).toEqual([
      { Name: 'dt', Type: 'string' },
      { Name: 'pattern', Type: 'string' },
      { Name: 'severity', Type: 'string' },
      { Name: 'alert_count', Type: 'bigint' },
      { Name: 'first_ts', Type: 'timestamp' },
    ]);
  });

  it('gives every view named SerDe information, never an empty SerdeInfo', () => {
    // Prepare
    const views = tableInputs(dev).filter((t) => t.TableType === 'VIRTUAL_VIEW');

    // Assess
    expect(views.length).toBeGreaterThan(0);
    for (const v of views) {
      expect(v.StorageDescriptor.SerdeInfo, v.Name).toEqual({ Name: v.Name, Parameters: {} });
      expect(v.Parameters['has_encrypted_data'], v.Name).toBeUndefined();
    }
  });

  it('encodes the prod database name into prod views', () => {
    // Act
    const json = decodePrestoView(tableNamed(prod, 'alerts_by_pattern').ViewOriginalText ?? '');

    // Assess
    expect(json.schema).toBe('tidewater_prod');
  });
});

describe('views of the domain', () => {
  const view = (columns: string): ViewDefinition => ({
    name: 'v',
    description: 'd',
    columns: columns.split(', ').map((c) => ({ name: c.split(' ')[0]!, type: c.split(' ')[1]! })),
    requires: {},
    sql: 'SELECT a, b FROM events',
    source: 'x.sql',
    origin: 'domain',
  });

  it('keeps decimal precision in the Presto view and maps the Glue type', () => {
    // Act
    const columns = viewColumns(view('a varchar, b decimal(10,2)'));

    // Assess
    expect(columns.map((c) => c.prestoType)).toEqual(['varchar', 'decimal(10,2)']);
    expect(columns.map((c) => c.glueType)).toEqual(['string', 'decimal(10,2)']);
    expect(decodePrestoView(encodePrestoView(view('a varchar, b bigint'), 's')).originalSql).toBe(
      'SELECT a, b FROM events',
    );
  });

  it('rejects an unknown column type, naming the view and the column', () => {
    // Act & Assess
    expect(() => viewColumns(view('a uuid'))).toThrow(
      /x\.sql: view v, column a: unsupported column type "uuid"/,
    );
  });

  it('deploys every view of the environment domain by default, generated and declared', () => {
    // Act
    const { template } = lakehouse('dev', 'domain');

    // Assess
    const deployed = tableInputs(template)
      .filter((t) => t.TableType === 'VIRTUAL_VIEW')
      .map((t) => t.Name)
      .sort();
    expect(deployed).toEqual(
      loadDomain('payments')
        .views.map((v) => v.name)
        .sort(),
    );
    expect(deployed).toEqual(
      expect.arrayContaining(['pipeline_quality', 'merchant_revenue', 'tumbling_1m_over_time']),
    );
  });

  it('leaves the stack without views when given none', () => {
    // Act
    const { template } = lakehouse('dev', []);

    // Assess
    expect(tableInputs(template).filter((t) => t.TableType === 'VIRTUAL_VIEW')).toEqual([]);
  });
});
