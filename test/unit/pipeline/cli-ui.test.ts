import { describe, expect, it } from 'vitest';
import { parseCount } from '../../../cli/commands/run.ts';
import { formatDuration, formatRate, progressLine } from '../../../cli/ui/progress.ts';

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
