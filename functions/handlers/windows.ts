/**
 * Lambda handler of the `windows` consumer (see `lib/README.md`): thin, the work is `lib/consumers.ts`.
 */
import { windows } from './lib/consumers.ts';
import { lambdaHandler } from './lib/handler.ts';

export type { KafkaBatchResponse } from './lib/consumers.ts';
export const handler = lambdaHandler('windows', windows);
