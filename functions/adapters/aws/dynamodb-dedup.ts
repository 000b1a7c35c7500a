/**
 * The enrich consumer's seen event ids in DynamoDB, one small item per id (a `DedupStore`).
 *
 * Why not in the state item: the ids of the retention period (24 h by default) would be rewritten
 * at every commit. Measured on the local stack: 357 KB gzip'd after 17k events of one partition,
 * and UUIDs do not compress; at production rates that is tens of MB loaded and saved per
 * invocation. Here a batch reads and writes only its own ids.
 *
 * Items live in the state table: `pk = dedup#<topic>#<partition>`, `sk = <id>`, `occ` = the id's
 * occurrences `[offset, event time]` (its last committed one and any later one a dead attempt
 * wrote: see the core's `decideDuplicates`), and the table's TTL attribute `expires_at` =
 * (max(newest event time, now) + retention) in epoch seconds, so an item lives at least the
 * retention in wall-clock time too (a replay of old events does not see its items deleted under
 * it). Per batch: `BatchGetItem` (consistent reads, 100 keys per request) for the
 * batch's distinct ids, the core's `decideDuplicates`, then `BatchWriteItem` (25 puts per request)
 * of the occurrences to remember. Unprocessed keys and items are retried with backoff; requests run
 * `concurrency` at a time.
 *
 * No transaction with the state commit is needed: an item records WHICH records (offsets) were the
 * id's occurrences, so a batch retried after a death (even bisected) gets the same answers from the
 * items its dead attempt wrote (property-tested in `test/unit/core/dedup.test.ts`). One attempt
 * per partition runs at a time (the event source mapping reads a partition in order); a zombie
 * attempt of the same batch decides the same.
 *
 * Cost: 1 read unit (consistent, item < 4 KB) and 1 write unit (item < 1 KB) per valid event.
 * The domain's `dedup.max_entries` does not apply here: the table has no such limit, and the TTL
 * removes ids after their retention.
 * Nothing is carried over from a state saved before this store (an upgrade forgets the ids seen
 * before it: a duplicate of an event from before the upgrade can pass once).
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type DedupCandidate,
  type DedupOccurrence,
  type Domain,
  decideDuplicates,
} from '../../core/index.ts';
import type { DedupStore } from '../../ports/dedup-store.ts';
import { batchGet, batchPut, type Item, N, S, TTL_ATTRIBUTE } from './dynamodb-batch.ts';
import type { RetryOptions } from './retry.ts';

export interface DynamoDbDedupStoreOptions {
  /** The state table (`pk`/`sk` strings, TTL on `expires_at`). */
  readonly tableName: string;
  readonly client: DynamoDBClient;
  /** How long an id is remembered, in event time (the domain's `dedup.retention`). */
  readonly retentionMs: number;
  /** Requests in flight at once. @default 8 */
  readonly concurrency?: number;
  /** Throttling and unprocessed keys/items. @default 8 tries, 50 ms first backoff */
  readonly retry?: RetryOptions;
  /** Wall clock for the TTL. @default Date.now */
  readonly clock?: () => number;
}

/** `occ` of an item: `[[offset, ts], ...]` in ascending offsets (malformed entries dropped). */
function readOccurrences(a: AttributeValue | undefined): DedupOccurrence[] {
  const out: DedupOccurrence[] = [];
  for (const e of a?.L ?? []) {
    const offset = Number(e.L?.[0]?.N);
    const ts = Number(e.L?.[1]?.N);
    if (Number.isSafeInteger(offset) && Number.isFinite(ts)) out.push({ offset, ts });
  }
  return out.sort((x, y) => x.offset - y.offset);
}

export class DynamoDbDedupStore implements DedupStore {
  private readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly retentionMs: number;
  private readonly batch: { readonly concurrency: number; readonly retry: RetryOptions };
  private readonly clock: () => number;

  constructor(options: DynamoDbDedupStoreOptions) {
    if (!(options.retentionMs > 0))
      throw new RangeError(`retentionMs must be > 0, got ${options.retentionMs}`);
    this.tableName = options.tableName;
    this.client = options.client;
    this.retentionMs = options.retentionMs;
    this.batch = { concurrency: options.concurrency ?? 8, retry: options.retry ?? {} };
    this.clock = options.clock ?? Date.now;
  }

  async duplicates(
    at: { readonly topic: string; readonly partition: number },
    candidates: readonly DedupCandidate[],
    committed: number | null,
  ): Promise<boolean[]> {
    if (candidates.length === 0) return [];
    const pk = `dedup#${at.topic}#${at.partition}`;
    const known = await this.read(pk, [...new Set(candidates.map((c) => c.id))]);
    const { duplicates, remember } = decideDuplicates(candidates, known, this.retentionMs, committed);
    await this.write(pk, remember);
    return duplicates;
  }

  /** The remembered occurrences of `ids`. */
  private async read(pk: string, ids: readonly string[]): Promise<Map<string, DedupOccurrence[]>> {
    const keys = ids.map((id): Item => ({ pk: S(pk), sk: S(id) }));
    const items = await batchGet(this.client, this.tableName, keys, ['sk', 'occ'], this.batch);
    const known = new Map<string, DedupOccurrence[]>();
    for (const item of items) {
      const id = item['sk']?.S;
      if (id !== undefined) known.set(id, readOccurrences(item['occ']));
    }
    return known;
  }

  private async write(pk: string, remember: ReadonlyMap<string, readonly DedupOccurrence[]>): Promise<void> {
    const now = this.clock();
    const items: Item[] = [];
    for (const [id, list] of remember) {
      let newest = now;
      for (const o of list) if (o.ts > newest) newest = o.ts;
      items.push({
        pk: S(pk),
        sk: S(id),
        occ: { L: list.map((o) => ({ L: [N(o.offset), N(o.ts)] })) },
        [TTL_ATTRIBUTE]: N(Math.ceil((newest + this.retentionMs) / 1000)),
      });
    }
    await batchPut(this.client, this.tableName, items, this.batch);
  }
}

/**
 * The enrich consumer's id store (retention from the domain's `dedup.retention`) as consumer
 * dependencies to spread: `{ dedup }`.
 */
export function withDedupStore(
  domain: Domain,
  client: DynamoDBClient,
  tableName: string,
  retry?: RetryOptions,
): { readonly dedup: DynamoDbDedupStore } {
  return {
    dedup: new DynamoDbDedupStore({
      tableName,
      client,
      retentionMs: domain.dedup.retentionMs,
      ...(retry ? { retry } : {}),
    }),
  };
}
