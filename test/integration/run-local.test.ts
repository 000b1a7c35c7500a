/**
 * `tidewater run --stack local` as a user runs it: the same JSONL through the local broker, the
 * local event source mapping and the emulator (deployed by the command itself), the layers copied
 * into `--out`, then checked with `tidewater query`. Needs the local stack (global setup).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEvents, loadDomain } from '../../functions/core/index.ts';
import { type Cli, tidewater } from '../support/cli.ts';

const EVENTS = 1500;
let dir: string;
let out: string;
let run: Cli;
let summary: {
  ok: boolean;
  stack: string;
  produced: number;
  deadLettered: number;
  duplicates: number;
  rows: Record<string, number>;
  conservation: { ok: boolean; unaccounted: number };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tw-run-local-'));
  out = join(dir, 'lake');
  const input = join(dir, 'events.jsonl');
  const records = generateEvents(loadDomain('payments'), EVENTS, {
    seed: 21,
    poisonRate: 0.02,
    duplicateRate: 0.02,
  });
  writeFileSync(input, `${[...records].map((r) => r.value).join('\n')}\n`);
  // Three pollers per mapping (the three partitions run concurrently with the default one as well).
  run = await tidewater(
    'run',
    '--input',
    input,
    '--out',
    out,
    '--stack',
    'local',
    '--pollers',
    '3',
    '--json',
  );
  summary = JSON.parse(run.stdout || '{}');
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tidewater run --stack local', () => {
  it('exits 0 with a JSON summary of the local stack whose conservation check holds', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(summary.stack).toBe('local');
    expect(summary.produced).toBe(EVENTS);
    expect(summary.rows['bronze/raw_events']).toBe(EVENTS);
    expect(summary.deadLettered).toBeGreaterThan(0);
    expect(summary.duplicates).toBeGreaterThan(0);
    expect(summary.rows['silver/events']).toBe(EVENTS - summary.deadLettered - summary.duplicates);
    expect(summary.conservation).toMatchObject({ ok: true, unaccounted: 0 });
  });

  it('copies the layers from the emulator into --out, where tidewater query answers', async () => {
    // Act
    const quality = await tidewater('query', '--out', out, '--view', 'pipeline_quality', '--json');
    const silver = await tidewater('query', '--out', out, 'SELECT count(*) AS n FROM events', '--json');
    // Assess
    expect(readdirSync(join(out, 'bronze', 'raw_events')).some((d) => d.startsWith('dt='))).toBe(true);
    expect(quality.code, quality.stderr).toBe(0);
    expect(JSON.parse(quality.stdout)[0]).toMatchObject({ bronze_rows: EVENTS, conservation_ok: true });
    expect(silver.code, silver.stderr).toBe(0);
    expect(Number(JSON.parse(silver.stdout)[0].n)).toBe(summary.rows['silver/events']);
  });
});
