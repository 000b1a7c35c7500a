import { parentPort, workerData } from 'node:worker_threads';
import { LocalFolderObjectStore } from '../adapters/embedded/local-object-store.ts';
import { writeParts } from '../adapters/parquet/index.ts';
import type { WriteJob, WriteReply } from './write-pool.ts';

/**
 * Worker thread of {@link ParquetWritePool}: encodes each part of a job (columns already checked
 * by the main thread) with the same `writeParts` as an inline write, under the pool's root (same
 * bytes, same keys).
 */

const { root } = workerData as { readonly root: string };
const store = new LocalFolderObjectStore(root);
const port = parentPort;
if (port === null) throw new Error('parquet-worker.ts must run in a worker thread');

port.on('message', (job: WriteJob) => {
  writeParts(store, job.parts, job.options).then(
    (objects) => port.postMessage({ id: job.id, ok: true, objects } satisfies WriteReply),
    (err: unknown) =>
      port.postMessage({
        id: job.id,
        ok: false,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      } satisfies WriteReply),
  );
});
