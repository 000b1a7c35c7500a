import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EMULATOR_VERSION, KAFKA_VERSION } from '../../../localstack/config.ts';

interface Compose {
  services: Record<string, { image: string; ports: string[] }>;
}

const compose = parse(
  readFileSync(join(import.meta.dirname, '..', '..', '..', 'localstack', 'docker-compose.yml'), 'utf8'),
) as Compose;

describe('docker-compose.yml', () => {
  it('runs the same Kafka release and emulator version as `stack up`', () => {
    expect(compose.services['kafka']?.image).toBe(`apache/kafka:${KAFKA_VERSION}`);
    expect(compose.services['aws']?.image).toBe(`ministackorg/ministack:${EMULATOR_VERSION}`);
  });

  it('publishes every port on loopback only', () => {
    // Act
    const ports = Object.values(compose.services).flatMap((s) => s.ports);

    // Assess
    expect(ports).toEqual(['127.0.0.1:9092:9092', '127.0.0.1:4566:4566']);
  });
});
