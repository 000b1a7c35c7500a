import type { LambdaKafkaEvent } from '../../functions/core/kafka.ts';
import type { LocalKafkaHandler } from './types.ts';

interface Span {
  readonly partitions: readonly string[];
  readonly start: number;
  readonly end: number;
}

/**
 * When each invocation of a handler ran and on which partitions: tells whether invocations of
 * different partitions overlapped in time (they should: no partition waits for another) and
 * whether two of one partition ever did (they must not: the mapping keeps a partition in order).
 */
export class InvocationTimeline {
  private readonly spans: Span[] = [];

  wrap(h: LocalKafkaHandler): LocalKafkaHandler {
    return async (event, context) => {
      const start = performance.now();
      try {
        return await h(event, context);
      } finally {
        const partitions = Object.keys((event as LambdaKafkaEvent).records ?? {});
        this.spans.push({ partitions, start, end: performance.now() });
      }
    };
  }

  get invocations(): number {
    return this.spans.length;
  }

  /** Time, ms, during which at least two invocations on different partitions ran at once. */
  overlapMs(): number {
    const edges: Array<[number, number]> = [];
    for (const s of this.spans) edges.push([s.start, 1], [s.end, -1]);
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let since = 0;
    let total = 0;
    for (const [t, d] of edges) {
      if (running >= 2) total += t - since;
      running += d;
      since = t;
    }
    return total;
  }

  /** Pairs of invocations of one partition that ran at once (0 when partition order holds). */
  samePartitionOverlaps(): number {
    let n = 0;
    const s = [...this.spans].sort((a, b) => a.start - b.start);
    for (let i = 0; i < s.length; i++) {
      for (let j = i + 1; j < s.length && s[j]!.start < s[i]!.end; j++) {
        if (s[i]!.partitions.some((p) => s[j]!.partitions.includes(p))) n++;
      }
    }
    return n;
  }
}
