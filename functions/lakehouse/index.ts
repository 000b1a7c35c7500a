/**
 * The lakehouse as SQL (DuckDB, in process) and the views of its domain.
 */
export {
  DOMAIN_MARKER,
  Lakehouse,
  LakehouseNotFoundError,
  type LakehouseOptions,
  LakehouseSchemaError,
  QueryError,
  type QueryResult,
  type Relation,
  type ResultCell,
  readDomainMarker,
  rowObjects,
  sqlName,
  writeDomainMarker,
} from './duckdb.ts';
export { BATCH_QUALITY } from './quality.ts';
export { lakehouseTables } from './tables.ts';
export { athenaToDuckdbType, athenaTypeOf, duckdbTypeOf } from './types.ts';
export { domainViews, parseViewText, type ViewColumn, type ViewDefinition } from './views.ts';
