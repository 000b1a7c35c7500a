import { describe, expect, it } from 'vitest';
import { compileValidator } from '../../../functions/core/index.ts';
import {
  decodeEnrichedRecord,
  EnrichedRecordError,
  encodeEnrichedEvent,
  SOURCE_HEADER,
} from '../../../functions/pipeline/index.ts';
import type { MetricName } from '../../../functions/ports/index.ts';
import { METRICS } from '../../../lib/observability/metric-contract.ts';
import { eventValue, payments, rec } from './helpers.ts';

describe('enriched-topic records', () => {
  it('round-trip a silver event, keyed by user, with the raw coordinates in a header', () => {
    // Prepare
    const r = compileValidator(payments)(rec(12, eventValue(4)));
    if (!r.ok) throw new Error('fixture event must be valid');
    // Act
    const encoded = encodeEnrichedEvent(r.event);
    const decoded = decodeEnrichedRecord(payments, {
      topic: 'enriched',
      partition: 2,
      offset: 99,
      kafkaTs: 1_700_000_000_000,
      key: encoded.key,
      value: encoded.value,
      headers: encoded.headers,
    });
    // Assess
    expect(encoded.key).toBe('u-1');
    expect(encoded.headers).toEqual([[SOURCE_HEADER, 'raw-events-0@12']]);
    expect(decoded).toEqual({
      ...r.event,
      topic: 'enriched',
      partition: 2,
      offset: 99,
      kafkaTs: 1_700_000_000_000,
    });
  });

  it('refuses a record that is not a silver row of the domain', () => {
    // Prepare
    const record = { ...rec(1, '{"hello":1}'), topic: 'enriched' };
    // Act
    const decode = () => decodeEnrichedRecord(payments, record);
    // Assess
    expect(decode).toThrow(EnrichedRecordError);
    expect(decode).toThrow(/enriched record enriched-0@1: value is not a silver row/);
  });
});

describe('metrics port', () => {
  it('uses only metric names of the observability contract', () => {
    // Prepare
    const names: MetricName[] = [
      'RecordsIn',
      'RecordsOut',
      'Alerts',
      'LateEvents',
      'DeadLettered',
      'Duplicates',
    ];
    // Act
    const contract = Object.values(METRICS).map((m) => m.name);
    // Assess
    expect(contract).toEqual(expect.arrayContaining(names));
  });
});
