import { describe, expect, it } from 'vitest';
import {
  DomainConfigError,
  loadDomain,
  parseDomain,
  parseDomainObject,
} from '../../../functions/core/index.ts';
import { testDomainConfig } from './helpers.ts';

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a DomainConfigError');
}

describe('domain config', () => {
  it('loads the payments domain with the SPEC §1 contract and defaults', () => {
    // Act
    const d = loadDomain('payments');
    // Assess
    expect(d.keyField).toBe('user_id');
    expect(d.dedupField).toBe('event_id');
    expect(d.eventTypes).toEqual(['transaction', 'login', 'page_view']);
    expect(d.maxOutOfOrdernessMs).toBe(10_000);
    expect(d.maxRecordBytes).toBe(256 * 1024);
    expect(d.fields.find((f) => f.name === 'currency')?.default).toBe('USD');
    expect(d.windows.map((w) => [w.type, w.sizeMs, w.slideMs, w.gapMs])).toEqual([
      ['tumbling', 60_000, 60_000, 0],
      ['sliding', 300_000, 60_000, 0],
      ['session', 0, 0, 1_800_000],
    ]);
    expect(d.cep?.patterns.velocitySpike).toEqual({ moreThan: 20, windowMs: 3_600_000 });
  });

  it('loads the iot domain, which needs no code of its own', () => {
    // Act
    const d = loadDomain('iot');
    // Assess
    expect(d.keyField).toBe('device_id');
    expect(d.windows.map((w) => w.groupBy)).toEqual(['sensor', 'site_id', 'device_id']);
    expect(d.cep?.patterns.merchantDiversity).toBeNull();
  });

  it('names the file and the path of a bad duration', () => {
    // Prepare
    const yaml = `name: x
key_field: k
dedup_field: id
event_time_field: ts
event_type_field: t
event_types: [a]
fields:
  id: { type: string, required: true }
  k: { type: string, required: true }
  t: { type: string, required: true }
  ts: { type: timestamp, required: true }
windows:
  - { name: w1, type: tumbling, size: 1m, group_by: k }
  - { name: w2, type: tumbling, size: 5x, group_by: k }
`;
    // Act
    const message = problemsOf(() => parseDomain(yaml, 'config/domains/payments.yaml'));
    // Assess
    expect(message).toBe(
      'config/domains/payments.yaml: windows[1].size: expected a duration like "5m", got "5x"',
    );
  });

  it('reports an unknown key with its path', () => {
    // Prepare
    const config = testDomainConfig();
    (config['fields'] as Record<string, Record<string, unknown>>)['x']!['mni'] = 0;
    // Act
    const message = problemsOf(() => parseDomainObject(config, 'unit.yaml'));
    // Assess
    expect(message).toBe('unit.yaml: fields.x.mni: unknown key');
  });

  it('rejects a group-by column that silver does not have', () => {
    // Prepare
    const config = testDomainConfig();
    (config['windows'] as Array<Record<string, unknown>>)[0]!['group_by'] = 'nope';
    // Act
    const message = problemsOf(() => parseDomainObject(config, 'unit.yaml'));
    // Assess
    expect(message).toMatch(/^unit\.yaml: windows\[0\]\.group_by: "nope" is not a silver column/);
  });

  it('rejects a sliding window whose slide does not divide its size', () => {
    // Prepare
    const config = testDomainConfig();
    (config['windows'] as Array<Record<string, unknown>>)[1]!['slide'] = '3s';
    // Act
    const message = problemsOf(() => parseDomainObject(config, 'unit.yaml'));
    // Assess
    expect(message).toContain('windows[1].slide: the slide must divide the size');
  });

  it('rejects an event type in required_for that the domain does not declare', () => {
    // Prepare
    const config = testDomainConfig();
    (config['fields'] as Record<string, Record<string, unknown>>)['x']!['required_for'] = ['refund'];
    // Act
    const message = problemsOf(() => parseDomainObject(config, 'unit.yaml'));
    // Assess
    expect(message).toContain('fields.x.required_for[0]: unknown event type "refund"');
  });

  it('reports YAML syntax errors as config errors', () => {
    // Act
    const message = problemsOf(() => parseDomain('name: [unclosed', 'bad.yaml'));
    // Assess
    expect(message).toMatch(/^bad\.yaml: \(yaml\): /);
  });

  it('explains where domains live when the name is unknown', () => {
    // Act
    const message = problemsOf(() => loadDomain('no_such_domain'));
    // Assess
    expect(message).toMatch(/config\/domains\/no_such_domain\.yaml: \(file\): cannot read/);
  });
});
