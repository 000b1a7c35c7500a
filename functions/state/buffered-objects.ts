import type { ObjectStore } from '../ports/object-store.ts';

/**
 * The outputs of one attempt, held in memory until the attempt has recorded their keys as its
 * intent (see `fenced.ts`). Reads fall through to the real store.
 */
export class BufferedObjectStore implements ObjectStore {
  private readonly target: ObjectStore;
  private readonly pending = new Map<string, Uint8Array>();

  constructor(target: ObjectStore) {
    this.target = target;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.pending.set(key, bytes);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.pending.get(key) ?? this.target.get(key);
  }

  async list(prefix: string): Promise<string[]> {
    const keys = new Set(await this.target.list(prefix));
    for (const k of this.pending.keys()) if (k.startsWith(prefix)) keys.add(k);
    return [...keys].sort();
  }

  keys(): string[] {
    return [...this.pending.keys()];
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Writes every buffered object to the target, `parallel` at a time. On a failure no further
   * write starts, and the call rejects only once the writes in flight have settled: when an
   * attempt fails, none of its writes is still landing behind the retry.
   */
  async flush(parallel = 8): Promise<void> {
    const entries = [...this.pending.entries()];
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async (): Promise<void> => {
      while (next < entries.length && failure === undefined) {
        const [key, bytes] = entries[next++]!;
        try {
          await this.target.put(key, bytes);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, entries.length) }, worker));
    if (failure !== undefined) throw failure.error;
  }
}
