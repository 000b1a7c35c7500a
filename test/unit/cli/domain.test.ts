import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDomain } from '../../../functions/core/index.ts';
import { tidewaterWith } from '../../support/cli.ts';

describe('tidewater domain', () => {
  let dir: string;
  let starter: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tw-domain-'));
    const init = await tidewater('domain', 'init', 'orders', '--dir', dir);
    if (init.code !== 0) throw new Error(init.stderr);
    starter = join(dir, 'orders.yaml');
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('init writes a commented starter that validates, and refuses to overwrite it', async () => {
    // Act
    const [valid, again] = await Promise.all([
      tidewater('domain', 'validate', starter),
      tidewater('domain', 'init', 'orders', '--dir', dir),
    ]);

    // Assess
    expect(readFileSync(starter, 'utf8')).toMatch(/^# The orders domain/);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toMatch(/domain orders is valid/);
    expect(valid.stdout).toMatch(/6 views \(5 generated, 1 declared\)/);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^tidewater: .*orders\.yaml exists; remove it or choose another name\n$/);
  });

  it('the starter runs end to end with its own views and report', async () => {
    // Act
    const out = join(dir, 'lake');
    const run = await tidewater(
      'run',
      '--domain',
      starter,
      '--generate',
      '3000',
      '--out',
      out,
      '--report',
      join(dir, 'r.html'),
      '--json',
    );
    const view = await tidewater('query', '--out', out, '--view', 'orders_by_channel', '--json');

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toContain('data-chart="by-channel"');
    expect(view.code, view.stderr).toBe(0);
    expect(JSON.parse(view.stdout).length).toBeGreaterThan(0);
  });

  it('validate lists every problem with its key path, the columns of views included', async () => {
    // Prepare: a group-by column silver does not have, and a view reading a column the domain lacks
    const broken = join(dir, 'broken.yaml');
    writeFileSync(
      broken,
      readFileSync(starter, 'utf8')
        .replace('group_by: event_type', 'group_by: kind')
        .replace(
          'requires: { events: [channel, event_type, amount_usd] }',
          'requires: { events: [channel, event_type, amount_eur] }',
        ),
    );

    // Act
    const outcome = await tidewater('domain', 'validate', broken);

    // Assess
    expect(outcome.code).toBe(2);
    const lines = outcome.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(
        /broken\.yaml: windows\[0\]\.group_by: "kind" is not a silver column \(event_id, /,
      ),
      expect.stringMatching(
        /broken\.yaml: views\[0\]: view "orders_by_channel" needs column "amount_eur" of "events", which this domain does not have/,
      ),
      expect.stringMatching(/^tidewater: .*broken\.yaml: 2 problems \(listed above\)$/),
    ]);
    expect(outcome.stderr).not.toMatch(/\n\s+at /);
  });

  it('schema prints the record contract as a JSON Schema with its conditional rules', async () => {
    // Act
    const outcome = await tidewater('domain', 'schema', 'payments', '--format', 'json-schema');

    // Assess
    expect(outcome.code).toBe(0);
    const schema = JSON.parse(outcome.stdout);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(['event_id', 'event_type', 'user_id', 'ts']);
    expect(schema.properties.event_type.enum).toEqual(['transaction', 'login', 'page_view']);
    expect(schema.properties.currency.anyOf[0]).toMatchObject({
      type: 'string',
      pattern: '^[A-Z]{3}$',
      default: 'USD',
    });
    expect(schema.dependentRequired).toEqual({ lat: ['lon'], lon: ['lat'] });
    const transaction = schema.allOf.find(
      (c: { if: { properties: { event_type?: { const?: string } } } }) =>
        c.if.properties.event_type?.const === 'transaction',
    );
    expect(transaction?.['then']).toEqual({
      required: ['amount', 'merchant_id'],
      properties: { amount: { not: { type: 'null' } }, merchant_id: { not: { type: 'null' } } },
    });
  });

  it('schema prints an Avro record of every field, optional ones as a union with null', async () => {
    // Act
    const outcome = await tidewater('domain', 'schema', 'iot', '--format', 'avro');

    // Assess
    expect(outcome.code).toBe(0);
    const avro = JSON.parse(outcome.stdout);
    expect(avro).toMatchObject({ type: 'record', name: 'Iot', namespace: 'tidewater.iot' });
    expect(avro.fields.map((f: { name: string }) => f.name)).toEqual(
      loadDomain('iot').fields.map((f) => f.name),
    );
    const byName = new Map(avro.fields.map((f: { name: string }) => [f.name, f]));
    expect(byName.get('ts')).toMatchObject({ type: { type: 'long', logicalType: 'timestamp-millis' } });
    expect(byName.get('battery_pct')).toMatchObject({ type: ['null', 'long'], default: null });
    expect(byName.get('kind')).toMatchObject({ type: { type: 'enum', symbols: ['reading', 'heartbeat'] } });
  });

  it('schema refuses an unknown format in one line', async () => {
    // Act
    const outcome = await tidewater('domain', 'schema', 'iot', '--format', 'protobuf');

    // Assess
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toBe("tidewater: --format must be json-schema or avro, got 'protobuf'\n");
  });
});

/** The CLI with a cache dir of this test's own. */
function tidewater(...args: string[]) {
  return tidewaterWith({ TIDEWATER_CACHE_DIR: join(tmpdir(), 'tw-domain-cli-cache') }, ...args);
}
