/**
 * Where the lakehouse layers are stored: a local folder (embedded mode) or S3 (local stack, AWS).
 * Keys are `/`-separated relative paths such as `silver/events/dt=2026-01-15/hr=10/events-0-0-99.parquet`.
 */
export interface ObjectStore {
  /** Writes (or overwrites) the object: a redelivered batch that writes the same key replaces it. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The object's bytes, or `undefined` when there is no object at that key. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Keys that start with `prefix` (a plain string prefix, as in S3), sorted. */
  list(prefix: string): Promise<string[]>;
}
