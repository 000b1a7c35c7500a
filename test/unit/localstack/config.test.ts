import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { healthTimeoutMs, parsePort, stackPaths, stackPorts } from '../../../localstack/config.ts';

describe('local stack config', () => {
  it('keeps downloads and state under the cache dir, each overridable', () => {
    // Act
    const defaults = stackPaths({ TIDEWATER_CACHE_DIR: '/c' });
    const custom = stackPaths({ TIDEWATER_CACHE_DIR: '/c', TIDEWATER_STATE_DIR: '/s' });

    // Assess
    expect(defaults).toEqual({
      cacheDir: '/c',
      mavenRepo: join('/c', 'm2'),
      kafkaHome: join('/c', 'kafka-4.2.1'),
      pipCache: join('/c', 'pip'),
      stateDir: join('/c', 'stack'),
    });
    expect(custom.stateDir).toBe('/s');
  });

  it('uses ports 9092, 9093 and 4566 unless told otherwise', () => {
    expect(stackPorts({})).toEqual({ kafka: 9092, kafkaController: 9093, aws: 4566 });
    expect(stackPorts({ TIDEWATER_KAFKA_CONTROLLER_PORT: '19093' }).kafkaController).toBe(19093);
  });

  it.each([
    '0',
    '65536',
    'abc',
    '90.5',
    '-1',
  ])('rejects %s as a port, naming the variable and the fix', (bad) => {
    expect(() => parsePort('TIDEWATER_AWS_PORT', bad, 4566)).toThrow(
      new RangeError(`TIDEWATER_AWS_PORT=${bad} is not a TCP port: use a whole number from 1 to 65535`),
    );
  });

  it('waits two minutes for health by default and rejects a non-positive timeout', () => {
    expect(healthTimeoutMs({})).toBe(120_000);
    expect(() => healthTimeoutMs({ TIDEWATER_STACK_TIMEOUT_MS: '0' })).toThrow(/not a positive number/);
  });
});
