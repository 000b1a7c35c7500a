import { describe, expect, it } from 'vitest';
import {
  kafkaPom,
  kafkaServerProperties,
  mavenError,
  newClusterId,
  parseJavaMajor,
} from '../../../localstack/kafka.ts';

describe('Kafka setup', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "21" 2023-09-19', 21],
    ['java version "1.8.0_292"', 8],
    ['no version here', undefined],
  ])('reads the Java major version from %j', (output, major) => {
    expect(parseJavaMajor(output)).toBe(major);
  });

  it('configures one KRaft node that listens on loopback only', () => {
    // Act
    const props = kafkaServerProperties({ kafka: 19092, kafkaController: 19093, aws: 4566 }, '/data/kafka');

    // Assess
    const lines = props.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'process.roles=broker,controller',
        'listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093',
        'advertised.listeners=PLAINTEXT://127.0.0.1:19092',
        'controller.quorum.bootstrap.servers=127.0.0.1:19093',
        'log.dirs=/data/kafka',
        'offsets.topic.replication.factor=1',
      ]),
    );
    expect(props).not.toMatch(/0\.0\.0\.0|localhost/);
  });

  it('pins Kafka, the logging binding and the Maven plugin in the generated pom', () => {
    // Act
    const pom = kafkaPom();

    // Assess
    expect(pom).toContain('<artifactId>kafka_2.13</artifactId>\n      <version>4.2.1</version>');
    expect(pom).toContain('<artifactId>log4j-slf4j-impl</artifactId>\n      <version>2.25.4</version>');
    expect(pom).toContain(
      '<artifactId>maven-dependency-plugin</artifactId>\n        <version>3.8.1</version>',
    );
  });

  it("turns Maven's failure output into one line naming the cause", () => {
    // Prepare
    const output = [
      '[INFO] Scanning for projects...',
      '[ERROR] Failed to execute goal on project kafka-runtime: Could not resolve dependencies: Could not transfer artifact org.apache.kafka:kafka_2.13:jar:4.2.1 -> [Help 1]',
      '[ERROR] ',
      '[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.',
    ].join('\n');

    // Act
    const line = mavenError(output);

    // Assess
    expect(line).toBe(
      'Failed to execute goal on project kafka-runtime: Could not resolve dependencies: Could not transfer artifact org.apache.kafka:kafka_2.13:jar:4.2.1',
    );
  });
});

describe('KRaft cluster ids', () => {
  it('are 16 bytes of base64url that never start with a dash (the storage tool would read an option)', () => {
    // Act: 5,000 draws; with plain base64url about 78 of them would start with '-'
    const ids = Array.from({ length: 5_000 }, () => newClusterId());

    // Assess
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
