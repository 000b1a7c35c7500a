import { describe, expect, it } from 'vitest';
import { countOf as parseCount } from '../../../cli/args.ts';
import { formatDuration, formatRate, progressLine } from '../../../cli/ui/progress.ts';
import { formatRunSummary } from '../../../cli/ui/summary.ts';
import { checkConservation, type RunResult } from '../../../functions/pipeline/index.ts';

describe('run command helpers', () => {
  it('reads event counts with separators and k/M suffixes', () => {
    // Prepare
    const inputs = ['200000', '200_000', '200k', '1M', '3m'];
    // Act
    const counts = inputs.map(parseCount);
    // Assess
    expect(counts).toEqual([200_000, 200_000, 200_000, 1_000_000, 3_000_000]);
  });

  it('rejects counts that are not whole numbers', () => {
    // Prepare
    const inputs = ['-1', '1.5', 'ten', '', '1e6'];
    // Act
    const counts = inputs.map(parseCount);
    // Assess
    expect(counts.every((c) => c === undefined)).toBe(true);
  });
});

describe('progress line', () => {
  it('shows the bar, percentage, count, rate and an ETA', () => {
    // Prepare
    const state = { fraction: 0.5, count: 100_000, elapsedMs: 2000 };
    // Act
    const line = progressLine(state, 10);
    // Assess
    expect(line).toBe('[#####.....]   50%  100,000 events  50.0k/s  ETA 2.0 s');
  });

  it('omits the bar when the total is unknown', () => {
    // Prepare
    const state = { fraction: undefined, count: 42, elapsedMs: 1000 };
    // Act
    const line = progressLine(state);
    // Assess
    expect(line).toBe('42 events  42/s');
  });

  it('formats durations and rates for people', () => {
    // Prepare, Act, Assess
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
    expect(formatRate(1_250_000)).toBe('1.25M/s');
  });
});

describe('run summary', () => {
  const summary = (poisonByCode: Record<string, number>) =>
    formatRunSummary({
      result: {
        produced: 10,
        batches: 1,
        bronzeRows: 10,
        silverRows: 8,
        deadLettered: 2,
        poisonByCode,
        duplicates: 0,
        lateEvents: 0,
        lateRows: 0,
        alerts: 0,
        alertsByPattern: {},
        rowsByTable: { 'silver/events': 8 },
        objects: 1,
        bytes: 1000,
        elapsedMs: 100,
        conservation: checkConservation({
          produced: 10,
          bronze: 10,
          silver: 8,
          deadLettered: 2,
          duplicates: 0,
        }),
      } as unknown as RunResult,
      source: 'generator',
      domain: 'payments',
      stack: 'local',
      out: '/tmp/x',
      deadLetterDir: '/tmp/x/_deadletter',
    });

  it('names the poison reasons when it knows them, and prints no empty reasons line when not (local stack)', () => {
    // Act
    const known = summary({ invalid_json: 2 });
    const unknown = summary({});

    // Assess
    expect(known).toContain('  poison reasons: invalid_json 2');
    expect(unknown).not.toContain('poison reasons');
    expect(unknown).toContain('  dead letters: /tmp/x/_deadletter');
  });
});
