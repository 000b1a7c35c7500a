import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * SDK clients, one of each per process. They read region and credentials from the environment;
 * `AWS_ENDPOINT_URL` (the local emulator) also turns on path-style S3 addressing, which
 * emulators need. Libraries take a client as an option and default to these.
 */
export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
}

export function createClients(env: Readonly<Record<string, string | undefined>> = process.env): AwsClients {
  const endpoint = env['AWS_ENDPOINT_URL']?.trim() || undefined;
  const region = env['AWS_REGION']?.trim() || env['AWS_DEFAULT_REGION']?.trim() || undefined;
  const accessKeyId = env['AWS_ACCESS_KEY_ID']?.trim();
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY']?.trim();
  const sessionToken = env['AWS_SESSION_TOKEN']?.trim();
  const common = {
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
    // Explicit keys only when the caller passed an environment other than the process's own.
    ...(env !== process.env && accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
  };
  return {
    dynamodb: new DynamoDBClient({ ...common }),
    s3: new S3Client({
      ...common,
      ...(endpoint === undefined ? {} : { forcePathStyle: true }),
      requestChecksumCalculation: 'WHEN_REQUIRED',
    }),
    sqs: new SQSClient({ ...common }),
  };
}
