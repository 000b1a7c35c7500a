/**
 * The lakehouse as SQL (DuckDB, in process) and the views of its domain.
 */
export {
  DOMAIN_MARKER,
  Lakehouse,
  LakehouseNotFoundError,
  LakehouseSchemaError,
  readDomainMarker,
  writeDomainMarker,
  type LakehouseOptions,
  QueryError,
  type QueryResult,
  type Relation,
  type ResultCell,
  rowObjects,
  sqlName,
} from './duckdb.ts';
export { BATCH_QUALITY } from './quality.ts';
export { lakehouseTables } from './tables.ts';
export { athenaToDuckdbType, athenaTypeOf, duckdbTypeOf } from './types.ts';
export { domainViews, parseViewText, type ViewColumn, type ViewDefinition } from './views.ts';
