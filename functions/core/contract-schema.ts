/**
 * The record contract of a domain (its `fields`) as a JSON Schema (draft 2020-12) and as an Avro
 * schema, for producers and schema registries (`tidewater domain schema FILE --format ...`).
 *
 * What each can say: JSON Schema says the whole contract, conditional rules included
 * (`required_for`, `only_for` and `pair` as `if`/`then` and `dependentRequired`). Avro has no
 * conditional fields: a field required for some event types only is optional (`["null", T]`),
 * and the validator keeps checking the rule; an event-time field is a `timestamp-millis` long
 * (the contract also accepts an ISO-8601 string, which Avro cannot type as the same field).
 */
import type { Domain, FieldSpec } from './domain.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A JSON Schema conditional. Built from entries: a `then` key in an object literal reads to lint
 * (and to people) like a thenable, which this is not.
 */
function ifThen(condition: Json, consequence: Json): Json {
  return Object.fromEntries([
    ['if', condition],
    ['then', consequence],
  ]) as Json;
}

function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

function jsonSchemaOf(f: FieldSpec): Record<string, Json> {
  const s: Record<string, Json> = {};
  switch (f.type) {
    case 'string':
      s['type'] = 'string';
      if (f.minLength !== null) s['minLength'] = f.minLength;
      if (f.maxLength !== null) s['maxLength'] = f.maxLength;
      if (f.pattern !== null) s['pattern'] = f.pattern.source;
      if (f.enum !== null) s['enum'] = [...f.enum];
      break;
    case 'number':
    case 'integer':
      s['type'] = f.type;
      if (f.min !== null) s['minimum'] = f.min;
      if (f.max !== null) s['maximum'] = f.max;
      break;
    case 'boolean':
      s['type'] = 'boolean';
      break;
    case 'timestamp': {
      const bounds =
        f.min !== null || f.max !== null
          ? ` between ${f.min === null ? '-' : isoOf(f.min)} and ${f.max === null ? '-' : isoOf(f.max)}`
          : '';
      s['description'] = `ISO-8601 time with a zone, or epoch milliseconds${bounds}`;
      s['oneOf'] = [
        { type: 'string', format: 'date-time' },
        {
          type: 'integer',
          ...(f.min !== null ? { minimum: f.min } : {}),
          ...(f.max !== null ? { maximum: f.max } : {}),
        },
      ];
      break;
    }
  }
  if (f.default !== null) s['default'] = f.default;
  return s;
}

/** The contract as a JSON Schema (draft 2020-12). Unknown extra fields are allowed, as the validator allows them. */
export function contractJsonSchema(domain: Domain): Record<string, Json> {
  const properties: Record<string, Json> = {};
  for (const f of domain.fields) {
    const base = jsonSchemaOf(f);
    // A JSON null counts as absent, for optional fields.
    properties[f.name] = f.required ? base : { anyOf: [base, { type: 'null' }] };
  }
  const typeField = domain.eventTypeField;
  const allOf: Json[] = [];
  for (const t of domain.eventTypes) {
    const needed = domain.fields.filter((f) => !f.required && f.requiredFor.includes(t)).map((f) => f.name);
    if (needed.length > 0)
      allOf.push(
        ifThen(
          { properties: { [typeField]: { const: t } }, required: [typeField] },
          {
            required: needed,
            properties: Object.fromEntries(needed.map((n) => [n, { not: { type: 'null' } }])),
          },
        ),
      );
  }
  for (const f of domain.fields) {
    if (f.onlyFor === null) continue;
    allOf.push(
      ifThen(
        { properties: { [typeField]: { not: { enum: [...f.onlyFor] } } }, required: [typeField] },
        { properties: { [f.name]: { type: 'null' } } },
      ),
    );
  }
  const dependentRequired: Record<string, Json> = {};
  for (const f of domain.fields) if (f.pair !== null) dependentRequired[f.name] = [f.pair];
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `urn:tidewater:domain:${domain.name}`,
    title: domain.name,
    description:
      `${domain.description} Kafka topic ${domain.topic}; record key = ${domain.keyField}; at most ${domain.maxRecordBytes} bytes.`.trim(),
    type: 'object',
    required: domain.fields.filter((f) => f.required).map((f) => f.name),
    properties,
    ...(Object.keys(dependentRequired).length > 0 ? { dependentRequired } : {}),
    ...(allOf.length > 0 ? { allOf } : {}),
    additionalProperties: true,
  };
}

function pascal(name: string): string {
  return name
    .split(/[_-]/)
    .map((p) => (p === '' ? '' : `${p[0]!.toUpperCase()}${p.slice(1)}`))
    .join('');
}

function avroTypeOf(domain: Domain, f: FieldSpec): Json {
  switch (f.type) {
    case 'string':
      // Avro enum symbols must be names: lists like [temperature, humidity] are; others stay strings.
      if (f.enum?.every((e) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(e)))
        return { type: 'enum', name: `${pascal(domain.name)}${pascal(f.name)}`, symbols: [...f.enum] };
      return 'string';
    case 'number':
      return 'double';
    case 'integer':
      return 'long';
    case 'boolean':
      return 'boolean';
    case 'timestamp':
      return { type: 'long', logicalType: 'timestamp-millis' };
  }
}

/** The contract as an Avro record schema (namespace `tidewater.<domain>`). */
export function contractAvroSchema(domain: Domain): Record<string, Json> {
  const fields: Json[] = domain.fields.map((f) => {
    const type = avroTypeOf(domain, f);
    const rules = [
      f.requiredFor.length > 0 ? `required for ${f.requiredFor.join(', ')}` : '',
      f.onlyFor !== null ? `absent except for ${f.onlyFor.join(', ')}` : '',
      f.pair !== null ? `given together with ${f.pair}` : '',
      f.min !== null && f.type !== 'timestamp' ? `>= ${f.min}` : '',
      f.max !== null && f.type !== 'timestamp' ? `<= ${f.max}` : '',
      f.pattern !== null ? `matches ${f.pattern.source}` : '',
      f.default !== null ? `default ${String(f.default)} when absent` : '',
    ].filter((r) => r !== '');
    const field: Record<string, Json> = f.required
      ? { name: f.name, type }
      : { name: f.name, type: ['null', type], default: null };
    if (rules.length > 0) field['doc'] = rules.join('; ');
    return field;
  });
  return {
    type: 'record',
    name: pascal(domain.name),
    namespace: `tidewater.${domain.name}`,
    doc: `${domain.description} Kafka topic ${domain.topic}; record key = ${domain.keyField}.`.trim(),
    fields,
  };
}
