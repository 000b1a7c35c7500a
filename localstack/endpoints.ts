/**
 * Where Tidewater finds Kafka and the AWS API when it runs against the local stack (or against
 * services someone else runs). Everything that talks to the local stack reads its endpoints here.
 *
 * - `KAFKA_BROKERS`: comma-separated `host:port` list. @default `127.0.0.1:9092`
 * - `AWS_ENDPOINT_URL`: one LocalStack-compatible endpoint for every AWS service.
 *   @default `http://127.0.0.1:4566`
 * - `AWS_REGION` (or `AWS_DEFAULT_REGION`). @default `us-east-1`
 * - `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`. @default `test` / `test`
 */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface Endpoints {
  readonly kafkaBrokers: string[];
  readonly awsEndpoint: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
}

export const DEFAULT_KAFKA_PORT = 9092;
export const DEFAULT_AWS_PORT = 4566;
export const DEFAULT_REGION = 'us-east-1';

type Env = Readonly<Record<string, string | undefined>>;

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** Parses a `KAFKA_BROKERS`-style list: `host:port[,host:port...]`, blanks ignored. */
export function parseBrokers(value: string): string[] {
  return value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

/** The endpoints from the environment, with local-stack defaults for anything not set. */
export function endpoints(env: Env = process.env): Endpoints {
  const kafkaPort = nonEmpty(env['TIDEWATER_KAFKA_PORT']) ?? String(DEFAULT_KAFKA_PORT);
  const awsPort = nonEmpty(env['TIDEWATER_AWS_PORT']) ?? String(DEFAULT_AWS_PORT);
  const brokers = nonEmpty(env['KAFKA_BROKERS']);
  const sessionToken = nonEmpty(env['AWS_SESSION_TOKEN']);
  return {
    kafkaBrokers: brokers ? parseBrokers(brokers) : [`127.0.0.1:${kafkaPort}`],
    awsEndpoint: nonEmpty(env['AWS_ENDPOINT_URL']) ?? `http://127.0.0.1:${awsPort}`,
    region: nonEmpty(env['AWS_REGION']) ?? nonEmpty(env['AWS_DEFAULT_REGION']) ?? DEFAULT_REGION,
    credentials: {
      accessKeyId: nonEmpty(env['AWS_ACCESS_KEY_ID']) ?? 'test',
      secretAccessKey: nonEmpty(env['AWS_SECRET_ACCESS_KEY']) ?? 'test',
      ...(sessionToken ? { sessionToken } : {}),
    },
  };
}

/** Which services are run by someone else (so `stack up` starts nothing for them). */
export function externalServices(env: Env = process.env): { kafka: boolean; aws: boolean } {
  return {
    kafka: nonEmpty(env['KAFKA_BROKERS']) !== undefined,
    aws: nonEmpty(env['AWS_ENDPOINT_URL']) !== undefined,
  };
}

/**
 * Options for any AWS SDK v3 client pointed at the endpoint: `new DynamoDBClient(awsClientConfig())`.
 * S3 also needs path-style addressing: use {@link s3ClientConfig}.
 */
export function awsClientConfig(e: Endpoints = endpoints()): {
  endpoint: string;
  region: string;
  credentials: AwsCredentials;
} {
  return { endpoint: e.awsEndpoint, region: e.region, credentials: e.credentials };
}

/** {@link awsClientConfig} plus `forcePathStyle`, which LocalStack-compatible emulators need for S3. */
export function s3ClientConfig(e: Endpoints = endpoints()): ReturnType<typeof awsClientConfig> & {
  forcePathStyle: true;
} {
  return { ...awsClientConfig(e), forcePathStyle: true };
}
