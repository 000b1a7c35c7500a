/**
 * Test doubles and factories for the pipeline stages: an in-memory object store that records
 * every put, a dead-letter sink and a stage context over the payments domain.
 */
import {
  MemoryAlertSink,
  MemoryStateStore,
  MetricsCollector,
} from '../../../functions/adapters/embedded/index.ts';
import type { SourceRange } from '../../../functions/adapters/parquet/index.ts';
import { type DeadLetter, type Domain, loadDomain } from '../../../functions/core/index.ts';
import type { StageContext } from '../../../functions/pipeline/index.ts';
import type { DeadLetterSink } from '../../../functions/ports/dead-letter-sink.ts';
import type { SourceBatch, SourceRecord } from '../../../functions/ports/event-source.ts';
import type { ObjectStore } from '../../../functions/ports/object-store.ts';

export const payments = loadDomain('payments');

/** Keeps objects in a Map; `puts` lists every key written, in order (overwrites included). */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, Uint8Array>();
  readonly puts: string[] = [];
  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.objects.set(key, bytes);
    this.puts.push(key);
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

export class MemoryDeadLetterSink implements DeadLetterSink {
  readonly sent: Array<{ source: SourceRange; letters: readonly DeadLetter[] }> = [];
  get letters(): DeadLetter[] {
    return this.sent.flatMap((s) => s.letters);
  }
  async send(source: SourceRange, letters: readonly DeadLetter[]): Promise<void> {
    this.sent.push({ source, letters });
  }
}

export interface TestContext extends StageContext {
  readonly objects: MemoryObjectStore;
  readonly state: MemoryStateStore;
  readonly metrics: MetricsCollector;
  readonly deadLetters: MemoryDeadLetterSink;
  readonly alerts: MemoryAlertSink;
}

export function testContext(domain: Domain = payments, state = new MemoryStateStore()): TestContext {
  return {
    domain,
    objects: new MemoryObjectStore(),
    state,
    metrics: new MetricsCollector(),
    deadLetters: new MemoryDeadLetterSink(),
    alerts: new MemoryAlertSink(),
    clock: () => Date.UTC(2026, 10, 2, 12),
  };
}

export const T0 = Date.UTC(2026, 10, 2, 8, 0, 0);
export const TOPIC = 'raw-events';

/** A valid payments event value (a transaction unless overridden). */
export function eventValue(i: number, patch: Record<string, unknown> = {}): string {
  return JSON.stringify({
    event_id: `e-${i}`,
    event_type: 'transaction',
    user_id: `u-${i % 3}`,
    ts: new Date(T0 + i * 1000).toISOString(),
    amount: 10 + i,
    currency: 'USD',
    merchant_id: `m-${i % 5}`,
    ...patch,
  });
}

export function rec(offset: number, value: string | null, key: string | null = null): SourceRecord {
  return { topic: TOPIC, partition: 0, offset, kafkaTs: T0, key, value, headers: [] };
}

/** A batch of `rec`s for offsets `from..from+values.length-1`. */
export function batchOf(from: number, values: ReadonlyArray<string | null>): SourceBatch {
  return { topic: TOPIC, partition: 0, records: values.map((v, i) => rec(from + i, v)) };
}
