import { describe, expect, it } from 'vitest';
import { restamp } from '../../../cli/commands/produce.ts';
import { runCommand } from '../../../cli/commands/run.ts';
import { formatAlertLine, formatDeadLetterLine, tailCommand } from '../../../cli/commands/tail.ts';
import { UserError } from '../../../cli/errors.ts';
import { tidewater } from '../../support/cli.ts';

const T = Date.UTC(2026, 11, 4, 12, 0, 0);

describe('tail lines', () => {
  it('shows an alert as one line: detected time, severity, pattern, ids, event time and the delay', () => {
    // Act
    const line = formatAlertLine({
      alert_id: 'rapid_fire_burst:e-9',
      pattern: 'rapid_fire_burst',
      severity: 'HIGH',
      user_id: 'u-7',
      event_id: 'e-9',
      ts: T,
      details: '{"count":5}',
      detected_at: T + 1_234,
    });

    // Assess
    expect(line).not.toContain('\n');
    expect(line).toMatch(
      /^2026-12-04T12:00:01\.234Z HIGH +rapid_fire_burst +user_id=u-7 event_id=e-9 event at 2026-12-04T12:00:00\.000Z \(\+1234 ms after the event\) \{"count":5\}$/,
    );
  });

  it('shows a dead letter as one line: sent time, reason, coordinates, key and the start of its value', () => {
    // Act
    const line = formatDeadLetterLine(
      {
        reason: { code: 'invalid_json', message: 'Unexpected token' },
        topic: 'tidewater.raw-events',
        partition: 2,
        offset: 41,
        key: 'u-1',
        valueBase64: Buffer.from(`{not json${'x'.repeat(200)}\n`).toString('base64'),
      },
      T,
    );

    // Assess
    expect(line).not.toContain('\n');
    expect(line).toMatch(
      /^2026-12-04T12:00:00\.000Z invalid_json: Unexpected token at tidewater\.raw-events-2@41 key=u-1 "\{not jsonx+…"$/,
    );
  });
});

describe('tidewater tail and run --rate: usage errors', () => {
  const run = (o: Record<string, string>) =>
    runCommand({
      seed: '1',
      out: './lakehouse',
      stack: 'embedded',
      domain: 'payments',
      batchSize: '10000',
      checkpoint: '500000',
      ...o,
    });

  it.each([
    [
      'tail everything',
      () => tailCommand('everything', {}),
      /^tail what\? 'everything' is not one of: alerts, dead-letters$/,
    ],
    [
      'tail alerts --count 0',
      () => tailCommand('alerts', { count: '0' }),
      /^--count must be a positive integer, got '0'$/,
    ],
    [
      'tail alerts --seconds -1',
      () => tailCommand('alerts', { seconds: '-1' }),
      /^--seconds must be a positive number/,
    ],
    [
      'tail alerts --queue',
      () => tailCommand('alerts', { queue: 'http://q' }),
      /^--queue and --all apply to tail dead-letters$/,
    ],
    [
      'tail dead-letters --from-beginning',
      () => tailCommand('dead-letters', { fromBeginning: true }),
      /^--topic and --from-beginning apply to tail alerts$/,
    ],
    ['run --rate, embedded', () => run({ generate: '10', rate: '5' }), /^--rate applies to --stack local/],
    [
      'run --rate fast',
      () => run({ stack: 'local', rate: 'fast', duration: '5' }),
      /^--rate must be a positive number, got 'fast'$/,
    ],
    [
      'run --rate without a duration',
      () => run({ stack: 'local', rate: '50' }),
      /^with --rate, give --duration S/,
    ],
    [
      'run --duration without a rate',
      () => run({ generate: '10', duration: '5' }),
      /^--duration applies with --rate/,
    ],
  ] as const)('%s is refused as a user mistake, with the value', async (_name, act, message) => {
    // Act + Assess
    const err = await act().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(message);
    expect((err as UserError).exitCode).toBe(2);
  });

  it('prints a mistake on one line with exit code 2, and documents tail with --help', async () => {
    // Act
    const bad = await tidewater('tail', 'everything');
    const help = await tidewater('tail', '--help');

    // Assess
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      "tidewater: tail what? 'everything' is not one of: alerts, dead-letters",
    ]);
    expect(help.code).toBe(0);
    for (const flag of ['--json', '--count', '--seconds', '--from-beginning', '--queue', '--all'])
      expect(help.stdout).toContain(flag);
  });
});

describe('live mode event time', () => {
  it('stamps event time with the send time minus the lag behind the stream, in the format it had', () => {
    // Prepare: the stream's newest event time so far is 10:00:05; the event is 3 s behind it
    const now = Date.UTC(2026, 11, 4, 23, 0, 0);
    const lagOf = (ts: number) => Date.UTC(2026, 10, 2, 10, 0, 5) - ts;
    // Act
    const iso = JSON.parse(restamp('{"event_id":"e","ts":"2026-11-02T10:00:02Z"}', 'ts', now, lagOf));
    const epoch = JSON.parse(restamp(`{"ts":${Date.UTC(2026, 10, 2, 10, 0, 2)}}`, 'ts', now, lagOf));
    // Assess
    expect(iso).toEqual({ event_id: 'e', ts: '2026-12-04T22:59:57.000Z' });
    expect(epoch).toEqual({ ts: now - 3_000 });
    expect(restamp('{not json', 'ts', now, lagOf)).toBe('{not json');
    expect(restamp('{"ts":"yesterday"}', 'ts', now, lagOf)).toBe('{"ts":"yesterday"}');
  });
});
