/** Seeded pseudo-randomness for the generator and tests: fast, deterministic, no global state. */

const HEX = '0123456789abcdef';

/** A sfc32 generator seeded from one 32-bit integer; `next()` is uniform in [0, 1). */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** 32 hex digits shaped as a UUID v4. */
  uuid(): string {
    let out = '';
    for (let i = 0; i < 32; i++) {
      if (i === 8 || i === 12 || i === 16 || i === 20) out += '-';
      out += i === 12 ? '4' : i === 16 ? HEX[8 + this.int(4)] : HEX[this.int(16)];
    }
    return out;
  }
}

const GUIDE = 4096;

/** Samples ranks 0..n-1 with P(rank k) proportional to 1 / (k + 1)^s. */
export class Zipf {
  private readonly cdf: Float64Array;
  /**
   * guide[b] = the first rank whose cdf >= b / GUIDE (n - 1 when none): a sample u in
   * [b / GUIDE, (b + 1) / GUIDE) lies in ranks guide[b]..guide[b + 1], so the binary search runs
   * on that short range and returns exactly what a search of the whole table would. GUIDE is a
   * power of two, so `u * GUIDE` and `b / GUIDE` are exact.
   */
  private readonly guide: Int32Array;

  constructor(n: number, s: number) {
    this.cdf = new Float64Array(n);
    let total = 0;
    for (let k = 0; k < n; k++) {
      total += 1 / (k + 1) ** s;
      this.cdf[k] = total;
    }
    for (let k = 0; k < n; k++) this.cdf[k]! /= total;
    this.guide = new Int32Array(GUIDE + 1);
    for (let b = 0; b <= GUIDE; b++) this.guide[b] = this.search(b / GUIDE, 0, n - 1);
  }

  /** The first rank in lo..hi whose cdf >= u (hi when none). */
  private search(u: number, lo: number, hi: number): number {
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get size(): number {
    return this.cdf.length;
  }

  sample(rng: Random): number {
    const u = rng.next();
    const b = Math.floor(u * GUIDE);
    return this.search(u, this.guide[b]!, this.guide[b + 1]!);
  }
}
