import { parentPort, workerData } from 'node:worker_threads';
import { LocalFolderObjectStore } from '../adapters/embedded/local-object-store.ts';
import { writeTable } from '../adapters/parquet/index.ts';
import type { WriteJob, WriteReply } from './write-pool.ts';

/**
 * Worker thread of {@link ParquetWritePool}: encodes the rows of one job as Parquet and writes the
 * objects under the pool's root, with the same `writeTable` as an inline write (same bytes, same keys).
 */

const { root } = workerData as { readonly root: string };
const store = new LocalFolderObjectStore(root);
const port = parentPort;
if (port === null) throw new Error('parquet-worker.ts must run in a worker thread');

port.on('message', (job: WriteJob) => {
  writeTable(store, job.schema, job.rows, job.source, job.options).then(
    (objects) => port.postMessage({ id: job.id, ok: true, objects } satisfies WriteReply),
    (err: unknown) =>
      port.postMessage({
        id: job.id,
        ok: false,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      } satisfies WriteReply),
  );
});
