/**
 * Retries with capped exponential backoff and full jitter, for throttling and partial failures
 * (DynamoDB `ProvisionedThroughputExceededException`, SQS failed batch entries, ...). The SDK's own
 * retries run first; this loop runs on top of them, so a burst of throttling slows a batch down
 * instead of failing it. After `attempts` tries the last error is thrown: the batch fails and the
 * event source mapping redelivers it. Nothing is ever dropped.
 */
export interface RetryOptions {
  /** Tries in all. @default 8 */
  readonly attempts?: number;
  /** First backoff, ms. @default 50 */
  readonly baseMs?: number;
  /** Largest backoff, ms. @default 2_000 */
  readonly maxMs?: number;
  /** Sleep; tests replace it. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'InternalServerError',
  'ServiceUnavailable',
  'RequestThrottled',
  'RequestThrottledException',
]);

/** True for errors worth retrying: throttling, 5xx, and transient network errors. */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (THROTTLING.has(err.name)) return true;
  const meta = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const status = meta?.httpStatusCode;
  if (status !== undefined && (status === 429 || status >= 500)) return true;
  const code = (err as { code?: string }).code;
  return code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'EPIPE';
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Backoff before try number `attempt` (1-based): full jitter over a capped exponential. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.floor(Math.random() * cap);
}

/** Calls `fn` until it succeeds or throws a non-retryable error, at most `attempts` times. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 8;
  const baseMs = options.baseMs ?? 50;
  const maxMs = options.maxMs ?? 2_000;
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isRetryable(err)) throw err;
      await wait(backoffMs(attempt, baseMs, maxMs));
    }
  }
}
