import type { Domain } from '../core/index.ts';
import { lakehouseTablesOf } from '../core/index.ts';
import type { TableSchema } from '../core/model.ts';

/** Every table of a domain's lakehouse: the SPEC §2 layers and `ops/batch_quality`. */
export function lakehouseTables(domain: Domain): TableSchema[] {
  return lakehouseTablesOf(domain);
}
