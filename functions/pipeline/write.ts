import { type SourceRange, type WrittenObject, writeTable } from '../adapters/parquet/index.ts';
import type { Row, TableSchema } from '../core/index.ts';
import type { StageContext } from './context.ts';

/** What a stage wrote to the lakehouse: the objects, and their rows per table path. */
export interface Written {
  readonly objects: WrittenObject[];
  readonly rows: Record<string, number>;
}

export function emptyWritten(): Written {
  return { objects: [], rows: {} };
}

/**
 * Writes `rows` of one table as Parquet, one object per Hive partition, named from `source`, with
 * `processed_at` (the table's `writeTime` columns) set to the time of the write on `ctx.clock`.
 * Adds what was written to `into`; returns the number of rows written. With `ctx.writes` the
 * write is only queued: the rows are counted in `into` now, the objects listed by `ctx.writes`.
 */
export async function writeRows(
  ctx: StageContext,
  schema: TableSchema,
  rows: readonly Row[],
  source: SourceRange,
  into: Written,
): Promise<number> {
  if (rows.length === 0) return 0;
  // The processing time of these rows (`processed_at`, SPEC §2): now, on the stage's clock.
  const writtenAt = (ctx.clock ?? Date.now)();
  if (ctx.writes !== undefined) {
    // Every row lands in one partition's object (groupByPartition), so all are counted now.
    await ctx.writes.submit(schema, rows, source, writtenAt);
    into.rows[schema.path] = (into.rows[schema.path] ?? 0) + rows.length;
    return rows.length;
  }
  const objects = await writeTable(ctx.objects, schema, rows, source, { ...ctx.parquet, writtenAt });
  let n = 0;
  for (const o of objects) {
    into.objects.push(o);
    n += o.rows;
  }
  into.rows[schema.path] = (into.rows[schema.path] ?? 0) + n;
  return n;
}

/** Waits for the deferred writes of `ctx` (call before saving a stage's state: SPEC §5). */
export async function flushWrites(ctx: StageContext): Promise<void> {
  if (ctx.writes !== undefined) await ctx.writes.drain();
}
