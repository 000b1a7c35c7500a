import { describe, expect, it } from 'vitest';
import { GeneratorSource } from '../../../functions/adapters/embedded/index.ts';
import { checkConservation, runPipeline } from '../../../functions/pipeline/index.ts';
import type { EventSource, SourceBatch } from '../../../functions/ports/index.ts';
import { batchOf, eventValue, payments, testContext } from './helpers.ts';

/** A source over fixed batches. */
function fixedSource(batches: SourceBatch[]): EventSource {
  let produced = 0;
  return {
    description: 'fixed',
    get produced() {
      return produced;
    },
    progress: () => undefined,
    async *batches() {
      for (const b of batches) {
        produced += b.records.length;
        yield b;
      }
    },
  };
}

describe('runPipeline', () => {
  it('conserves records on generated traffic with poison, duplicates and anomalies', async () => {
    // Prepare
    const ctx = testContext();
    const source = new GeneratorSource(payments, 3000, {
      seed: 5,
      anomalies: true,
      poisonRate: 0.01,
      duplicateRate: 0.01,
    });
    // Act
    const r = await runPipeline({ context: ctx, source, batchSize: 500, checkpointRecords: 1000 });
    // Assess
    expect(r.conservation.ok).toBe(true);
    expect(r.produced).toBe(3000);
    expect(r.bronzeRows).toBe(3000);
    expect(r.deadLettered).toBeGreaterThan(0);
    expect(r.duplicates).toBeGreaterThan(0);
    expect(r.silverRows + r.deadLettered + r.duplicates).toBe(3000);
    expect(ctx.deadLetters.letters).toHaveLength(r.deadLettered);
  });

  it('writes bronze and silver per batch, gold and batch quality per checkpoint', async () => {
    // Prepare
    const ctx = testContext();
    const values = Array.from({ length: 6 }, (_, i) => eventValue(i));
    const source = fixedSource([
      batchOf(0, values.slice(0, 2)),
      batchOf(2, values.slice(2, 4)),
      batchOf(4, values.slice(4)),
    ]);
    // Act
    const r = await runPipeline({ context: ctx, source, batchSize: 2, checkpointRecords: 4 });
    // Assess
    const names = (prefix: string) =>
      ctx.objects.puts.filter((k) => k.startsWith(prefix)).map((k) => k.split('/').at(-1));
    expect(names('bronze/')).toEqual([
      'raw-events-0-0-1.parquet',
      'raw-events-0-2-3.parquet',
      'raw-events-0-4-5.parquet',
    ]);
    expect(names('ops/batch_quality/')).toEqual(['raw-events-0-0-3.parquet', 'raw-events-0-4-5.parquet']);
    expect(r.rowsByTable['ops/batch_quality']).toBe(3);
    expect(r.batches).toBe(3);
  });

  it('flushes open windows at the end of the run', async () => {
    // Prepare: three transactions within one minute never see a watermark pass their window
    const ctx = testContext();
    const source = fixedSource([batchOf(0, [eventValue(0), eventValue(1), eventValue(2)])]);
    // Act
    const r = await runPipeline({ context: ctx, source });
    // Assess
    expect(r.rowsByTable['gold/window_tumbling_1m']).toBe(1);
    expect(r.rowsByTable['gold/sessions']).toBe(3);
  });

  it('fails the conservation check when a record is missing from either equation', () => {
    // Prepare: one silver row lost; one bronze row lost
    const silverLost = { produced: 10, bronze: 10, silver: 7, deadLettered: 1, duplicates: 1 };
    const bronzeLost = { produced: 10, bronze: 9, silver: 7, deadLettered: 1, duplicates: 1 };
    // Act
    const result = checkConservation(silverLost);
    const lost = checkConservation(bronzeLost);
    // Assess
    expect(result.ok).toBe(false);
    expect(result.unaccounted).toBe(1);
    expect(lost.ok).toBe(false);
    expect(lost.producedEqualsBronze).toBe(false);
    expect(lost.bronzeAccountedFor).toBe(true);
  });

  it('rejects a batch size that is not a positive integer', async () => {
    // Prepare
    const source = fixedSource([]);
    // Act
    const run = runPipeline({ context: testContext(), source, batchSize: 0 });
    // Assess
    await expect(run).rejects.toThrow(/batchSize must be a positive integer, got 0/);
  });
});
