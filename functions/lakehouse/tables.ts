import { type Domain, layerSchemas } from '../core/index.ts';
import type { TableSchema } from '../core/model.ts';
import { BATCH_QUALITY } from './quality.ts';

/** Every table of a domain's lakehouse: the SPEC §2 layers and `ops/batch_quality`. */
export function lakehouseTables(domain: Domain): TableSchema[] {
  return [...layerSchemas(domain).all, BATCH_QUALITY];
}
