import { describe, expect, it } from 'vitest';
import {
  awsClientConfig,
  endpoints,
  externalServices,
  parseBrokers,
  s3ClientConfig,
} from '../../../localstack/endpoints.ts';

describe('endpoints', () => {
  it('defaults to the local stack on loopback with dummy credentials', () => {
    // Act
    const e = endpoints({});

    // Assess
    expect(e).toEqual({
      kafkaBrokers: ['127.0.0.1:9092'],
      awsEndpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });

  it('uses KAFKA_BROKERS, AWS_ENDPOINT_URL, AWS_REGION and credentials from the environment', () => {
    // Prepare
    const env = {
      KAFKA_BROKERS: ' b1:9092, b2:9094 ,',
      AWS_ENDPOINT_URL: 'https://localhost.localstack.cloud:4566',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIA',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    };

    // Act
    const e = endpoints(env);

    // Assess
    expect(e).toEqual({
      kafkaBrokers: ['b1:9092', 'b2:9094'],
      awsEndpoint: 'https://localhost.localstack.cloud:4566',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret', sessionToken: 'token' },
    });
  });

  it('follows the local stack onto other ports when only the ports are overridden', () => {
    // Act
    const e = endpoints({ TIDEWATER_KAFKA_PORT: '19092', TIDEWATER_AWS_PORT: '14566' });

    // Assess
    expect([e.kafkaBrokers, e.awsEndpoint]).toEqual([['127.0.0.1:19092'], 'http://127.0.0.1:14566']);
  });

  it('falls back to AWS_DEFAULT_REGION and ignores blank variables', () => {
    // Act
    const e = endpoints({ AWS_DEFAULT_REGION: 'ap-south-1', AWS_REGION: '  ', KAFKA_BROKERS: '' });

    // Assess
    expect([e.region, e.kafkaBrokers]).toEqual(['ap-south-1', ['127.0.0.1:9092']]);
  });

  it('marks a service external only when its variable is set', () => {
    // Act
    const onlyKafka = externalServices({ KAFKA_BROKERS: 'b:9092', AWS_ENDPOINT_URL: ' ' });

    // Assess
    expect(onlyKafka).toEqual({ kafka: true, aws: false });
  });

  it('gives S3 clients path-style addressing and other clients the same endpoint without it', () => {
    // Prepare
    const e = endpoints({});

    // Act
    const s3 = s3ClientConfig(e);
    const other = awsClientConfig(e);

    // Assess
    expect(s3).toMatchObject({
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      forcePathStyle: true,
    });
    expect(other).not.toHaveProperty('forcePathStyle');
  });

  it('splits a broker list on commas and drops blanks', () => {
    expect(parseBrokers('a:1,,b:2 , ')).toEqual(['a:1', 'b:2']);
  });
});
