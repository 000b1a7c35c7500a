import { describe, expect, it } from 'vitest';
import { layerSchemas, loadDomain, type TableSchema } from '../../../functions/core/index.ts';

const cols = (t: TableSchema | undefined) => t?.columns.map((c) => `${c.name}:${c.type}`);

describe('layer schemas', () => {
  const payments = layerSchemas(loadDomain('payments'));

  it('gives silver/events the contract fields plus event_date, event_hour, amount_usd, country', () => {
    expect(payments.silver.path).toBe('silver/events');
    expect(cols(payments.silver)).toEqual([
      'event_id:string',
      'event_type:string',
      'user_id:string',
      'ts:timestamp_ms',
      'amount:double',
      'currency:string',
      'merchant_id:string',
      'lat:double',
      'lon:double',
      'device:string',
      'event_date:date',
      'event_hour:int32',
      'amount_usd:double',
      'country:string',
      'processed_at:timestamp_ms',
    ]);
    expect(payments.silver.partitionBy).toBe('ts');
  });

  it('gives gold/window_tumbling_1m exactly the SPEC §2 columns', () => {
    expect(payments.windows['tumbling_1m']?.path).toBe('gold/window_tumbling_1m');
    expect(cols(payments.windows['tumbling_1m'])).toEqual([
      'window_start:timestamp_ms',
      'window_end:timestamp_ms',
      'event_type:string',
      'event_count:int64',
      'amount_sum:double',
      'amount_min:double',
      'amount_max:double',
      'amount_avg:double',
      'processed_at:timestamp_ms',
    ]);
  });

  it('gives gold/window_sliding_5m exactly the SPEC §2 columns', () => {
    expect(payments.windows['sliding_5m']?.path).toBe('gold/window_sliding_5m');
    expect(cols(payments.windows['sliding_5m'])).toEqual([
      'window_start:timestamp_ms',
      'window_end:timestamp_ms',
      'merchant_id:string',
      'event_count:int64',
      'amount_sum:double',
      'processed_at:timestamp_ms',
    ]);
  });

  it('gives gold/sessions exactly the SPEC §2 columns', () => {
    expect(payments.windows['sessions']?.path).toBe('gold/sessions');
    expect(cols(payments.windows['sessions'])).toEqual([
      'session_start:timestamp_ms',
      'session_end:timestamp_ms',
      'user_id:string',
      'event_count:int64',
      'amount_sum:double',
      'processed_at:timestamp_ms',
    ]);
  });

  it('gives gold/alerts exactly the SPEC §2 columns', () => {
    expect(cols(payments.alerts)).toEqual([
      'alert_id:string',
      'pattern:string',
      'severity:string',
      'user_id:string',
      'event_id:string',
      'ts:timestamp_ms',
      'details:string',
      'detected_at:timestamp_ms',
      'processed_at:timestamp_ms',
    ]);
  });

  it('lists every table once, bronze first', () => {
    expect(payments.all.map((t) => t.path)).toEqual([
      'bronze/raw_events',
      'silver/events',
      'gold/window_tumbling_1m',
      'gold/window_sliding_5m',
      'gold/sessions',
      'gold/alerts',
      'gold/late_events',
    ]);
  });

  it('derives the iot gold columns from its config', () => {
    // Act
    const iot = layerSchemas(loadDomain('iot'));
    // Assess
    expect(cols(iot.windows['tumbling_1m'])).toEqual([
      'window_start:timestamp_ms',
      'window_end:timestamp_ms',
      'sensor:string',
      'event_count:int64',
      'value_min:double',
      'value_max:double',
      'value_avg:double',
      'processed_at:timestamp_ms',
    ]);
    expect(cols(iot.alerts)).toContain('device_id:string');
    expect(cols(iot.alerts)).toContain('reading_id:string');
    expect(iot.silver.columns.some((c) => c.name === 'amount_usd')).toBe(false);
  });
});
