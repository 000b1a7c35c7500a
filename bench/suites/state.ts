/**
 * What a cold execution environment pays to load a partition's state (issue 14): Lambda gives no
 * partition-to-environment affinity, so a batch that lands in an environment that did not run its
 * partition last reads the state from S3 and decodes it. The largest state is enrich's seen ids:
 * up to the domain's `dedup.max_entries` per partition (5M by default, reached at about 60 ev/s
 * per partition over a 24 h horizon), 16 bytes each.
 *
 *   npm run bench -- state [--ids 5000000] [--json]
 *
 * Reports the snapshot's bytes (host-independent) and the time to encode and decode it in this
 * process (median of 3; host-dependent: read it as an order of magnitude, on a 1 GB function's
 * 0.58 vCPU about 1.7x longer), and the decode rate in MB/s.
 */
import { randomFillSync } from 'node:crypto';
import { DedupDelta, HashedDedupSet, loadDomain } from '../../functions/core/index.ts';
import { argValue, type BenchSuite } from '../suite.ts';

const HOUR = 3_600_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

let lastSummary: Record<string, unknown> | undefined;

export const suite: BenchSuite = {
  name: 'state',
  summary: () => lastSummary,
  description: 'cold load of a partition state: the dedup set at the domain cap (bytes, encode, decode)',
  run(ctx) {
    const domain = loadDomain('payments');
    const ids = Number(argValue(ctx.args, 'ids', String(domain.dedup.maxEntries)));
    ctx.log(`building a seen-set of ${ids.toLocaleString('en-US')} ids over 24 hour buckets`);
    // Random 128-bit hashes (as MD5 gives), event times spread over the retention horizon.
    const set = new HashedDedupSet({ dedup: { ...domain.dedup, maxEntries: Math.max(ids, 1) } });
    const words = new Uint32Array(4 * 65_536);
    const h = new Uint32Array(4);
    const start = 1_767_225_600_000;
    for (let i = 0; i < ids; i++) {
      const j = i % 65_536;
      if (j === 0) randomFillSync(words);
      h.set(words.subarray(4 * j, 4 * j + 4));
      set.isDuplicate(h, start + Math.floor((i / ids) * 24 * HOUR));
    }
    const encodeMs: number[] = [];
    const decodeMs: number[] = [];
    let bytes: Uint8Array = new Uint8Array(0);
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      bytes = set.toBytes();
      encodeMs.push(performance.now() - t0);
      const t1 = performance.now();
      const back = HashedDedupSet.fromBytes(domain, bytes);
      decodeMs.push(performance.now() - t1);
      if (back.size !== set.size) throw new Error(`decoded ${back.size} ids of ${set.size}`);
    }
    // A batch's delta of 2,000 new ids, for scale.
    const delta = new DedupDelta();
    for (let i = 0; i < 2000; i++) delta.add(h, start);
    const mb = bytes.byteLength / 1e6;
    const decode = median(decodeMs);
    lastSummary = {
      ids: set.size,
      snapshot_bytes: bytes.byteLength,
      delta_bytes_per_2000_ids: delta.toBytes().byteLength,
      encode_ms: median(encodeMs),
      decode_ms: decode,
      decode_mb_per_s: mb / (decode / 1000),
    };
    const note = `${set.size.toLocaleString('en-US')} ids; median of 3, this host`;
    return [
      { measure: 'dedup snapshot at the cap', value: mb, unit: 'MB', higherIsBetter: false, note },
      { measure: 'dedup snapshot encode', value: median(encodeMs), unit: 'ms', higherIsBetter: false, note },
      {
        measure: 'dedup snapshot decode (a cold load)',
        value: decode,
        unit: 'ms',
        higherIsBetter: false,
        note,
      },
      { measure: 'dedup snapshot decode rate', value: mb / (decode / 1000), unit: 'MB/s', note },
    ];
  },
};
