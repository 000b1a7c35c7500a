/**
 * The Tidewater core: pure TypeScript (no AWS import) shared by the embedded pipeline, the local
 * stack and the Lambda handlers. One entry point for the rest of the code base.
 *
 * Typical flow of one batch (SPEC §1-§4):
 * ```ts
 * const domain = loadDomain('payments');
 * const schemas = layerSchemas(domain);                 // bronze/silver/gold TableSchemas
 * const validate = compileValidator(domain);
 * const dedup = new Deduplicator(domain, savedDedup);   // silver de-duplication
 * const windows = new WindowEngine(domain, savedWindows);
 * const cep = new CepEngine(domain, savedCep);
 * const ingestTs = Date.now();
 * for (const rec of decodeKafkaEvent(lambdaEvent)) {
 *   bronzeRows.push(bronzeRow(rec, ingestTs));
 *   const r = validate(rec);
 *   if (!r.ok) { deadLetters.push(toDeadLetter(rec, r.reason)); continue; }
 *   if (dedup.isDuplicate(r.event.id, r.event.ts)) { duplicates++; continue; }
 *   silverRows.push(r.event.row);
 *   windows.add(r.event);
 *   alertRows.push(...cep.process(r.event));
 * }
 * const { rows, late } = windows.collect();             // final windows + late events
 * save(dedup.snapshot(), windows.snapshot(), cep.snapshot());
 * ```
 * Embedded runs end with `windows.flush()`.
 */
export {
  type Aggregate,
  addToAggregate,
  aggregateAvg,
  emptyAggregate,
  mergeAggregates,
} from './aggregate.ts';
export { BATCH_QUALITY } from './batch-quality.ts';
export {
  batchSucceeded,
  type KafkaBatchItemIdentifier,
  type KafkaBatchResponse,
  unappliedRecords,
} from './batch-response.ts';
export {
  type CepConfig,
  CepEngine,
  type CepKeyState,
  type CepPattern,
  type CepState,
  cepConfig,
  cepStep,
  copyCepKeyState,
  emptyCepKeyState,
  type Severity,
} from './cep.ts';
export {
  type ChartSpec,
  type ChartType,
  chartProblems,
  generatedCharts,
  QUALITY_CHART_ID,
} from './charts.ts';
export { contractAvroSchema, contractJsonSchema } from './contract-schema.ts';
export {
  type DedupCandidate,
  Deduplicator,
  type DedupState,
} from './dedup.ts';
export { DedupDelta, HashedDedupSet, HashSet128, idHash } from './dedup-hashes.ts';
export {
  type AggregateName,
  type CepSpec,
  type Domain,
  DomainConfigError,
  type DomainFileReader,
  domainsDir,
  type FieldSpec,
  type FieldType,
  fieldOf,
  loadDomain,
  parseDomain,
  parseDomainObject,
  type WindowSpec,
} from './domain.ts';
export { formatDuration, parseDuration } from './duration.ts';
export {
  DEFAULT_ANOMALY_RATES,
  type GeneratedLabel,
  type GeneratedRecord,
  type GeneratorOptions,
  generateEvents,
} from './generator.ts';
export { EARTH_RADIUS_KM, findCountry, haversineKm } from './geo.ts';
export {
  type BronzeSource,
  bronzeRow,
  type DecodedRecord,
  decodeKafkaEvent,
  decodeKafkaRecord,
  isPlainAscii,
  KafkaEventShapeError,
  type LambdaKafkaEvent,
  type LambdaKafkaHeader,
  type LambdaKafkaRecord,
  parsePartitionId,
  partitionId,
  type RawRecord,
  toBase64,
} from './kafka.ts';
export * from './model.ts';
export { Random, Zipf } from './random.ts';
export {
  deterministicColumns,
  type LayerSchemas,
  layerSchemas,
  PROCESSING_TIME_COLUMNS,
  silverColumns,
  silverColumnType,
} from './schemas.ts';
export { parseIsoTimestamp, utcDate, utcHour } from './time.ts';
export {
  compileValidator,
  type DeadLetter,
  type PoisonCode,
  type PoisonReason,
  type SilverEvent,
  toDeadLetter,
  type ValidationResult,
  type Validator,
  validateAndEnrich,
  validatorOf,
} from './validate.ts';
export { nextVersion, stateAsOf, type Versioned } from './versioned.ts';
export {
  generatedViews,
  lakehouseTablesOf,
  missingRequirements,
  nounOf,
  parseViewText,
  type ViewColumn,
  type ViewDefinition,
  windowViewName,
} from './views.ts';
export {
  type FixedPartial,
  mergeWindowStates,
  type PartialWindowOutput,
  WindowEngine,
  type WindowOutput,
  type WindowState,
} from './windows.ts';
