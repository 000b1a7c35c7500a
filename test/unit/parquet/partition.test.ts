import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalFolderObjectStore } from '../../../functions/adapters/embedded/local-object-store.ts';
import {
  fileName,
  groupByPartition,
  objectKey,
  ParquetSchemaError,
  partitionPath,
  type SourceRange,
  writeTable,
} from '../../../functions/adapters/parquet/index.ts';
import type { Row } from '../../../functions/core/model.ts';
import { PAYMENTS, silverEventRows } from '../lakehouse/fixtures.ts';
import { readBack } from './read-back.ts';

const SOURCE: SourceRange = { topic: 'payments.raw', partition: 2, firstOffset: 100, lastOffset: 199 };

describe('Hive partitions and object keys', () => {
  it.each([
    [Date.UTC(2026, 0, 15, 10, 0, 0), 'dt=2026-01-15/hr=10'],
    [Date.UTC(2026, 0, 15, 10, 59, 59, 999), 'dt=2026-01-15/hr=10'],
    [Date.UTC(2026, 0, 15, 23, 59, 59, 999), 'dt=2026-01-15/hr=23'],
    [Date.UTC(2026, 0, 16, 0, 0, 0), 'dt=2026-01-16/hr=00'],
    [-1, 'dt=1969-12-31/hr=23'],
  ])('puts %i in %s (UTC date and hour)', (ms, expected) => {
    expect(partitionPath(ms)).toBe(expected);
  });

  it('names a file from the source coordinates', () => {
    expect(fileName(SOURCE)).toBe('payments.raw-2-100-199.parquet');
    expect(objectKey(PAYMENTS.silver, 'dt=2026-01-15/hr=10', SOURCE)).toBe(
      'silver/events/dt=2026-01-15/hr=10/payments.raw-2-100-199.parquet',
    );
  });

  it.each([
    [{ ...SOURCE, topic: 'a/b' }, /Kafka topic name/],
    [{ ...SOURCE, topic: '' }, /Kafka topic name/],
    [{ ...SOURCE, partition: -1 }, /partition must be a non-negative integer/],
    [{ ...SOURCE, firstOffset: 1.5 }, /firstOffset must be a non-negative integer/],
    [{ ...SOURCE, lastOffset: 99 }, /lastOffset 99 is before firstOffset 100/],
  ])('refuses source coordinates that cannot name a file: %j', (source, message) => {
    expect(() => fileName(source)).toThrow(message);
  });

  it('groups rows by the UTC hour of partitionBy, keeping their order', () => {
    // Prepare
    const at = (h: number, m: number) => Date.UTC(2026, 0, 15, h, m);
    const rows: Row[] = [at(10, 5), at(11, 0), at(10, 59), at(11, 30)].map((ts, i) => ({
      event_id: `e${i}`,
      ts,
    }));

    // Act
    const groups = groupByPartition(PAYMENTS.silver, rows);

    // Assess
    expect([...groups.keys()]).toEqual(['dt=2026-01-15/hr=10', 'dt=2026-01-15/hr=11']);
    expect(groups.get('dt=2026-01-15/hr=10')!.map((r) => r.event_id)).toEqual(['e0', 'e2']);
    expect(groups.get('dt=2026-01-15/hr=11')!.map((r) => r.event_id)).toEqual(['e1', 'e3']);
  });

  it('refuses a row without an epoch-ms partition value', () => {
    expect(() => groupByPartition(PAYMENTS.silver, [{ ts: '2026-01-15' }])).toThrow(ParquetSchemaError);
    expect(() => groupByPartition(PAYMENTS.silver, [{ ts: null }])).toThrow(/row 0 has no epoch-ms 'ts'/);
  });
});

describe('writeTable', () => {
  it('writes one Parquet object per partition hour at deterministic keys', async () => {
    // Prepare
    const store = new LocalFolderObjectStore(mkdtempSync(join(tmpdir(), 'tw-write-')));
    const rows = silverEventRows(30_000, 4); // about 100 minutes of events: two or three hours

    // Act
    const written = await writeTable(store, PAYMENTS.silver, rows, SOURCE);

    // Assess
    const keys = await store.list('silver/events/');
    expect(keys).toEqual(written.map((w) => w.key).sort());
    expect(written.length).toBeGreaterThan(1);
    expect(written.reduce((s, w) => s + w.rows, 0)).toBe(rows.length);
    for (const w of written)
      expect(w.key).toMatch(
        /^silver\/events\/dt=\d{4}-\d{2}-\d{2}\/hr=\d{2}\/payments\.raw-2-100-199\.parquet$/,
      );
    const first = await readBack((await store.get(written[0]!.key))!);
    expect(first.rows).toHaveLength(written[0]!.rows);
  });

  it('overwrites the same objects when the same batch is written again', async () => {
    // Prepare
    const store = new LocalFolderObjectStore(mkdtempSync(join(tmpdir(), 'tw-write-')));
    const rows = silverEventRows(2_000, 5);
    const before = await writeTable(store, PAYMENTS.silver, rows, SOURCE);

    // Act
    const again = await writeTable(store, PAYMENTS.silver, rows, SOURCE);

    // Assess
    expect(again.map((w) => w.key)).toEqual(before.map((w) => w.key));
    expect(await store.list('')).toHaveLength(before.length);
  });

  it('writes nothing for no rows', async () => {
    // Prepare
    const store = new LocalFolderObjectStore(mkdtempSync(join(tmpdir(), 'tw-write-')));

    // Act
    const written = await writeTable(store, PAYMENTS.silver, [], SOURCE);

    // Assess
    expect(written).toEqual([]);
    expect(await store.list('')).toEqual([]);
  });
});
