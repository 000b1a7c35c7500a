import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ObjectStore } from '../../ports/object-store.ts';

/**
 * Copies the lakehouse layers from S3 into a local folder with the same key layout
 * (`<dir>/bronze/...`, `<dir>/silver/...`, `<dir>/gold/...`, `<dir>/ops/...`), so DuckDB and the
 * embedded checks read a local-stack run exactly like an embedded one. Spilled state
 * (`ops/state/`) and dead-letter spills are left out. Returns the number of objects copied.
 */
export async function copyLayers(
  objects: ObjectStore,
  dir: string,
  options: { readonly parallel?: number; readonly onObject?: (done: number, total: number) => void } = {},
): Promise<{ objects: number; bytes: number }> {
  const keys: string[] = [];
  for (const prefix of ['bronze/', 'silver/', 'gold/', 'ops/']) {
    for (const key of await objects.list(prefix)) {
      if (key.startsWith('ops/state/') || key.startsWith('ops/dead_letters/')) continue;
      keys.push(key);
    }
  }
  let next = 0;
  let done = 0;
  let bytesCopied = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const bytes = await objects.get(key);
      if (bytes === undefined) continue;
      const file = join(dir, ...key.split('/'));
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, bytes);
      bytesCopied += bytes.byteLength;
      options.onObject?.(++done, keys.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.parallel ?? 8, keys.length) }, worker));
  return { objects: keys.length, bytes: bytesCopied };
}
