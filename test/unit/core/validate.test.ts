import { describe, expect, it } from 'vitest';
import {
  compileValidator,
  decodeKafkaEvent,
  generateEvents,
  loadDomain,
  type PoisonReason,
  type RawRecord,
  toDeadLetter,
  type ValidationResult,
} from '../../../functions/core/index.ts';
import { loadKafkaFixture } from './helpers.ts';

const payments = loadDomain('payments');
const validate = compileValidator(payments);

const TX = {
  event_id: 'e-1',
  event_type: 'transaction',
  user_id: 'u-1',
  ts: '2026-11-02T08:30:00Z',
  amount: 100,
  currency: 'EUR',
  merchant_id: 'm-1',
};

function record(value: unknown, key: string | null = 'u-1'): RawRecord {
  return {
    topic: 'p',
    partition: 0,
    offset: 7,
    key,
    value: typeof value === 'string' ? value : JSON.stringify(value),
  };
}

function reason(result: ValidationResult): PoisonReason | undefined {
  return result.ok ? undefined : result.reason;
}

function with_(patch: Record<string, unknown>, drop: string[] = []): Record<string, unknown> {
  const o: Record<string, unknown> = { ...TX, ...patch };
  for (const k of drop) delete o[k];
  return o;
}

describe('contract validation: poison reasons', () => {
  it.each([
    ['invalid_json', '{"event_id":', undefined],
    ['not_an_object', '[1,2]', undefined],
    ['missing_field', with_({}, ['event_id']), 'event_id'],
    ['missing_field', with_({}, ['amount']), 'amount'],
    ['missing_field', with_({}, ['merchant_id']), 'merchant_id'],
    ['too_short', with_({ event_id: '' }), 'event_id'],
    ['too_long', with_({ event_id: 'x'.repeat(129) }), 'event_id'],
    ['unknown_event_type', with_({ event_type: 'refund' }), 'event_type'],
    ['wrong_type', with_({ amount: '100' }), 'amount'],
    ['out_of_range', with_({ amount: -1 }), 'amount'],
    [
      'not_finite',
      '{"event_id":"e","event_type":"transaction","user_id":"u-1","ts":1793606400000,"amount":1e999,"merchant_id":"m"}',
      'amount',
    ],
    ['pattern_mismatch', with_({ currency: 'eur' }), 'currency'],
    ['invalid_timestamp', with_({ ts: '2026-11-02T08:30:00' }), 'ts'],
    ['invalid_timestamp', with_({ ts: 1793606400000.5 }), 'ts'],
    ['out_of_range', with_({ ts: 1793606400 }), 'ts'],
    [
      'unexpected_field',
      { event_id: 'e', event_type: 'login', user_id: 'u-1', ts: 1793606400000, amount: 3 },
      'amount',
    ],
    ['incomplete_pair', with_({ lat: 52.5 }), 'lon'],
    ['out_of_range', with_({ lat: 91, lon: 0 }), 'lat'],
    ['unknown_currency', with_({ currency: 'XYZ' }), 'currency'],
  ] as const)('reports %s (%#)', (code, value, field) => {
    // Act
    const r = reason(validate(record(value)));
    // Assess
    expect(r?.code).toBe(code);
    expect(r?.field).toBe(field);
    expect(r?.message.length).toBeGreaterThan(10);
  });

  it('reports a value larger than 256 KiB as too_large', () => {
    // Prepare
    const big = JSON.stringify({ ...TX, pad: 'x'.repeat(256 * 1024) });
    // Act
    const r = reason(validate(record(big)));
    // Assess
    expect(r?.code).toBe('too_large');
  });

  it('reports a tombstone as empty_value', () => {
    expect(reason(validate({ topic: 'p', partition: 0, offset: 1, key: null, value: null }))?.code).toBe(
      'empty_value',
    );
  });

  it('reports a record key that differs from user_id as key_mismatch', () => {
    // Act
    const r = reason(validate(record(TX, 'u-2')));
    // Assess
    expect(r).toMatchObject({ code: 'key_mismatch', field: 'user_id' });
  });

  it('includes the bad value in the message', () => {
    // Act
    const r = reason(validate(record(with_({ currency: 'eur' }))));
    // Assess
    expect(r?.message).toContain('"eur"');
  });

  it('accepts a JSON null as an absent optional field', () => {
    // Act
    const result = validate(record(with_({ device: null, lat: null, lon: null })));
    // Assess
    expect(result.ok).toBe(true);
  });

  it('ignores unknown extra fields', () => {
    // Act
    const result = validate(record(with_({ campaign: 'x' })));
    // Assess
    expect(result.ok && 'campaign' in result.event.row).toBe(false);
  });

  it('builds dead letters with the reason, the coordinates and the raw bytes', () => {
    // Prepare
    const [, , broken] = decodeKafkaEvent(loadKafkaFixture('msk-payments'));
    // Act
    const result = validate(broken!);
    const dl = result.ok ? undefined : toDeadLetter(broken!, result.reason);
    // Assess
    expect(dl).toMatchObject({
      topic: 'payments.events',
      partition: 0,
      offset: 4102,
      key: 'u-17',
      reason: { code: 'invalid_json' },
    });
    expect(dl?.valueBase64).toBe(broken?.valueBase64);
  });
});

describe('enrichment', () => {
  it('converts the amount to USD with the domain rate table, rounded to cents', () => {
    // Act
    const result = validate(record(with_({ amount: 10.01, currency: 'EUR' })));
    // Assess
    expect(result.ok && result.event.row['amount_usd']).toBe(10.81);
  });

  it('defaults a missing currency to USD', () => {
    // Act
    const result = validate(record(with_({ amount: 7 }, ['currency'])));
    // Assess
    expect(result.ok && [result.event.row['currency'], result.event.row['amount_usd']]).toEqual(['USD', 7]);
  });

  it('leaves amount_usd null for an event without an amount', () => {
    // Act
    const result = validate(
      record({ event_id: 'e', event_type: 'page_view', user_id: 'u-1', ts: 1793606400000 }),
    );
    // Assess
    expect(result.ok && result.event.row['amount_usd']).toBeNull();
  });

  it('finds the country from the first bounding box containing lat/lon', () => {
    // Act
    const berlin = validate(record(with_({ lat: 52.52, lon: 13.405 })));
    const zurich = validate(record(with_({ lat: 47.37, lon: 8.54 })));
    // Assess
    expect(berlin.ok && berlin.event.row['country']).toBe('DE');
    expect(zurich.ok && zurich.event.row['country']).toBe('CH');
  });

  it('sets country to null in the middle of the ocean', () => {
    // Act
    const result = validate(record(with_({ lat: 0, lon: -30 })));
    // Assess
    expect(result.ok && result.event.row['country']).toBeNull();
  });

  it('derives event_date and event_hour in UTC from a zoned timestamp', () => {
    // Act
    const result = validate(record(with_({ ts: '2026-11-02T00:30:00+02:00' })));
    // Assess
    expect(
      result.ok && [result.event.row['event_date'], result.event.row['event_hour'], result.event.ts],
    ).toEqual(['2026-11-01', 22, Date.UTC(2026, 10, 1, 22, 30)]);
  });

  it('accepts epoch milliseconds as event time', () => {
    // Act
    const result = validate(record(with_({ ts: 1793606400123 })));
    // Assess
    expect(result.ok && result.event.ts).toBe(1793606400123);
  });

  it('exposes key, id, type and Kafka coordinates for windows and CEP', () => {
    // Act
    const result = validate(record(TX));
    // Assess
    expect(
      result.ok && {
        key: result.event.key,
        id: result.event.id,
        type: result.event.type,
        offset: result.event.offset,
      },
    ).toEqual({
      key: 'u-1',
      id: 'e-1',
      type: 'transaction',
      offset: 7,
    });
  });
});

describe('compiled fast path', () => {
  it('gives exactly the results of the interpreting checker, poison included', () => {
    // Prepare
    const slow = compileValidator(payments, { fastPath: false });
    const iot = loadDomain('iot');
    const fastIot = compileValidator(iot);
    const slowIot = compileValidator(iot, { fastPath: false });
    // Act + Assess
    for (const [d, fast, interp] of [
      [payments, validate, slow],
      [iot, fastIot, slowIot],
    ] as const) {
      [...generateEvents(d, 3_000, { seed: 21, poisonRate: 0.3 })].forEach((r, i) => {
        const rec = { topic: 't', partition: 0, offset: i, key: r.key, value: r.value };
        expect(fast(rec)).toEqual(interp(rec));
      });
    }
  });
});
