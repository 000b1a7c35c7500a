import { describe, expect, it } from 'vitest';
import {
  bronzeRow,
  decodeKafkaEvent,
  KafkaEventShapeError,
  type LambdaKafkaEvent,
  parsePartitionId,
  partitionId,
} from '../../../functions/core/index.ts';
import { loadKafkaFixture } from './helpers.ts';

const INGEST = 1_793_606_500_000;

describe('Lambda Kafka event decoding', () => {
  it('decodes every record of an MSK event, partition by partition in offset order', () => {
    // Act
    const records = decodeKafkaEvent(loadKafkaFixture('msk-payments'));
    // Assess
    expect(records.map((r) => `${r.topic}-${r.partition}@${r.offset}`)).toEqual([
      'payments.events-0@4100',
      'payments.events-0@4101',
      'payments.events-0@4102',
      'payments.events-1@977',
      'payments.events-1@978',
    ]);
  });

  it('decodes a self-managed Kafka event the same way', () => {
    // Act
    const records = decodeKafkaEvent(loadKafkaFixture('self-managed-payments'));
    // Assess
    expect(records).toHaveLength(3);
    expect(records[0]?.key).toBe('u-9');
    expect(JSON.parse(records[0]?.value ?? '')).toMatchObject({ event_id: 'e-0100', currency: 'JPY' });
  });

  it('turns base64 key and value into text and keeps the raw value for dead letters', () => {
    // Act
    const [first] = decodeKafkaEvent(loadKafkaFixture('msk-payments'));
    // Assess
    expect(first?.key).toBe('u-17');
    expect(JSON.parse(first?.value ?? '')).toMatchObject({ event_id: 'e-0001', amount: 42.5 });
    expect(Buffer.from(first?.valueBase64 ?? '', 'base64').toString('utf8')).toBe(first?.value);
    expect(first?.valueBytes).toBe(Buffer.byteLength(first?.value ?? ''));
  });

  it('decodes header byte arrays to text, in order', () => {
    // Act
    const [first] = decodeKafkaEvent(loadKafkaFixture('msk-payments'));
    // Assess
    expect(first?.headers).toEqual([
      ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
      ['content-type', 'application/json'],
    ]);
  });

  it('keeps a binary header value lossless as base64', () => {
    // Act
    const records = decodeKafkaEvent(loadKafkaFixture('msk-payments'));
    // Assess
    expect(records[3]?.headers).toEqual([
      ['binary-id', `base64:${Buffer.from([255, 0, 1]).toString('base64')}`],
    ]);
  });

  it('builds the bronze row with Kafka coordinates, kafka_ts, headers as JSON and ingest_ts', () => {
    // Act
    const [first] = decodeKafkaEvent(loadKafkaFixture('msk-payments'));
    // Assess
    expect(first && bronzeRow(first, INGEST)).toEqual({
      topic: 'payments.events',
      partition: 0,
      offset: 4100,
      kafka_ts: 1793606400250,
      key: 'u-17',
      value: first?.value,
      headers: JSON.stringify([
        { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
        { 'content-type': 'application/json' },
      ]),
      ingest_ts: INGEST,
    });
  });

  it('keeps the timestamp type of each record', () => {
    // Act
    const records = decodeKafkaEvent(loadKafkaFixture('msk-payments'));
    // Assess
    expect(records.map((r) => r.timestampType)).toEqual([
      'CREATE_TIME',
      'CREATE_TIME',
      'CREATE_TIME',
      'LOG_APPEND_TIME',
      'LOG_APPEND_TIME',
    ]);
  });

  it('decodes a tombstone as a null value', () => {
    // Act
    const records = decodeKafkaEvent(loadKafkaFixture('msk-payments'));
    // Assess
    expect(records[4]?.value).toBeNull();
    expect(records[4] && bronzeRow(records[4], INGEST)['value']).toBeNull();
  });

  it('decodes a record without a key as a null key', () => {
    // Act
    const records = decodeKafkaEvent(loadKafkaFixture('self-managed-payments'));
    // Assess
    expect(records[2]?.key).toBeNull();
  });

  it('flags value bytes that are not UTF-8', () => {
    // Prepare
    const event: LambdaKafkaEvent = {
      eventSource: 'SelfManagedKafka',
      records: {
        't-0': [
          {
            topic: 't',
            partition: 0,
            offset: 1,
            timestamp: 1,
            timestampType: 'CREATE_TIME',
            value: Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'),
          },
        ],
      },
    };
    // Act
    const [r] = decodeKafkaEvent(event);
    // Assess
    expect(r?.invalidUtf8).toBe(true);
  });

  it('refuses an event that is not a Kafka event', () => {
    // Prepare
    const sqs = { Records: [] } as unknown as LambdaKafkaEvent;
    // Act + Assess
    expect(() => decodeKafkaEvent(sqs)).toThrow(KafkaEventShapeError);
  });
});

describe('partition ids', () => {
  it('reads back a "<topic>-<partition>" id, dashes in the topic included, and nothing else', () => {
    // Prepare
    const at = { topic: 'payments-raw.v2-eu', partition: 12 };
    // Act + Assess
    expect(parsePartitionId(partitionId(at))).toEqual(at);
    for (const bad of ['payments', '-3', 'payments-', 'payments-x', 'payments-1.5', 'payments-+1'])
      expect(parsePartitionId(bad)).toBeUndefined();
  });
});
