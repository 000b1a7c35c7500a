/**
 * Embedded adapters of the ports: everything in one process, the lakehouse in a local folder.
 */
export { GeneratorSource, type GeneratorSourceOptions } from './generator-source.ts';
export { JsonlDeadLetterSink } from './jsonl-dead-letter-sink.ts';
export { JsonlFileSource, type JsonlFileSourceOptions } from './jsonl-source.ts';
export { InvalidObjectKeyError, LocalFolderObjectStore } from './local-object-store.ts';
export { MemoryAlertSink } from './memory-alert-sink.ts';
export { MemoryStateStore } from './memory-state-store.ts';
export { type MetricPoint, MetricsCollector } from './metrics-collector.ts';
