import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseCount, parseRate, parseSeed } from '../../../cli/args.ts';

describe('command-line argument parsers', () => {
  it('read counts with digit separators and k/m suffixes, the same syntax for every command', () => {
    expect(parseCount('1_000_000')).toBe(1_000_000);
    expect(parseCount('0')).toBe(0);
    expect(parseCount('200k')).toBe(200_000);
    expect(parseCount('2M')).toBe(2_000_000);
  });

  it.each(['-1', '1.5', 'ten', '1e300', '2kk', 'k'])('reject the count %j, naming it', (text) => {
    expect(() => parseCount(text)).toThrow(InvalidArgumentError);
    expect(() => parseCount(text)).toThrow(`got "${text}"`);
  });

  it('read rates between 0 and 1 inclusive and reject the rest', () => {
    expect(parseRate('0')).toBe(0);
    expect(parseRate('0.01')).toBe(0.01);
    expect(parseRate('1')).toBe(1);
    expect(() => parseRate('1.5')).toThrow(/between 0 and 1.*"1.5"/);
    expect(() => parseRate('-0.1')).toThrow(InvalidArgumentError);
    expect(() => parseRate('NaN')).toThrow(InvalidArgumentError);
  });

  it('read integer seeds, negative ones included, and reject fractions', () => {
    expect(parseSeed('-7')).toBe(-7);
    expect(() => parseSeed('0.5')).toThrow(/integer seed, got "0.5"/);
  });
});
