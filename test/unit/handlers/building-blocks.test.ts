import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import { isRetryable, withRetry } from '../../../functions/adapters/aws/retry.ts';
import { ConfigError, readConfig, requireSettings } from '../../../functions/commons/config.ts';
import { EmfMetrics, representativeValues } from '../../../functions/commons/powertools.ts';
import { byPartition, parseSource } from '../../../functions/handlers/lib/consumers.ts';
import type { ObjectStore } from '../../../functions/ports/object-store.ts';
import { StaleFenceError } from '../../../functions/ports/state-store.ts';
import { AttemptStateStore } from '../../../functions/state/attempt-state.ts';
import { BufferedObjectStore } from '../../../functions/state/buffered-objects.ts';

const noSleep = async (): Promise<void> => undefined;
const throttled = (): Error =>
  Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });

class MemoryObjects implements ObjectStore {
  readonly puts: string[] = [];
  failOn: string | undefined;
  async put(key: string): Promise<void> {
    await new Promise((r) => setTimeout(r, 1));
    if (key === this.failOn) throw new Error(`put ${key} failed`);
    this.puts.push(key);
  }
  async get(): Promise<Uint8Array | undefined> {
    return undefined;
  }
  async list(): Promise<string[]> {
    return [];
  }
}

describe('retries', () => {
  it('retries throttling until the call succeeds', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 4) throw throttled();
        return 'ok';
      },
      { sleep: noSleep },
    );
    expect({ result, calls }).toEqual({ result: 'ok', calls: 4 });
  });

  it('throws the last error after the allowed attempts', async () => {
    let calls = 0;
    const call = withRetry(
      async () => {
        calls++;
        throw throttled();
      },
      { attempts: 3, sleep: noSleep },
    );
    await expect(call).rejects.toThrow('slow down');
    expect(calls).toBe(3);
  });

  it('does not retry a mistake', async () => {
    expect(isRetryable(Object.assign(new Error('bad'), { name: 'ValidationException' }))).toBe(false);
    expect(isRetryable(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }))).toBe(true);
  });
});

describe('buffered outputs', () => {
  it('writes nothing until flushed, then every object', async () => {
    const target = new MemoryObjects();
    const out = new BufferedObjectStore(target);
    await out.put('silver/a', new Uint8Array());
    await out.put('silver/b', new Uint8Array());
    expect(target.puts).toEqual([]);
    await out.flush();
    expect(target.puts.sort()).toEqual(['silver/a', 'silver/b']);
  });

  it('starts no write after a failure and rejects once the writes in flight are done', async () => {
    const target = new MemoryObjects();
    target.failOn = 'k0';
    const out = new BufferedObjectStore(target);
    for (let i = 0; i < 20; i++) await out.put(`k${i}`, new Uint8Array());
    await expect(out.flush(2)).rejects.toThrow('put k0 failed');
    const settled = target.puts.length;
    await new Promise((r) => setTimeout(r, 20));
    expect(target.puts.length).toBe(settled);
    expect(settled).toBeLessThanOrEqual(2);
  });
});

describe('the state a stage sees during an attempt', () => {
  const loaded = {
    version: 3,
    fences: { '1': 99 },
    sources: {},
    state: { n: 1 },
    intent: undefined,
    stateRef: undefined,
  };

  it('answers the loaded state and fence', async () => {
    const store = new AttemptStateStore(loaded, loaded.state);
    expect(await store.load({ consumer: 'cep', topic: 't', partition: 1 })).toEqual({
      state: { n: 1 },
      lastOffset: 99,
    });
    expect(await store.load({ consumer: 'cep', topic: 't', partition: 2 })).toBeUndefined();
  });

  it('refuses a save from another fence', async () => {
    const store = new AttemptStateStore(loaded);
    const save = store.save(
      { consumer: 'cep', topic: 't', partition: 1 },
      { state: { n: 2 }, lastOffset: 120 },
      50,
    );
    await expect(save).rejects.toBeInstanceOf(StaleFenceError);
    expect(store.saved).toBeUndefined();
  });
});

describe('decoding helpers', () => {
  it('reads the source coordinates of an enriched record', () => {
    expect(parseSource('tidewater.raw-events-2@1234')).toEqual({
      id: 'tidewater.raw-events-2',
      offset: 1234,
    });
    expect(parseSource('no-offset')).toBeUndefined();
    expect(parseSource(undefined)).toBeUndefined();
  });

  it('groups an event by partition, each in offset order', () => {
    const rec = (partition: number, offset: number) => ({
      topic: 't',
      partition,
      offset,
      timestamp: 0,
      timestampType: 'CREATE_TIME',
      key: null,
      value: Buffer.from('{}').toString('base64'),
    });
    const groups = byPartition({
      eventSource: 'SelfManagedKafka',
      records: { 't-1': [rec(1, 7), rec(1, 5)], 't-0': [rec(0, 3)] },
    });
    expect(groups.map((g) => [g.id, g.records.map((r) => r.offset)])).toEqual([
      ['t-0', [3]],
      ['t-1', [5, 7]],
    ]);
  });
});

describe('configuration', () => {
  it('names the missing variable', () => {
    const config = readConfig({ TIDEWATER_BRONZE_BUCKET: 'b' });
    expect(() => requireSettings(config, ['stateTable'])).toThrow(/TIDEWATER_STATE_TABLE is not set/);
    expect(() => requireSettings(config, ['bronzeBucket'])).not.toThrow();
  });

  it('refuses an unknown Kafka auth, showing the value', () => {
    expect(() => readConfig({ TIDEWATER_KAFKA_AUTH: 'scram' })).toThrow(ConfigError);
    expect(() => readConfig({ TIDEWATER_KAFKA_AUTH: 'scram' })).toThrow(/'iam' or 'none', got "scram"/);
  });

  it('reads how long small tables wait (60 s unless set), refusing anything but whole seconds to 3600', () => {
    expect(readConfig({}).smallTablesWriteSeconds).toBe(60);
    expect(readConfig({ TIDEWATER_SMALL_TABLES_WRITE_SECONDS: '0' }).smallTablesWriteSeconds).toBe(0);
    for (const bad of ['1.5', '-1', '3601', 'soon'])
      expect(() => readConfig({ TIDEWATER_SMALL_TABLES_WRITE_SECONDS: bad })).toThrow(
        new RegExp(`TIDEWATER_SMALL_TABLES_WRITE_SECONDS must be whole seconds from 0 to 3600, got "${bad}"`),
      );
  });
});

describe('EMF metrics', () => {
  it('sums counts per metric and dimension set until flushed', () => {
    const metrics = new EmfMetrics(undefined, 'test');
    metrics.count('RecordsIn', 10, { layer: 'bronze' });
    metrics.count('RecordsIn', 5, { layer: 'bronze' });
    metrics.count('Alerts', 1, { pattern: 'velocity_spike' });
    expect(metrics.snapshot()).toEqual([
      { name: 'RecordsIn', dims: { layer: 'bronze' }, value: 15 },
      { name: 'Alerts', dims: { pattern: 'velocity_spike' }, value: 1 },
    ]);
  });

  it('keeps consumers apart', () => {
    // A sink recording what Powertools would be given (the EMF writing itself is Powertools').
    const emitted: Array<{ dims: Record<string, string>; name: string; unit: string; value: number }> = [];
    const sink = {
      singleMetric() {
        const dims: Record<string, string> = {};
        return {
          addDimension: (k: string, v: string) => {
            dims[k] = v;
          },
          addMetric: (name: string, unit: string, value: number) => emitted.push({ dims, name, unit, value }),
        };
      },
    } as unknown as ConstructorParameters<typeof EmfMetrics>[0];
    const metrics = new EmfMetrics(sink, 'test');
    metrics.count('StateConflicts', 1, { consumer: 'windows' });
    metrics.count('StateConflicts', 2, { consumer: 'cep' });
    metrics.count('StateColdLoads', 120, { consumer: 'windows' });
    metrics.flush();
    expect(emitted).toEqual([
      { dims: { Environment: 'test', Consumer: 'windows' }, name: 'StateConflicts', unit: 'Count', value: 1 },
      { dims: { Environment: 'test', Consumer: 'cep' }, name: 'StateConflicts', unit: 'Count', value: 2 },
      {
        dims: { Environment: 'test', Consumer: 'windows' },
        name: 'StateColdLoads',
        unit: 'Count',
        value: 120,
      },
    ]);
  });
});

describe('latency metrics (EMF)', () => {
  /** Powertools documents writing to the global console (POWERTOOLS_DEV), which the test spies on. */
  function capture(): () => Metrics {
    return () => {
      vi.stubEnv('POWERTOOLS_DEV', 'true');
      vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
      const doc = new Metrics({ namespace: 'Tidewater', serviceName: 'tidewater' });
      vi.unstubAllEnvs();
      return doc;
    };
  }

  it('publishes every latency value of a consumer as one EMF value array in milliseconds', () => {
    // Prepare
    const out: unknown[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      out.push(JSON.parse(String(line)));
    });
    const metrics = new EmfMetrics(undefined, 'test', capture());
    // Act
    metrics.latency('EventToOutputLatency', [120, 80], { consumer: 'cep' });
    metrics.latency('EventToOutputLatency', [95], { consumer: 'cep' });
    metrics.latency('KafkaToOutputLatency', [40], { consumer: 'enrich' });
    metrics.flush();
    log.mockRestore();
    // Assess
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({
      EventToOutputLatency: [120, 80, 95],
      Environment: 'test',
      Consumer: 'cep',
      service: 'tidewater',
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'Tidewater',
            Metrics: [{ Name: 'EventToOutputLatency', Unit: 'Milliseconds' }],
          },
        ],
      },
    });
    expect(out[1]).toMatchObject({ KafkaToOutputLatency: 40, Consumer: 'enrich' });
    expect(metrics.latencySnapshot()).toEqual([]);
  });

  it('stands for many values with 100 order statistics that keep the median, the tail and the maximum', () => {
    // Prepare: 1..10,000 shuffled
    const values = Array.from({ length: 10_000 }, (_, i) => ((i * 7_919) % 10_000) + 1);
    // Act
    const kept = representativeValues(values);
    // Assess
    expect(kept).toHaveLength(100);
    const sorted = [...kept].sort((a, b) => a - b);
    expect(sorted[49]).toBeGreaterThan(4_900);
    expect(sorted[50]).toBeLessThan(5_200);
    expect(sorted[98]).toBeGreaterThan(9_800);
    expect(sorted[99]).toBe(10_000);
    expect(representativeValues([3, 1, 2])).toEqual([3, 1, 2]);
  });
});
