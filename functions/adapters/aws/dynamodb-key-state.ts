/**
 * Per-key stage state in DynamoDB, one item per key (a `KeyStateStore`): the CEP consumer's user
 * states, which SPEC §4 wants bounded and expiring by DynamoDB TTL.
 *
 * Why not in the state item: every key of the partition that is still within its TTL would be
 * rewritten at every commit (measured: 2.9 MB of JSON per 10k keys; CEP was half of all DynamoDB
 * write units on the local stack). Here an invocation reads and writes only the keys of its batch.
 *
 * Items live in the state table: `pk = <prefix>#<topic>#<partition>`, `sk = <key>`, `st` the state
 * as JSON and `ap` the offset it was applied up to, `pst`/`pap` the committed version before it
 * (see the core's `Versioned`: a dead attempt's writes are ignored by its retry), and the table's
 * TTL attribute `expires_at` = max(the state's own expiry in event time, now + `ttlMs`) plus a day,
 * in epoch seconds: DynamoDB deletes an item only well after nothing can read it any more (the
 * stage also ignores a loaded state that expired by the partition's event time: deletion by TTL
 * is a clean-up, never part of the result).
 *
 * Cost: 1 read unit per key of a batch (consistent, item < 4 KB) and ceil(item size / 1 KB) write
 * units per key (about 1: a CEP state is a few hundred bytes, twice).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type CepKeyState, cepConfig, type Domain, type Versioned } from '../../core/index.ts';
import type { KeyStateStore } from '../../ports/key-state-store.ts';
import { batchGet, batchPut, type Item, N, S, TTL_ATTRIBUTE } from './dynamodb-batch.ts';
import type { RetryOptions } from './retry.ts';

const DAY_MS = 86_400_000;

export interface DynamoDbKeyStateStoreOptions<S> {
  /** The state table (`pk`/`sk` strings, TTL on `expires_at`). */
  readonly tableName: string;
  readonly client: DynamoDBClient;
  /** First part of `pk` (`cep`). */
  readonly prefix: string;
  /** Wall-clock lifetime of an item after its write, at least (the CEP state TTL). */
  readonly ttlMs: number;
  /** A state's own expiry, epoch ms of event time (CEP: `expiresAt`). */
  readonly expiresAt: (state: S) => number;
  /** Requests in flight at once. @default 8 */
  readonly concurrency?: number;
  readonly retry?: RetryOptions;
  /** @default Date.now */
  readonly clock?: () => number;
}

export class DynamoDbKeyStateStore<S> implements KeyStateStore<S> {
  private readonly options: DynamoDbKeyStateStoreOptions<S>;
  private readonly batch: { readonly concurrency: number; readonly retry: RetryOptions };
  private readonly clock: () => number;

  constructor(options: DynamoDbKeyStateStoreOptions<S>) {
    if (!(options.ttlMs > 0)) throw new RangeError(`ttlMs must be > 0, got ${options.ttlMs}`);
    this.options = options;
    this.batch = { concurrency: options.concurrency ?? 8, retry: options.retry ?? {} };
    this.clock = options.clock ?? Date.now;
  }

  private pk(at: { readonly topic: string; readonly partition: number }): string {
    return `${this.options.prefix}#${at.topic}#${at.partition}`;
  }

  async load(
    at: { readonly topic: string; readonly partition: number },
    keys: readonly string[],
  ): Promise<Map<string, Versioned<S>>> {
    const out = new Map<string, Versioned<S>>();
    if (keys.length === 0) return out;
    const pk = this.pk(at);
    const items = await batchGet(
      this.options.client,
      this.options.tableName,
      [...new Set(keys)].map((k): Item => ({ pk: S(pk), sk: S(k) })),
      ['sk', 'st', 'ap', 'pst', 'pap'],
      this.batch,
    );
    for (const item of items) {
      const key = item['sk']?.S;
      const st = item['st']?.S;
      const ap = Number(item['ap']?.N);
      if (key === undefined || st === undefined || !Number.isSafeInteger(ap)) {
        throw new Error(`${this.options.tableName}: malformed key-state item ${pk} / ${String(key)}`);
      }
      const pst = item['pst']?.S;
      const pap = item['pap']?.N;
      out.set(key, {
        state: JSON.parse(st) as S,
        applied: ap,
        prev: pst === undefined ? null : (JSON.parse(pst) as S),
        prevApplied: pap === undefined ? null : Number(pap),
      });
    }
    return out;
  }

  async save(
    at: { readonly topic: string; readonly partition: number },
    items: ReadonlyMap<string, Versioned<S>>,
  ): Promise<void> {
    if (items.size === 0) return;
    const pk = this.pk(at);
    const now = this.clock();
    const rows: Item[] = [];
    for (const [key, v] of items) {
      const expires = Math.max(this.options.expiresAt(v.state), now + this.options.ttlMs) + DAY_MS;
      rows.push({
        pk: S(pk),
        sk: S(key),
        st: S(JSON.stringify(v.state)),
        ap: N(v.applied),
        ...(v.prev === null || v.prevApplied === null
          ? {}
          : { pst: S(JSON.stringify(v.prev)), pap: N(v.prevApplied) }),
        [TTL_ATTRIBUTE]: N(Math.ceil(expires / 1000)),
      });
    }
    await batchPut(this.options.client, this.options.tableName, rows, this.batch);
  }
}

/**
 * The CEP consumer's key store (items `cep#<topic>#<partition>` / `<key>`, TTL from the domain's
 * CEP state TTL) as consumer dependencies to spread: `{ cepKeys }`, or nothing for a domain
 * without CEP.
 */
export function withCepKeys(
  domain: Domain,
  client: DynamoDBClient,
  tableName: string,
  retry?: RetryOptions,
): { readonly cepKeys?: DynamoDbKeyStateStore<CepKeyState> } {
  const cfg = cepConfig(domain);
  if (cfg === null) return {};
  return {
    cepKeys: new DynamoDbKeyStateStore<CepKeyState>({
      tableName,
      client,
      prefix: 'cep',
      ttlMs: cfg.ttlMs,
      expiresAt: (s) => s.expiresAt,
      ...(retry ? { retry } : {}),
    }),
  };
}
