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
 * Nothing is carried over from a state saved before this store (an upgrade forgets the ids seen
 * before it: a duplicate of an event from before the upgrade can pass once).
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { type DedupCandidate, type DedupOccurrence, decideDuplicates } from '../../core/index.ts';
import type { DedupStore } from '../../ports/dedup-store.ts';
import { backoffMs, type RetryOptions, sleep, withRetry } from './retry.ts';

/** TTL attribute of the state table (epoch seconds); see `lib/stacks/state-stack.ts`. */
const TTL_ATTRIBUTE = 'expires_at';
const READ_BATCH = 100;
const WRITE_BATCH = 25;

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

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: number): AttributeValue => ({ N: String(n) });

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

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export class DynamoDbDedupStore implements DedupStore {
  private readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly retentionMs: number;
  private readonly concurrency: number;
  private readonly retry: RetryOptions;
  private readonly clock: () => number;

  constructor(options: DynamoDbDedupStoreOptions) {
    if (!(options.retentionMs > 0))
      throw new RangeError(`retentionMs must be > 0, got ${options.retentionMs}`);
    this.tableName = options.tableName;
    this.client = options.client;
    this.retentionMs = options.retentionMs;
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    this.retry = options.retry ?? {};
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
    const known = new Map<string, DedupOccurrence[]>();
    const table = this.tableName;
    await this.limited(chunks(ids, READ_BATCH), async (part) => {
      let keys: Record<string, AttributeValue>[] = part.map((id) => ({ pk: S(pk), sk: S(id) }));
      await this.untilProcessed('BatchGetItem', async () => {
        const out = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [table]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: '#sk, #occ',
                ExpressionAttributeNames: { '#sk': 'sk', '#occ': 'occ' },
              },
            },
          }),
        );
        for (const item of out.Responses?.[table] ?? []) {
          const id = item['sk']?.S;
          if (id !== undefined) known.set(id, readOccurrences(item['occ']));
        }
        keys = out.UnprocessedKeys?.[table]?.Keys ?? [];
        return keys.length;
      });
    });
    return known;
  }

  private async write(pk: string, remember: ReadonlyMap<string, readonly DedupOccurrence[]>): Promise<void> {
    const now = this.clock();
    const requests: WriteRequest[] = [];
    for (const [id, list] of remember) {
      let newest = now;
      for (const o of list) if (o.ts > newest) newest = o.ts;
      requests.push({
        PutRequest: {
          Item: {
            pk: S(pk),
            sk: S(id),
            occ: { L: list.map((o) => ({ L: [N(o.offset), N(o.ts)] })) },
            [TTL_ATTRIBUTE]: N(Math.ceil((newest + this.retentionMs) / 1000)),
          },
        },
      });
    }
    const table = this.tableName;
    await this.limited(chunks(requests, WRITE_BATCH), async (part) => {
      let pending: WriteRequest[] = part;
      await this.untilProcessed('BatchWriteItem', async () => {
        const out = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        pending = out.UnprocessedItems?.[table] ?? [];
        return pending.length;
      });
    });
  }

  /**
   * Runs `request` (each call with the SDK's and `withRetry`'s retries on throttling) until it
   * reports nothing unprocessed, backing off between rounds; fails after the retry budget.
   */
  private async untilProcessed(what: string, request: () => Promise<number>): Promise<void> {
    const attempts = this.retry.attempts ?? 8;
    const wait = this.retry.sleep ?? sleep;
    for (let round = 1; ; round++) {
      const left = await withRetry(request, this.retry);
      if (left === 0) return;
      if (round >= attempts)
        throw new Error(
          `${what} on ${this.tableName}: ${left} item(s) still unprocessed after ${round} rounds`,
        );
      await wait(backoffMs(round, this.retry.baseMs ?? 50, this.retry.maxMs ?? 2_000));
    }
  }

  /** `fn` over `items`, at most `concurrency` at a time; the first failure rejects. */
  private async limited<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < items.length) await fn(items[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, lane));
  }
}
