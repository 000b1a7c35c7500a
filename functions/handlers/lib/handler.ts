import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, tracer } from '../../commons/powertools.ts';
import type { LambdaKafkaEvent } from '../../core/index.ts';
import type { DepsByConsumer, KafkaBatchResponse } from './consumers.ts';
import { type ConsumerName, runtimeFor } from './runtime.ts';

/**
 * A consumer as a Lambda handler: middy with the Powertools logger (Lambda context in every log
 * line) and tracer; the consumer's counters are flushed as EMF at the end of each invocation.
 * Failures of single partitions come back as `batchItemFailures`; an error thrown here (the event
 * is not a Kafka event at all, the configuration is missing) fails the whole invocation.
 */
export function lambdaHandler<C extends ConsumerName>(
  consumer: C,
  run: (deps: DepsByConsumer[C], event: LambdaKafkaEvent) => Promise<KafkaBatchResponse>,
): middy.MiddyfiedHandler<LambdaKafkaEvent, KafkaBatchResponse, Error, Context> {
  return middy(async (event: LambdaKafkaEvent, context: Context): Promise<KafkaBatchResponse> => {
    const rt = runtimeFor(consumer);
    try {
      const deadline = Date.now() + context.getRemainingTimeInMillis();
      const response = await run({ ...rt.deps, deadline }, event);
      if (response.batchItemFailures.length > 0) {
        logger.warn('partial batch failure', { consumer, failures: response.batchItemFailures });
      }
      return response;
    } finally {
      rt.metrics.flush();
    }
  })
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger));
}
