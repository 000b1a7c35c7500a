/**
 * The lakehouse as SQL (DuckDB, in process) and the shared view definitions of `sql/views/`.
 */
export {
  Lakehouse,
  LakehouseNotFoundError,
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
export {
  DEFAULT_VIEWS_DIR,
  loadViewDefinitions,
  parseViewFile,
  type ViewColumn,
  type ViewDefinition,
} from './views.ts';
