/**
 * Lambda handler of the `enrich` consumer (see `lib/README.md`): thin, the work is `lib/consumers.ts`.
 */
import { enrich } from './lib/consumers.ts';
import { lambdaHandler } from './lib/handler.ts';

export type { KafkaBatchResponse } from './lib/consumers.ts';
export const handler = lambdaHandler('enrich', enrich);
