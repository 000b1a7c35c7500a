import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIsoTimestamp, utcDate, utcHour } from '../../../functions/core/index.ts';

describe('event time parsing', () => {
  it.each([
    ['2026-11-02T08:00:00Z', Date.UTC(2026, 10, 2, 8)],
    ['2026-11-02T08:00:00.123Z', Date.UTC(2026, 10, 2, 8, 0, 0, 123)],
    ['2026-11-02T08:00:00.123456789Z', Date.UTC(2026, 10, 2, 8, 0, 0, 123)],
    ['2026-11-02T10:00:00+02:00', Date.UTC(2026, 10, 2, 8)],
    ['2026-11-02T03:30:00-0430', Date.UTC(2026, 10, 2, 8)],
    ['2026-11-02T08:00Z', Date.UTC(2026, 10, 2, 8)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
  ])('parses %s', (text, ms) => {
    expect(parseIsoTimestamp(text)).toBe(ms);
  });

  it.each([
    '2026-11-02T08:00:00',
    '2026-11-02',
    '2026-02-30T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2026-11-02T24:00:00Z',
    'yesterday',
    '2026-11-02T08:00:60Z',
  ])('rejects %s', (text) => {
    expect(parseIsoTimestamp(text)).toBeUndefined();
  });

  it('agrees with Date for every instant it formats', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        const iso = new Date(ms).toISOString();
        expect(parseIsoTimestamp(iso)).toBe(ms);
        expect(utcDate(ms)).toBe(iso.slice(0, 10));
        expect(utcHour(ms)).toBe(Number(iso.slice(11, 13)));
      }),
      { numRuns: 300 },
    );
  });
});
