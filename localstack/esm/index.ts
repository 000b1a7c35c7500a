/**
 * Local emulation of Lambda's Kafka event source mapping (provisioned mode), for the `local` stage.
 *
 * ```ts
 * const running = await startEventSourceMappings({ only: ['ingest'] });
 * // produce…
 * await running.waitUntilIdle({ timeoutMs: 60_000 });
 * console.log(running.stats());
 * await running.stop();
 * ```
 */
export type {
  KafkaBatchItemFailures,
  LocalKafkaHandler,
  LocalLambdaContext,
  MappingSettingsOverride,
  MappingStats,
  RunningMappings,
  StartEventSourceMappingsOptions,
} from './types.ts';

import type { RunningMappings, StartEventSourceMappingsOptions } from './types.ts';

/** Reads the mappings from the synthesized `local` template and starts polling the broker. */
export async function startEventSourceMappings(
  options: StartEventSourceMappingsOptions = {},
): Promise<RunningMappings> {
  void options;
  throw new Error('startEventSourceMappings: not implemented yet (localstack/esm is in progress)');
}
