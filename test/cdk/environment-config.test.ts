import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildApp } from '../../lib/app.ts';
import {
  consumerSettings,
  databaseName,
  listEnvironments,
  loadEnvironmentConfig,
  parseEnvironmentConfig,
} from '../../lib/config/environment-config.ts';
import { stageEnvironment } from '../../lib/tidewater-stage.ts';

const VALID = {
  name: 'dev',
  removalPolicy: 'destroy',
  kafka: {
    mode: 'serverless',
    topics: {
      rawEvents: { name: 'tidewater.raw-events', partitions: 6 },
      enrichedEvents: { name: 'tidewater.enriched-events', partitions: 6 },
      alerts: { name: 'tidewater.alerts', partitions: 3 },
    },
  },
};

/** A deep copy of VALID with `mutate` applied. */
function variant(mutate: (doc: Record<string, unknown> & typeof VALID) => void): unknown {
  const doc = structuredClone(VALID) as Record<string, unknown> & typeof VALID;
  mutate(doc);
  return doc;
}

describe('environment files', () => {
  it('has the four environments of the design', () => {
    // Act
    const envs = listEnvironments();

    // Assess
    expect(envs).toEqual(['dev', 'local', 'prod', 'staging']);
  });

  it.each(['dev', 'staging', 'prod', 'local'])('validates config/environments/%s.yaml', (name) => {
    // Act
    const config = loadEnvironmentConfig(name);

    // Assess
    expect(config.name).toBe(name);
  });

  it('picks MSK Serverless in dev, Express in prod and the loopback broker in local', () => {
    // Act
    const modes = ['dev', 'staging', 'prod', 'local'].map((n) => loadEnvironmentConfig(n).kafka.mode);

    // Assess
    expect(modes).toEqual(['serverless', 'provisioned', 'express', 'self-managed']);
    const local = loadEnvironmentConfig('local').kafka;
    expect(local.mode === 'self-managed' && local.bootstrapServers).toEqual(['127.0.0.1:9092']);
  });

  it('retains stateful resources in prod and staging only', () => {
    // Act
    const policies = ['dev', 'staging', 'prod', 'local'].map((n) => loadEnvironmentConfig(n).removalPolicy);

    // Assess
    expect(policies).toEqual(['destroy', 'retain', 'retain', 'destroy']);
  });
});

describe('defaults', () => {
  it('defaults the local bootstrap servers to 127.0.0.1:9092', () => {
    // Prepare
    const doc = variant((d) => {
      d.name = 'local';
      d.kafka = { ...d.kafka, mode: 'self-managed' };
    });

    // Act
    const config = parseEnvironmentConfig(doc, 'test');

    // Assess
    expect(config.kafka.mode === 'self-managed' && config.kafka.bootstrapServers).toEqual(['127.0.0.1:9092']);
  });

  it('merges a consumer over the environment defaults', () => {
    // Prepare
    const doc = variant((d) => {
      d['consumers'] = { defaults: { batchSize: 2000, retryAttempts: 5 }, cep: { batchSize: 500 } };
    });

    // Act
    const config = parseEnvironmentConfig(doc, 'test');

    // Assess
    expect(consumerSettings(config, 'cep')).toMatchObject({ batchSize: 500, retryAttempts: 5 });
    expect(consumerSettings(config, 'ingest')).toMatchObject({ batchSize: 2000, retryAttempts: 5 });
  });

  it('names the Glue database after the environment', () => {
    // Act
    const name = databaseName(
      parseEnvironmentConfig(
        variant((d) => {
          d.name = 'dev-eu';
        }),
        'test',
      ),
    );

    // Assess
    expect(name).toBe('tidewater_dev_eu');
  });

  it('takes account and region from CDK_DEFAULT_* when the config has none', () => {
    // Prepare
    const config = parseEnvironmentConfig(VALID, 'test');

    // Act
    const env = stageEnvironment(config, {
      CDK_DEFAULT_ACCOUNT: '123456789012',
      CDK_DEFAULT_REGION: 'eu-west-1',
    });

    // Assess
    expect(env).toEqual({ account: '123456789012', region: 'eu-west-1' });
    expect(stageEnvironment(config, {})).toEqual({});
  });
});

describe('bad configuration', () => {
  it('names the key path and the rule of a bad partition count', () => {
    // Prepare
    const doc = variant((d) => {
      d.kafka.topics.rawEvents.partitions = 0;
    });

    // Act & Assess
    expect(() => parseEnvironmentConfig(doc, 'dev.yaml')).toThrow(
      /dev\.yaml[\s\S]*kafka\.topics\.rawEvents\.partitions: .*>=1/,
    );
  });

  it('names the key path of a bad alert-latency alarm threshold', () => {
    // Prepare
    const doc = variant((d) => {
      d['observability'] = { alertLatencyP99AlarmMs: 'fast' };
    });

    // Act & Assess
    expect(() => parseEnvironmentConfig(doc, 'dev.yaml')).toThrow(
      /dev\.yaml[\s\S]*observability\.alertLatencyP99AlarmMs/,
    );
  });

  it('refuses an alert-latency threshold the two batching windows alone would reach', () => {
    // Prepare: 1 s windows on enrich and cep make 2 s before any processing.
    const doc = variant((d) => {
      d['observability'] = { alertLatencyP99AlarmMs: 1_500 };
      d['consumers'] = { defaults: { maxBatchingWindowSeconds: 1 } };
    });

    // Act & Assess
    expect(() => parseEnvironmentConfig(doc, 'test')).toThrow(
      /observability\.alertLatencyP99AlarmMs: 1500 ms is not above the two batching windows .*2000 ms/,
    );
  });

  it('rejects an unknown key with its path', () => {
    // Prepare
    const doc = variant((d) => {
      d['lakehouse'] = { bytesScanedCutoffMiB: 10 };
    });

    // Act & Assess
    expect(() => parseEnvironmentConfig(doc, 'test')).toThrow(/lakehouse: .*bytesScanedCutoffMiB/);
  });

  it('rejects an unknown Kafka mode', () => {
    // Prepare
    const doc = variant((d) => {
      (d.kafka as { mode: string }).mode = 'confluent';
    });

    // Act & Assess
    expect(() => parseEnvironmentConfig(doc, 'test')).toThrow(/kafka\.mode/);
  });

  it('rejects a standard broker type for Express mode', () => {
    // Prepare
    const doc = variant((d) => {
      d.kafka = {
        ...d.kafka,
        mode: 'express',
        kafkaVersion: '3.9.x',
        brokerInstanceType: 'kafka.m7g.large',
      } as never;
    });

    // Act & Assess
    expect(() => parseEnvironmentConfig(doc, 'test')).toThrow(
      /kafka\.brokerInstanceType: mode "express" needs an express\.\* instance type, got "kafka\.m7g\.large"/,
    );
  });

  it('rejects a replication factor other than 3 on MSK Serverless', () => {
    // Prepare
    const doc = variant((d) => {
      d.kafka = { ...d.kafka, replicationFactor: 2 } as never;
    });

    // Act & Assess
    expect(() => parseEnvironmentConfig(doc, 'test')).toThrow(
      /kafka\.replicationFactor: MSK serverless fixes the replication factor at 3, got 2/,
    );
  });

  it('rejects a Kafka version without the topic API', () => {
    // Prepare
    const doc = variant((d) => {
      d.kafka = {
        ...d.kafka,
        mode: 'provisioned',
        kafkaVersion: '3.5.1',
        brokerInstanceType: 'kafka.m7g.large',
      } as never;
    });

    // Act & Assess
    expect(() => parseEnvironmentConfig(doc, 'test')).toThrow(
      /kafka\.kafkaVersion: a Kafka version 3\.6 or later/,
    );
  });

  it('rejects a provisioned state table whose maximum capacity is below its minimum, naming the side', () => {
    // Prepare
    const doc = variant((d) => {
      d['stateTable'] = { billing: 'provisioned', read: { min: 5, max: 50 }, write: { min: 100, max: 20 } };
    });

    // Act & Assess
    expect(() => parseEnvironmentConfig(doc, 'test')).toThrow(
      /stateTable\.write\.max: max \(20\) must be ≥ min \(100\)/,
    );
  });

  it('rejects an unknown state table billing mode with its path', () => {
    // Prepare
    const doc = variant((d) => {
      d['stateTable'] = { billing: 'reserved' };
    });

    // Act & Assess
    expect(() => parseEnvironmentConfig(doc, 'test')).toThrow(/stateTable\.billing/);
  });

  it('bills the state table on demand by default, and fills the provisioned target utilization', () => {
    // Act
    const byDefault = parseEnvironmentConfig(VALID, 'test');
    const provisioned = parseEnvironmentConfig(
      variant((d) => {
        d['stateTable'] = { billing: 'provisioned', read: { min: 1, max: 10 }, write: { min: 1, max: 10 } };
      }),
      'test',
    );

    // Assess
    expect(byDefault.stateTable).toEqual({ billing: 'on-demand' });
    expect(provisioned.stateTable).toMatchObject({ billing: 'provisioned', targetUtilizationPercent: 70 });
  });

  it('rejects more minimum than maximum pollers, naming the consumer', () => {
    // Prepare
    const doc = variant((d) => {
      d['consumers'] = { defaults: { maximumPollers: 2 }, cep: { minimumPollers: 5 } };
    });

    // Act & Assess
    expect(() => parseEnvironmentConfig(doc, 'test')).toThrow(
      /consumers\.cep\.maximumPollers: maximumPollers \(2\) must be ≥ minimumPollers \(5\)/,
    );
  });

  it('rejects a bootstrap server without a port', () => {
    // Prepare
    const doc = variant((d) => {
      d.kafka = { ...d.kafka, mode: 'self-managed', bootstrapServers: ['localhost'] } as never;
    });

    // Act & Assess
    expect(() => parseEnvironmentConfig(doc, 'test')).toThrow(/kafka\.bootstrapServers\.0: host:port/);
  });

  describe('from files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidewater-env-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('lists the known environments for an unknown one', () => {
      // Act & Assess
      expect(() => loadEnvironmentConfig('qa')).toThrow(
        /Unknown environment "qa".*Known environments: dev, local, prod, staging/,
      );
    });

    it('requires the name inside the file to match the file name', () => {
      // Prepare
      writeFileSync(join(dir, 'qa.yaml'), stringify(VALID));

      // Act & Assess
      expect(() => loadEnvironmentConfig('qa', dir)).toThrow(
        /name: must be "qa" \(the file name\), got "dev"/,
      );
    });

    it('reports YAML syntax errors with the file', () => {
      // Prepare
      writeFileSync(join(dir, 'broken.yaml'), 'name: [unclosed\n');

      // Act & Assess
      expect(() => loadEnvironmentConfig('broken', dir)).toThrow(/Cannot parse .*broken\.yaml as YAML/);
    });
  });

  it('fails the app for an unknown -c env', () => {
    // Act & Assess
    expect(() => buildApp({ envName: 'nope', bundle: false })).toThrow(/Unknown environment "nope"/);
  });

  it('fails the app when no environment is given', () => {
    // Act & Assess
    expect(() => buildApp({ bundle: false })).toThrow(/No environment given: pass `-c env=<name>`/);
  });
});
