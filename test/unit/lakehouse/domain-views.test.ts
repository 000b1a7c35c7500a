import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GeneratorSource,
  JsonlDeadLetterSink,
  LocalFolderObjectStore,
  MemoryAlertSink,
  MemoryStateStore,
  MetricsCollector,
} from '../../../functions/adapters/embedded/index.ts';
import {
  type Domain,
  lakehouseTablesOf,
  loadDomain,
  type ViewDefinition,
} from '../../../functions/core/index.ts';
import { athenaToDuckdbType, Lakehouse, rowObjects } from '../../../functions/lakehouse/index.ts';
import { runPipeline } from '../../../functions/pipeline/index.ts';
import { chartSql } from '../../../functions/report/index.ts';
import { decodePrestoView, encodePrestoView, viewColumns } from '../../../lib/lakehouse/athena-views.ts';

const DOMAINS = ['payments', 'iot', 'shop'] as const;
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A generated lake of `domain`: 6,000 events with every anomaly scenario likely, poison and duplicates. */
async function generatedLake(domain: Domain): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), `tidewater-views-${domain.name}-`));
  dirs.push(root);
  await runPipeline({
    context: {
      domain,
      objects: new LocalFolderObjectStore(root),
      state: new MemoryStateStore(),
      metrics: new MetricsCollector(),
      deadLetters: new JsonlDeadLetterSink(join(root, '_deadletter')),
      alerts: new MemoryAlertSink(),
      clock: () => Date.UTC(2026, 0, 1),
    },
    source: new GeneratorSource(domain, 6000, {
      seed: 5,
      anomalies: {
        velocity_spike: 0.02,
        amount_anomaly: 0.02,
        impossible_travel: 0.02,
        rapid_fire_burst: 0.02,
        merchant_diversity: 0.02,
      },
      poisonRate: 0.005,
      duplicateRate: 0.005,
      kafkaTs: Date.UTC(2026, 0, 1, 8),
    }),
    batchSize: 2000,
    checkpointRecords: 6000,
  });
  return root;
}

describe.each(DOMAINS)('the views of the %s domain on a generated lake', (name) => {
  const domain = loadDomain(name);
  let lakehouse: Lakehouse;

  beforeAll(async () => {
    lakehouse = await Lakehouse.open({ root: await generatedLake(domain), domain });
  }, 60_000);

  afterAll(() => lakehouse?.close());

  it('creates every view without an error', () => {
    // Assess
    const broken = lakehouse.relations().filter((r) => r.error !== undefined);
    expect(broken).toEqual([]);
    expect(
      lakehouse
        .relations()
        .filter((r) => r.kind === 'view')
        .map((r) => r.name),
    ).toEqual(domain.views.map((v) => v.name));
  });

  it.each(
    domain.views.map((v) => [v.name, v] as const),
  )('%s runs and returns exactly the columns and types of its Glue view definition', async (_n, view) => {
    // Prepare: the columns the CDK app deploys (the Presto view JSON and the Glue storage descriptor)
    const glue = viewColumns(view);
    const presto = decodePrestoView(encodePrestoView(view, 'tidewater_test')).columns;

    // Act
    const described = await lakehouse.describe(view.name);
    const rows = rowObjects(await lakehouse.query(`SELECT * FROM "${view.name}"`));

    // Assess
    expect(described.map((c) => c.name)).toEqual(presto.map((c) => c.name));
    expect(described.map((c) => c.name)).toEqual(glue.map((c) => c.name));
    expect(described.map((c) => c.type)).toEqual(view.columns.map((c) => athenaToDuckdbType(c.type)));
    expect(rows.length).toBeGreaterThan(0);
  });

  it.each(domain.charts.map((c) => [c.id, c] as const))('chart %s has data', async (_id, chart) => {
    // Act
    const rows = rowObjects(await lakehouse.query(chartSql(chart)));

    // Assess
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((r) => Number(r.v) > 0)).toBe(true);
  });
});

/** The relations a view reads, itself included, following views it reads. */
function closure(view: ViewDefinition, views: readonly ViewDefinition[]): ViewDefinition[] {
  const out = [view];
  for (const t of Object.keys(view.requires)) {
    const dep = views.find((v) => v.name === t);
    if (dep) out.unshift(...closure(dep, views));
  }
  return out;
}

describe.each(DOMAINS)('the requirements the %s views declare', (name) => {
  const domain = loadDomain(name);
  const root = mkdtempSync(join(tmpdir(), 'tidewater-requires-'));
  dirs.push(root);

  it.each(
    domain.views.map((v) => [v.name, v] as const),
  )('%s reads no column it does not declare', async (_n, view) => {
    // Prepare: the domain's tables cut down to the columns the view (and the views it reads) declare
    const needed = closure(view, domain.views);
    const keep = (table: string) => new Set(needed.flatMap((v) => v.requires[table] ?? []));
    const tables = lakehouseTablesOf(domain).map((t) => {
      const cols = keep(t.path.split('/').at(-1)!);
      return { ...t, columns: t.columns.filter((c) => cols.has(c.name)) };
    });

    // Act
    const lake = await Lakehouse.open({ root, tables, views: needed });

    // Assess
    try {
      expect(lake.relations().filter((r) => r.error !== undefined)).toEqual([]);
    } finally {
      lake.close();
    }
  });
});
