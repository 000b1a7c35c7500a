import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { ObjectStore } from '../../ports/object-store.ts';
import { type RetryOptions, withRetry } from './retry.ts';

/**
 * The lakehouse on S3: one bucket per layer, chosen from the key's first segment (`bronze/...`,
 * `silver/...`, `gold/...`, `ops/...`). Keys keep their layer prefix inside the bucket, so the
 * Glue table locations are `s3://<bucket>/<layer>/<table>/`. Keys are deterministic (SPEC §2), so
 * a redelivered batch overwrites its own objects.
 */
export interface LayerBuckets {
  readonly bronze: string;
  readonly silver: string;
  readonly gold: string;
  /** `ops/...` keys. @default the gold bucket */
  readonly ops?: string;
}

export interface S3ObjectStoreOptions {
  readonly buckets: LayerBuckets;
  /** @default a new `S3Client` from the environment */
  readonly client?: S3Client;
  readonly retry?: RetryOptions;
}

export class S3ObjectStore implements ObjectStore {
  readonly client: S3Client;
  private readonly buckets: LayerBuckets;
  private readonly retry: RetryOptions | undefined;

  constructor(options: S3ObjectStoreOptions) {
    this.client = options.client ?? new S3Client({});
    this.buckets = options.buckets;
    this.retry = options.retry;
  }

  /** The bucket of a key, from its layer prefix; throws on a key outside the four layers. */
  bucketOf(key: string): string {
    const layer = key.slice(0, key.indexOf('/'));
    let bucket: string | undefined;
    switch (layer) {
      case 'bronze':
        bucket = this.buckets.bronze;
        break;
      case 'silver':
        bucket = this.buckets.silver;
        break;
      case 'gold':
        bucket = this.buckets.gold;
        break;
      case 'ops':
        bucket = this.buckets.ops || this.buckets.gold;
        break;
      default:
        throw new RangeError(
          `object key ${JSON.stringify(key)} has no layer prefix: expected bronze/, silver/, gold/ or ops/`,
        );
    }
    if (!bucket)
      throw new RangeError(`no bucket configured for ${layer}/ (object ${key}): set its TIDEWATER_*_BUCKET`);
    return bucket;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const Bucket = this.bucketOf(key);
    await withRetry(
      () => this.client.send(new PutObjectCommand({ Bucket, Key: key, Body: bytes })),
      this.retry,
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const Bucket = this.bucketOf(key);
    try {
      const out = await withRetry(
        () => this.client.send(new GetObjectCommand({ Bucket, Key: key })),
        this.retry,
      );
      return out.Body === undefined ? new Uint8Array() : await out.Body.transformToByteArray();
    } catch (err) {
      if (err instanceof NoSuchKey || (err instanceof Error && err.name === 'NoSuchKey')) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const Bucket = this.bucketOf(prefix);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await withRetry(
        () =>
          this.client.send(
            new ListObjectsV2Command({
              Bucket,
              Prefix: prefix,
              ...(token ? { ContinuationToken: token } : {}),
            }),
          ),
        this.retry,
      );
      for (const o of out.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys.sort();
  }

  /** Deletes the keys (missing ones are fine); per-key errors are retried, then thrown. */
  async delete(keys: readonly string[]): Promise<void> {
    const byBucket = new Map<string, string[]>();
    for (const key of keys) {
      const b = this.bucketOf(key);
      let list = byBucket.get(b);
      if (list === undefined) {
        list = [];
        byBucket.set(b, list);
      }
      list.push(key);
    }
    for (const [Bucket, all] of byBucket) {
      for (let i = 0; i < all.length; i += 1000) {
        let pending = all.slice(i, i + 1000);
        await withRetry(async () => {
          const out = await this.client.send(
            new DeleteObjectsCommand({
              Bucket,
              Delete: { Objects: pending.map((Key) => ({ Key })), Quiet: true },
            }),
          );
          const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey').map((e) => e.Key ?? '');
          if (failed.length > 0) {
            pending = failed;
            const err = new Error(`S3 DeleteObjects failed for ${failed.length} key(s) in ${Bucket}`);
            err.name = 'ServiceUnavailable';
            throw err;
          }
        }, this.retry);
      }
    }
  }
}
