import type { EngineConfig } from '../../../localstack/esm/engine.ts';
import type { PolledRecord } from '../../../localstack/esm/event.ts';

/** A record of `topic`/`partition` at `offset`, value `v<offset>` (or `bytes` long). */
export function rec(
  offset: number,
  options: { topic?: string; partition?: number; timestamp?: number; bytes?: number } = {},
): PolledRecord {
  return {
    topic: options.topic ?? 't',
    partition: options.partition ?? 0,
    offset,
    timestamp: options.timestamp ?? 1_000_000,
    key: Buffer.from(`k${offset}`),
    value: options.bytes === undefined ? Buffer.from(`v${offset}`) : Buffer.alloc(options.bytes, 1),
    headers: [],
  };
}

export function range(from: number, to: number, options: Parameters<typeof rec>[1] = {}): PolledRecord[] {
  const out: PolledRecord[] = [];
  for (let o = from; o < to; o++) out.push(rec(o, options));
  return out;
}

export const baseConfig: EngineConfig = {
  batchSize: 100,
  batchingWindowMs: 500,
  maxPayloadBytes: 6 * 1024 * 1024,
  maxRetries: 2,
  maxRecordAgeMs: undefined,
  bisectOnError: false,
  reportBatchItemFailures: true,
  hasOnFailureDestination: true,
  pollers: 1,
  invocationsPerPoller: 5,
  bootstrapServers: '127.0.0.1:9092',
};

/** A settable clock. */
export function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

export function ids(): () => string {
  let n = 0;
  return () => `req-${++n}`;
}
