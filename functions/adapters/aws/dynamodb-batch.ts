/**
 * Batched reads and writes of many small items (the enrich consumer's event ids, the CEP keys):
 * `BatchGetItem` (consistent reads, 100 keys per request) and `BatchWriteItem` (25 puts per
 * request), `concurrency` requests at a time. Throttling is retried by `withRetry`; keys and items
 * DynamoDB hands back unprocessed are sent again with backoff, and still unprocessed after the
 * retry budget they fail the call (the batch is then redelivered: nothing is dropped).
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { backoffMs, type RetryOptions, sleep, withRetry } from './retry.ts';

export type Item = Record<string, AttributeValue>;

/** The state table's TTL attribute (epoch seconds); the CDK side is `lib/stacks/state-stack.ts`. */
export const TTL_ATTRIBUTE = 'expires_at';

export const S = (s: string): AttributeValue => ({ S: s });
export const N = (n: number): AttributeValue => ({ N: String(n) });

export interface BatchOptions {
  /** Requests in flight at once. @default 8 */
  readonly concurrency?: number;
  /** Throttling and unprocessed keys/items. @default 8 tries, 50 ms first backoff */
  readonly retry?: RetryOptions;
}

const READ_BATCH = 100;
const WRITE_BATCH = 25;

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** `fn` over `items`, at most `concurrency` at a time; the first failure rejects. */
async function limited<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), items.length) }, lane));
}

/**
 * Runs `request` until it reports nothing unprocessed, backing off between rounds; fails after the
 * retry budget. Each call of `request` is itself retried on throttling.
 */
async function untilProcessed(
  what: string,
  retry: RetryOptions,
  request: () => Promise<number>,
): Promise<void> {
  const attempts = retry.attempts ?? 8;
  const wait = retry.sleep ?? sleep;
  for (let round = 1; ; round++) {
    const left = await withRetry(request, retry);
    if (left === 0) return;
    if (round >= attempts)
      throw new Error(`${what}: ${left} item(s) still unprocessed after ${round} rounds`);
    await wait(backoffMs(round, retry.baseMs ?? 50, retry.maxMs ?? 2_000));
  }
}

/** The items of `keys` that exist (strongly consistent reads), with the attributes `names` only. */
export async function batchGet(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly Item[],
  names: readonly string[],
  options: BatchOptions = {},
): Promise<Item[]> {
  const found: Item[] = [];
  const retry = options.retry ?? {};
  const attributeNames = Object.fromEntries(names.map((n, i) => [`#a${i}`, n]));
  await limited(chunks(keys, READ_BATCH), options.concurrency ?? 8, async (part) => {
    let pending: Item[] = part;
    await untilProcessed(`BatchGetItem on ${tableName}`, retry, async () => {
      const out = await client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending,
              ConsistentRead: true,
              ProjectionExpression: Object.keys(attributeNames).join(', '),
              ExpressionAttributeNames: attributeNames,
            },
          },
        }),
      );
      for (const item of out.Responses?.[tableName] ?? []) found.push(item);
      pending = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
      return pending.length;
    });
  });
  return found;
}

/** Puts `items` (unconditionally: callers make them idempotent). */
export async function batchPut(
  client: DynamoDBClient,
  tableName: string,
  items: readonly Item[],
  options: BatchOptions = {},
): Promise<void> {
  const retry = options.retry ?? {};
  const requests: WriteRequest[] = items.map((Item) => ({ PutRequest: { Item } }));
  await limited(chunks(requests, WRITE_BATCH), options.concurrency ?? 8, async (part) => {
    let pending: WriteRequest[] = part;
    await untilProcessed(`BatchWriteItem on ${tableName}`, retry, async () => {
      const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = out.UnprocessedItems?.[tableName] ?? [];
      return pending.length;
    });
  });
}
