/**
 * Lambda handler of the `ingest` consumer (see `lib/README.md`): thin, the work is `lib/consumers.ts`.
 */
import { ingest } from './lib/consumers.ts';
import { lambdaHandler } from './lib/handler.ts';

export type { KafkaBatchResponse } from './lib/consumers.ts';
export const handler = lambdaHandler('ingest', ingest);
