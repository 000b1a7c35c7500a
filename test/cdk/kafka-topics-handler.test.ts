import { describe, expect, it } from 'vitest';
import { handler, parseTopics } from '../../lib/streaming/kafka-topics.handler.ts';

describe('Kafka topics custom resource', () => {
  it('reads the numbers CloudFormation passes as strings', () => {
    // Act
    const topics = parseTopics([{ name: 'tidewater.raw-events', partitions: '6', replicationFactor: '3' }]);

    // Assess
    expect(topics).toEqual([{ name: 'tidewater.raw-events', partitions: 6, replicationFactor: 3 }]);
  });

  it('rejects a topic without an integer partition count', () => {
    // Act & Assess
    expect(() => parseTopics([{ name: 't', partitions: 'six', replicationFactor: 3 }])).toThrow(
      /Bad topic spec .*"partitions":"six".*integer partitions/,
    );
  });

  it('rejects a non-list', () => {
    // Act & Assess
    expect(() => parseTopics('t')).toThrow(/Topics must be a list, got "t"/);
  });

  it('leaves the topics in place on delete, without connecting to Kafka', async () => {
    // Act
    const response = await handler({
      RequestType: 'Delete',
      PhysicalResourceId: 'kafka-topics-abc',
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:x',
      ResponseURL: 'https://example.invalid/',
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1',
      RequestId: 'r',
      LogicalResourceId: 'Topics',
      ResourceType: 'Custom::KafkaTopics',
      ResourceProperties: { ServiceToken: 'x', Topics: [] },
    });

    // Assess
    expect(response).toEqual({ PhysicalResourceId: 'kafka-topics-abc' });
  });
});
