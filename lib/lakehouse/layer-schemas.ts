/**
 * The lakehouse tables the CDK app declares in Glue: exactly what the handlers write — the core's
 * `layerSchemas(domain)` (SPEC §2) plus the pipeline's `ops/batch_quality` — so Glue and the
 * Parquet files never drift.
 */
import { loadDomain, type TableSchema } from '../../functions/core/index.ts';
import { lakehouseTables as domainTables } from '../../functions/lakehouse/tables.ts';

/** Every lakehouse table of a domain (`config/domains/<name>.yaml`), bronze first. */
export function lakehouseTables(domain = 'payments'): readonly TableSchema[] {
  return domainTables(loadDomain(domain));
}

/** The data buckets. */
export type Layer = 'bronze' | 'silver' | 'gold';

/**
 * The bucket of a table, from the first segment of its path. Operational tables (`ops/...`)
 * live in the gold bucket, under their own `ops/` prefix.
 */
export function layerOf(table: TableSchema): Layer {
  const first = table.path.split('/')[0];
  if (first === 'ops') return 'gold';
  if (first !== 'bronze' && first !== 'silver' && first !== 'gold') {
    throw new Error(`Table path "${table.path}" must start with bronze/, silver/, gold/ or ops/`);
  }
  return first;
}

/** SQL name of a table: the last segment of its path. */
export function sqlNameOf(table: TableSchema): string {
  const name = table.path.split('/').at(-1);
  if (!name) throw new Error(`Table path "${table.path}" has no last segment`);
  return name;
}
