import { parentPort, workerData } from 'node:worker_threads';
import { LocalFolderObjectStore } from '../adapters/embedded/local-object-store.ts';
import { encodeColumns, type WrittenObject } from '../adapters/parquet/index.ts';
import type { WriteJob, WriteReply } from './write-pool.ts';

/**
 * Worker thread of {@link ParquetWritePool}: encodes each part of a job (columns already checked
 * by the main thread) as Parquet with the same `encodeColumns` as an inline write, and writes the
 * objects under the pool's root (same bytes, same keys).
 */

const { root } = workerData as { readonly root: string };
const store = new LocalFolderObjectStore(root);
const port = parentPort;
if (port === null) throw new Error('parquet-worker.ts must run in a worker thread');

async function write(job: WriteJob): Promise<WrittenObject[]> {
  const objects: WrittenObject[] = [];
  for (const part of job.parts) {
    const bytes = encodeColumns(part.columns, part.rows, job.options);
    await store.put(part.key, bytes);
    objects.push({ key: part.key, rows: part.rows, bytes: bytes.length });
  }
  return objects;
}

port.on('message', (job: WriteJob) => {
  write(job).then(
    (objects) => port.postMessage({ id: job.id, ok: true, objects } satisfies WriteReply),
    (err: unknown) =>
      port.postMessage({
        id: job.id,
        ok: false,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      } satisfies WriteReply),
  );
});
