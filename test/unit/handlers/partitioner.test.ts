import { describe, expect, it } from 'vitest';
import { murmur2, partitionOfKey } from '../../../functions/handlers/lib/partitioner.ts';

describe("Kafka's default partitioner", () => {
  it('matches the Java client murmur2 on known vectors', () => {
    // Vectors from Kafka's UtilsTest.testMurmur2.
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from('abc'))).toBe(479470107);
  });

  it('keeps a key on one partition within range', () => {
    const p = partitionOfKey('user-42', 3);
    expect(partitionOfKey('user-42', 3)).toBe(p);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(3);
  });
});
