/**
 * Kafka's default key partitioner (the Java client's `murmur2(key) & 0x7fffffff % partitions`),
 * so that `tidewater produce` and the tests know which partition a user's events land in.
 */
export function murmur2(bytes: Uint8Array): number {
  const m = 0x5bd1e995;
  const len = bytes.length;
  let h = 0x9747b28c ^ len;
  const full = len - (len % 4);
  for (let i = 0; i < full; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = len % 4;
  if (tail === 3) h ^= bytes[full + 2]! << 16;
  if (tail >= 2) h ^= bytes[full + 1]! << 8;
  if (tail >= 1) {
    h ^= bytes[full]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner picks for `key` among `partitions`. */
export function partitionOfKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}
