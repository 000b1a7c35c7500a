import { describe, expect, it } from 'vitest';
import { unappliedRecords } from '../../../functions/core/batch-response.ts';
import {
  buildEvent,
  EventSizer,
  effectiveMaxRetries,
  interpretResponse,
  onFailureRecord,
  startOffset,
} from '../../../localstack/esm/event.ts';
import { range, rec } from './support.ts';

describe('the SelfManagedKafka event', () => {
  it('groups records by "<topic>-<partition>" in offset order with base64 key/value and byte-array headers', () => {
    const a = {
      ...rec(7, { partition: 1, timestamp: 1545084650987 }),
      headers: [['headerKey', Buffer.from('headerValue')] as const],
    };
    const b = rec(6, { partition: 1 });
    const c = { ...rec(0, { topic: 'other' }), key: null, value: null };

    const event = buildEvent('127.0.0.1:9092', [a, b, c]);

    expect(event.eventSource).toBe('SelfManagedKafka');
    expect(event.bootstrapServers).toBe('127.0.0.1:9092');
    expect(Object.keys(event.records).sort()).toEqual(['other-0', 't-1']);
    expect(event.records['t-1']?.map((r) => r.offset)).toEqual([6, 7]);
    expect(event.records['t-1']?.[1]).toEqual({
      topic: 't',
      partition: 1,
      offset: 7,
      timestamp: 1545084650987,
      timestampType: 'CREATE_TIME',
      key: Buffer.from('k7').toString('base64'),
      value: Buffer.from('v7').toString('base64'),
      headers: [{ headerKey: [...Buffer.from('headerValue')] }],
    });
    expect(event.records['other-0']?.[0]).not.toHaveProperty('key');
    expect(event.records['other-0']?.[0]?.value).toBeNull();
  });

  it('knows the exact serialized size of the event as records are added', () => {
    const records = [...range(0, 3, { partition: 0 }), ...range(0, 2, { partition: 4, topic: 'ü-topic' })];
    const sizer = new EventSizer('b1:9092,b2:9092');

    for (const r of records) sizer.add(r);

    expect(sizer.size).toBe(Buffer.byteLength(JSON.stringify(buildEvent('b1:9092,b2:9092', records))));
  });
});

describe('the Amazon MSK event', () => {
  const cluster = 'arn:aws:kafka:us-east-1:123456789012:cluster/c/751d2973-a626-431c-9d4e-d7975eb44dd7-2';

  it('is an aws:kafka event carrying the cluster ARN as eventSourceArn', () => {
    const event = buildEvent('b-1:9098', [rec(0)], cluster);

    expect(event).toMatchObject({
      eventSource: 'aws:kafka',
      eventSourceArn: cluster,
      bootstrapServers: 'b-1:9098',
    });
    expect(Object.keys(event.records)).toEqual(['t-0']);
  });

  it('counts the ARN in the exact serialized size', () => {
    const records = range(0, 3);
    const sizer = new EventSizer('b-1:9098', cluster);

    for (const r of records) sizer.add(r);

    expect(sizer.size).toBe(Buffer.byteLength(JSON.stringify(buildEvent('b-1:9098', records, cluster))));
  });
});

describe('maximum retry attempts', () => {
  it('turns infinite retries into 10 when an on-failure destination is set', () => {
    expect(effectiveMaxRetries(-1, true)).toBe(10);
  });

  it('keeps infinite retries infinite without a destination, and explicit values as they are', () => {
    expect(effectiveMaxRetries(-1, false)).toBe(Number.POSITIVE_INFINITY);
    expect(effectiveMaxRetries(3, true)).toBe(3);
    expect(effectiveMaxRetries(0, false)).toBe(0);
  });
});

describe('starting position', () => {
  it('starts a new group at the log start with TRIM_HORIZON and at the end with LATEST', () => {
    expect(startOffset(undefined, 4, 20, 'TRIM_HORIZON')).toBe(4);
    expect(startOffset(undefined, 4, 20, 'LATEST')).toBe(20);
  });

  it('resumes a group from its committed offset, whatever the starting position', () => {
    expect(startOffset(12, 4, 20, 'LATEST')).toBe(12);
    expect(startOffset(12, 4, 20, 'TRIM_HORIZON')).toBe(12);
  });

  it('clamps a committed offset that fell out of the log (retention)', () => {
    expect(startOffset(2, 4, 20, 'LATEST')).toBe(4);
  });
});

describe('partial batch response', () => {
  const batch = [...range(10, 20, { partition: 0 }), ...range(0, 3, { partition: 1 })];
  const failures = (...itemIdentifiers: unknown[]) => ({
    batchItemFailures: itemIdentifiers.map((itemIdentifier) => ({ itemIdentifier })),
  });

  it('reads the documented shape, {partition: "<topic>-<partition>", offset: <number>}, and retries each partition from its lowest reported offset', () => {
    const response = failures({ partition: 't-0', offset: 17 }, { partition: 't-0', offset: 15 });

    const result = interpretResponse(response, true, batch);

    expect(result).toEqual({ kind: 'partial', failedFrom: new Map([['t-0', 15]]) });
  });

  it('reads what the handlers answer: every unapplied record of each failed partition (core/batch-response.ts)', () => {
    const response = {
      batchItemFailures: [
        ...unappliedRecords('t-0', [10, 11, 12, 13], 12),
        ...unappliedRecords('t-1', [0, 1, 2]),
      ],
    };

    expect(interpretResponse(response, true, batch)).toEqual({
      kind: 'partial',
      failedFrom: new Map([
        ['t-0', 12],
        ['t-1', 0],
      ]),
    });
  });

  it('treats null, a non-object, an empty object and an empty or null list as success', () => {
    expect(interpretResponse(null, true, batch).kind).toBe('success');
    expect(interpretResponse('done', true, batch).kind).toBe('success');
    expect(interpretResponse({}, true, batch).kind).toBe('success');
    expect(interpretResponse({ batchItemFailures: [] }, true, batch).kind).toBe('success');
    expect(interpretResponse({ batchItemFailures: null }, true, batch).kind).toBe('success');
  });

  it.each([
    ['the older "topic-partition" key', { 'topic-partition': 't-0', offset: 15 }],
    ['an offset given as a string', { partition: 't-0', offset: '15' }],
    ['an offset that is not an integer', { partition: 't-0', offset: 15.5 }],
    ['no offset', { partition: 't-0' }],
    ['a partition that is a number', { partition: 0, offset: 15 }],
    ['a null itemIdentifier', null],
    ['an empty-string itemIdentifier', ''],
    ['an itemIdentifier that is a list', ['t-0', 15]],
  ])('fails the whole batch for a malformed identifier: %s', (_, itemIdentifier) => {
    const result = interpretResponse(failures(itemIdentifier), true, batch);

    expect(result.kind).toBe('error');
  });

  it('fails the whole batch when an identifier names no record of the batch, even beside valid ones', () => {
    const unknownOffset = failures({ partition: 't-0', offset: 15 }, { partition: 't-0', offset: 99 });
    const unknownPartition = failures({ partition: 't-7', offset: 15 });

    expect(interpretResponse(unknownOffset, true, batch)).toEqual({
      kind: 'error',
      message: 'itemIdentifier t-0@99 is not a record of the batch',
    });
    expect(interpretResponse(unknownPartition, true, batch).kind).toBe('error');
  });

  it('fails the whole batch when batchItemFailures is not a list', () => {
    expect(interpretResponse({ batchItemFailures: { partition: 't-0', offset: 15 } }, true, batch).kind).toBe(
      'error',
    );
  });

  it('ignores the response when ReportBatchItemFailures is off', () => {
    const response = failures({ partition: 't-0', offset: 15 });

    expect(interpretResponse(response, false, batch).kind).toBe('success');
  });
});

describe('the on-failure record (SQS/SNS)', () => {
  it('carries metadata only: request and response context, version, timestamp and per-partition offsets', () => {
    const records = [
      rec(15, { partition: 0, timestamp: Date.parse('2026-11-22T00:00:01.000Z') }),
      rec(16, { partition: 0, timestamp: Date.parse('2026-11-22T00:00:02.000Z') }),
      rec(3, { partition: 2, timestamp: Date.parse('2026-11-22T00:00:03.000Z') }),
    ];

    const body = onFailureRecord({
      requestId: 'req-1',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 4,
      functionError: 'Unhandled',
      now: Date.parse('2026-11-22T00:01:00.000Z'),
      bootstrapServers: '127.0.0.1:9092',
      records,
      payloadSize: 1234,
    });

    expect(body).toEqual({
      requestContext: {
        requestId: 'req-1',
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 4,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2026-11-22T00:01:00.000Z',
      KafkaBatchInfo: {
        batchSize: 3,
        bootstrapServers: '127.0.0.1:9092',
        payloadSize: 1234,
        recordsInfo: {
          't-0': {
            firstRecordOffset: '15',
            lastRecordOffset: '16',
            firstRecordTimestamp: '2026-11-22T00:00:01.000Z',
            lastRecordTimestamp: '2026-11-22T00:00:02.000Z',
          },
          't-2': {
            firstRecordOffset: '3',
            lastRecordOffset: '3',
            firstRecordTimestamp: '2026-11-22T00:00:03.000Z',
            lastRecordTimestamp: '2026-11-22T00:00:03.000Z',
          },
        },
      },
    });
    expect(JSON.stringify(body)).not.toContain(Buffer.from('v15').toString('base64'));
    expect(body.KafkaBatchInfo).not.toHaveProperty('eventSourceArn');
  });

  it('carries the Amazon MSK cluster ARN as KafkaBatchInfo.eventSourceArn, in the documented order', () => {
    const cluster =
      'arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2';

    const body = onFailureRecord({
      requestId: 'r',
      functionArn: 'arn',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 1,
      functionError: 'Unhandled',
      now: 0,
      eventSourceArn: cluster,
      bootstrapServers: 'b-1:9098',
      records: [rec(0)],
      payloadSize: 300,
    });

    expect(body.KafkaBatchInfo.eventSourceArn).toBe(cluster);
    expect(Object.keys(body.KafkaBatchInfo)).toEqual([
      'batchSize',
      'eventSourceArn',
      'bootstrapServers',
      'payloadSize',
      'recordsInfo',
    ]);
  });

  it('has a null responseContext when the function was not invoked for the records', () => {
    const body = onFailureRecord({
      requestId: 'r',
      functionArn: 'arn',
      condition: 'MaximumPayloadSizeExceeded',
      approximateInvokeCount: 0,
      functionError: null,
      now: 0,
      bootstrapServers: 'b:9092',
      records: [rec(0)],
      payloadSize: 7_000_000,
    });

    expect(body.responseContext).toBeNull();
  });
});
