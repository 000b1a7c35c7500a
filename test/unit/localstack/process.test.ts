import { describe, expect, it } from 'vitest';
import { splitHostPort } from '../../../localstack/ports.ts';
import { processGroup, processState } from '../../../localstack/process.ts';

describe('process and port helpers', () => {
  it('reads state and process group from a /proc stat line whose name has spaces and parentheses', () => {
    // Prepare
    const stat = '4242 (java (kafka) x) S 1 4242 4242 0 -1 4194560 12 0 0 0';

    // Act / Assess
    expect([processState(stat), processGroup(stat)]).toEqual(['S', 4242]);
  });

  it('recognises a zombie', () => {
    expect(processState('77 (ministack) Z 1 77 77 0 -1')).toBe('Z');
  });

  it.each([
    ['127.0.0.1:9092', { host: '127.0.0.1', port: 9092 }],
    ['[::1]:4566', { host: '::1', port: 4566 }],
    ['broker', undefined],
    ['b:70000', undefined],
  ])('splits %s into host and port', (value, expected) => {
    expect(splitHostPort(value)).toEqual(expected);
  });
});
