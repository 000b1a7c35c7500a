/**
 * The hot-path shortcuts against the plain way of doing the same thing, on random inputs:
 * the flat JSON scanner against `JSON.parse`, the ASCII base64 decode against `Buffer`, the
 * scanner-backed validator against the interpreting one, and the cached ISO formatter
 * against `Date#toISOString`.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileValidator,
  decodeKafkaRecord,
  generateEvents,
  isPlainAscii,
  loadDomain,
} from '../../../functions/core/index.ts';
import { asciiFromBase64 } from '../../../functions/core/kafka.ts';
import { isoString, parseIsoTimestamp } from '../../../functions/core/time.ts';
import { FlatJsonScanner } from '../../../functions/core/validate.ts';

const NAMES = ['event_id', 'event_type', 'ts', 'amount', 'a', 'lat', 'lon'];

/** A JSON number text from its grammar, including forms JSON.stringify never writes. */
const numberText = fc
  .tuple(
    fc.boolean(),
    fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,19}$/)),
    fc.option(fc.stringMatching(/^[0-9]{1,25}$/), { nil: undefined }),
    fc.option(fc.stringMatching(/^[eE][+-]?[0-9]{1,3}$/), { nil: undefined }),
  )
  .map(
    ([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}${exp ?? ''}`,
  );

const scalar = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 2 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string(), scalar, { maxKeys: 2 }) },
);
const key = fc.oneof(fc.constantFrom(...NAMES, '__proto__', 'constructor', 'event', 'ts2', ''), fc.string());
const ws = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ', '\u00a0', '\f');

/** JSON object texts: stringified objects with numbers in raw forms, odd whitespace, repeated keys and damage. */
const objectText = fc
  .tuple(
    fc.array(
      fc.tuple(
        key,
        fc.oneof(
          value.map((v) => JSON.stringify(v)),
          numberText,
        ),
        ws,
        ws,
      ),
      {
        maxLength: 9,
      },
    ),
    ws,
    fc.option(fc.tuple(fc.nat(), fc.string({ maxLength: 3 })), { nil: undefined }),
  )
  .map(([entries, w, damage]) => {
    const text = `${w}{${entries.map(([k, v, a, b]) => `${a}${JSON.stringify(k)}${b}:${a}${v}${b}`).join(',')}}${w}`;
    if (damage === undefined) return text;
    const at = damage[0] % (text.length + 1);
    return text.slice(0, at) + damage[1] + text.slice(at + (damage[0] % 3));
  });

describe('FlatJsonScanner', () => {
  it('accepts only JSON objects and then reads exactly what JSON.parse reads', () => {
    const scanner = new FlatJsonScanner(NAMES);
    const slots: unknown[] = [];
    fc.assert(
      fc.property(objectText, (text) => {
        if (!scanner.scan(text, slots)) return;
        const o = JSON.parse(text) as Record<string, unknown>;
        expect(typeof o === 'object' && o !== null && !Array.isArray(o)).toBe(true);
        NAMES.forEach((name, i) => {
          expect(Object.is(slots[i], Object.hasOwn(o, name) ? o[name] : undefined)).toBe(true);
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('reads a plain text the same with indexOf as char by char', () => {
    const scanner = new FlatJsonScanner(NAMES);
    const a: unknown[] = [];
    const b: unknown[] = [];
    let plain = 0;
    fc.assert(
      // Any text made plain (not only JSON ones): escapes and whitespace become spaces.
      fc.property(objectText, (raw) => {
        const text = raw.replace(/[^\x20-\x5b\x5d-\x7e]/g, ' ');
        expect(isPlainAscii(text)).toBe(true);
        plain++;
        expect(scanner.scan(text, a, true)).toBe(scanner.scan(text, b, false));
        for (let i = 0; i < NAMES.length; i++) expect(Object.is(a[i], b[i])).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(plain).toBe(3000);
  });

  it('calls plain exactly the printable ASCII texts without a backslash', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (text) => {
        const expected = [...text].every((ch) => ch >= ' ' && ch <= '~' && ch !== '\\');
        expect(isPlainAscii(text)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
    expect(isPlainAscii('{"a":"b c","n":-1.5e3}')).toBe(true);
    expect(isPlainAscii('{"a":"\\""}')).toBe(false);
    expect(isPlainAscii('{"a":\t1}')).toBe(false);
    expect(isPlainAscii('{"a":"\u00e9"}')).toBe(false);
  });

  it('takes the common flat shape without falling back', () => {
    const scanner = new FlatJsonScanner(NAMES);
    const slots: unknown[] = [];
    expect(scanner.scan('{"event_id":"e-1","amount":12.5,"lat":-0.0,"x":{"y":1},"ts":1}', slots)).toBe(false);
    expect(
      scanner.scan(' {"event_id":"e-1","amount":12.50,"lat":-0.0,"a":null,"ts":1700000000000} ', slots),
    ).toBe(true);
    expect(slots).toEqual(['e-1', undefined, 1700000000000, 12.5, null, -0, undefined]);
    expect(Object.is(slots[5], -0)).toBe(true);
  });

  it('parses timestamp fields in place: epoch ms for an ISO string, out of the subset for a bad one', () => {
    const scanner = new FlatJsonScanner(['ts', { name: 'at', timestamp: true }]);
    const slots: unknown[] = [];
    const tsText = fc.oneof(
      fc.constantFrom(
        '2026-11-02T08:00:00.145Z',
        '2026-11-02T08:00+01:00',
        '2026-02-30T00:00Z',
        '2026-11-02',
      ),
      fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString()),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          tsText.map((t) => JSON.stringify(t)),
          numberText,
        ),
        fc.constantFrom('', ',"x":"2026-11-02T08:00:00Z"'),
        (at, more) => {
          const text = `{"ts":${at},"at":${at}${more}}`;
          const parsed = JSON.parse(text) as { at: unknown };
          const ok = scanner.scan(text, slots);
          if (typeof parsed.at === 'string') {
            // Not a timestamp: out of the subset, so that the validator's general path names it.
            const ms = parseIsoTimestamp(parsed.at);
            expect(ok).toBe(ms !== undefined);
            if (ok) {
              expect(slots[1]).toBe(ms);
              expect(slots[0]).toBe(parsed.at);
            }
          } else {
            expect(ok).toBe(true);
            expect(Object.is(slots[1], parsed.at)).toBe(true);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('reads strings of a field with known values exactly, near misses included', () => {
    const known = ['transaction', 'login', 'page_view', 'EUR', 'E', 'login2'];
    const scanner = new FlatJsonScanner([{ name: 'type', known }]);
    const slots: unknown[] = [];
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...known, 'logi', 'loginn', 'EUR ', ''), fc.string({ maxLength: 12 })),
        (v) => {
          const text = JSON.stringify({ type: v });
          if (!scanner.scan(text, slots)) return;
          expect(slots[0]).toBe(v);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('matches in place only names and known values that a JSON text holds as themselves', () => {
    // `a"b` can only appear escaped: a match of its characters followed by a quote would accept
    // a text that is not JSON.
    const scanner = new FlatJsonScanner([
      'x',
      { name: 'a"b', known: ['q"', 'ok'] },
      { name: 'k', known: ['q"'] },
    ]);
    const slots: unknown[] = [];
    expect(scanner.scan('{"x":1,"a"b":2}', slots)).toBe(false);
    expect(scanner.scan('{"x":1,"k":"q"",}', slots)).toBe(false);
    expect(scanner.scan('{"x":1,"k":"q"}', slots)).toBe(true);
    expect(slots[2]).toBe('q');
  });

  it('converts numbers exactly like JSON.parse', () => {
    const scanner = new FlatJsonScanner(['n']);
    const slots: unknown[] = [];
    fc.assert(
      fc.property(numberText, (n) => {
        const text = `{"n":${n}}`;
        expect(scanner.scan(text, slots)).toBe(true);
        expect(Object.is(slots[0], (JSON.parse(text) as { n: number }).n)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('Kafka value decoding', () => {
  /** The reference: the Buffer path alone. */
  function reference(b64: string): { value: string; bytes: number; invalid: boolean } {
    const bytes = Buffer.from(b64, 'base64');
    return { value: bytes.toString('utf8'), bytes: bytes.length, invalid: !isUtf8(bytes) };
  }

  const b64 = fc
    .tuple(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        fc.string({ unit: 'binary' }).map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
        fc.string({ maxLength: 40 }).map((s) => new Uint8Array(Buffer.from(s, 'latin1'))),
      ),
      fc.constantFrom('plain', 'unpadded', 'url', 'spaced'),
    )
    .map(([bytes, form]) => {
      const text = Buffer.from(bytes).toString('base64');
      if (form === 'unpadded') return text.replace(/=+$/, '');
      if (form === 'url') return Buffer.from(bytes).toString('base64url');
      if (form === 'spaced') return text.replace(/(.{4})/g, '$1 ');
      return text;
    });

  it('gives the bytes, text and UTF-8 verdict of the Buffer path', () => {
    fc.assert(
      fc.property(b64, (v) => {
        const r = decodeKafkaRecord({
          topic: 't',
          partition: 0,
          offset: 0,
          timestamp: 0,
          timestampType: 'CREATE_TIME',
          value: v,
        });
        const ref = reference(v);
        expect(r.value).toBe(ref.value);
        expect(r.valueBytes).toBe(ref.bytes);
        expect(r.invalidUtf8).toBe(ref.invalid && ref.value.includes('\uFFFD'));
        // A hint: set only when true, and always on the atob path.
        if (r.plain) expect(isPlainAscii(ref.value)).toBe(true);
        const ascii = asciiFromBase64(v);
        if (ascii !== null) {
          expect(ascii).toBe(ref.value);
          expect(r.plain).toBe(isPlainAscii(ref.value));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('validator with the scanner', () => {
  const payments = loadDomain('payments');
  const fast = compileValidator(payments);
  const slow = compileValidator(payments, { fastPath: false });
  const uncopied = compileValidator(payments, { copyStrings: false });
  const values = [...generateEvents(payments, 400, { seed: 5, poisonRate: 0.1 })].map((r) => r.value);

  it('agrees with the interpreting checker on damaged and reshaped events', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...values),
        fc.nat(),
        fc.constantFrom('', ' ', '"', '\\', '1', 'null', ',', '}', '{"a":1}', '"amount":-1,', '"ts":1e3,'),
        fc.constantFrom('keep', 'insert', 'replace', 'pretty'),
        (v, at, piece, how) => {
          let text = v;
          const i = at % (v.length + 1);
          if (how === 'insert') text = v.slice(0, i) + piece + v.slice(i);
          else if (how === 'replace') text = v.slice(0, i) + piece + v.slice(i + piece.length);
          else if (how === 'pretty') {
            try {
              text = JSON.stringify(JSON.parse(v), null, 2);
            } catch {
              text = v;
            }
          }
          const rec = { topic: 't', partition: 0, offset: 1, key: null, value: text };
          const expected = slow(rec);
          expect(fast(rec)).toEqual(expected);
          expect(uncopied(rec)).toEqual(expected);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('copyStrings', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const payments = loadDomain('payments');

  /** Heap bytes still used by the event ids after their records (each with a 20 KB field the contract ignores) are let go. */
  function retainedByIds(copyStrings: boolean): number {
    const validate = compileValidator(payments, { copyStrings });
    const pad = 'p'.repeat(20_000);
    gc();
    const before = process.memoryUsage().heapUsed;
    const ids: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      const value = `{"event_id":"e-${String(i).padStart(30, '0')}","event_type":"login","user_id":"u-1","ts":1793606400000,"note":"${pad}${i}"}`;
      const r = validate({ topic: 't', partition: 0, offset: i, key: null, value, plain: true });
      if (!r.ok) throw new Error(r.reason.message);
      ids.push(r.event.id);
    }
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    expect(ids[1999]).toBe(`e-${'0'.repeat(26)}1999`);
    return retained;
  }

  it('on (the default): a kept id does not keep its record text alive; off: it does', () => {
    // 2,000 records of 20 KB: 40 MB if the ids kept them, about 100 KB of ids otherwise.
    expect(retainedByIds(true)).toBeLessThan(4_000_000);
    expect(retainedByIds(false)).toBeGreaterThan(30_000_000);
  });
});

describe('isoString', () => {
  it('equals Date#toISOString', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_198_755_200_000, max: 8_640_000_000_000_000 }), (ms) => {
        expect(isoString(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 3000 },
    );
  });
});

describe('generator speed-ups', () => {
  // Re-recorded on purpose when the traffic model changes (last: warm start at the configured
  // rate, first scenarios on keys of their own, home points and roam_km, 2026-12-04; before:
  // scenario steps at most 30 s apart); a speed-up alone must never change it.
  it('leave the generated records unchanged (digest of a fixed seed, recorded before them)', () => {
    const h = createHash('sha256');
    for (const r of generateEvents(loadDomain('payments'), 20_000, {
      seed: 3,
      anomalies: true,
      poisonRate: 0.01,
      duplicateRate: 0.01,
    }))
      h.update(`${r.key}\n${r.value}\n${JSON.stringify(r.label ?? null)}\n`);
    expect(h.digest('hex')).toBe('5c5ec9b992ad9457d3e84f3988a2df804a751e35492ef358b8453bc02a3feef1');
  });
});

describe('parseIsoTimestamp without Date.UTC', () => {
  it('equals Date.parse on ISO texts with zones, years 0100-9999', () => {
    const two = (n: number) => String(n).padStart(2, '0');
    fc.assert(
      fc.property(
        fc.integer({ min: -59_011_372_800_000, max: 253_402_214_399_999 }),
        fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
        fc.constantFrom(0, 1, 2, 3, 4),
        (ms, offsetMin, form) => {
          const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 23);
          const zone =
            offsetMin === 0 && form === 0
              ? 'Z'
              : `${offsetMin < 0 ? '-' : '+'}${two(Math.floor(Math.abs(offsetMin) / 60))}:${two(Math.abs(offsetMin) % 60)}`;
          const body = [local, local.slice(0, 19), local.slice(0, 16), local.slice(0, 21), local][form]!;
          const text = body + zone;
          expect(parseIsoTimestamp(text)).toBe(Date.parse(text));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('gives the same with the minute part remembered from the previous call as parsed afresh', () => {
    const minute = fc
      .tuple(
        fc.integer({ min: -30_610_224_000_000, max: 253_402_300_799_999 }),
        fc.constantFrom('T', 't', ' '),
      )
      .map(([ms, sep]) => new Date(ms).toISOString().slice(0, 16).replace('T', sep));
    const tail = fc.oneof(
      fc.constantFrom(
        'Z',
        'z',
        ':00Z',
        ':59.999Z',
        ':60Z',
        ':5Z',
        '+05:30',
        '-0130',
        ':00.Z',
        ':00,5+01:00',
        '',
      ),
      fc.constantFrom(':00.1234567891Z', ':07.1Z', '+24:00', ':00Zx'),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(minute, fc.array(tail, { minLength: 1, maxLength: 5 }), (m, tails) => {
        for (const t of tails) {
          const text = m + t;
          const remembered = parseIsoTimestamp(text);
          // Another minute (year 0999, never generated above) makes the next call parse afresh.
          parseIsoTimestamp('0999-01-01T00:00Z');
          expect(remembered).toBe(parseIsoTimestamp(text));
          if (remembered !== undefined) expect(Number.isInteger(remembered)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('reads a range of a longer text exactly as that range alone, never past its end', () => {
    const GRAMMAR = /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d([.,]\d{1,9})?)?([Zz]|[+-]\d\d:?\d\d)$/;
    const iso = fc.oneof(
      fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString()),
      fc.constantFrom('2026-11-02T08:00+05:30', '2026-11-02 08:00:01,5-0130', '2026-11-02T08:00:59'),
    );
    // Damaged texts too: cut, or with a character replaced.
    const text = fc.tuple(iso, fc.nat(), fc.constantFrom('', '9', ':', 'Z', '+', '.')).map(([t, at, ch]) => {
      const i = at % (t.length + 1);
      return at % 3 === 0 ? t.slice(0, i) : t.slice(0, i) + ch + t.slice(i + 1);
    });
    const around = fc.stringMatching(/^[0-9:Z+.\-"]{0,4}$/);
    fc.assert(
      fc.property(text, around, around, (t, before, after) => {
        const whole = before + t + after;
        const alone = parseIsoTimestamp(t);
        expect(parseIsoTimestamp(whole, before.length, before.length + t.length)).toBe(alone);
        if (alone !== undefined) expect(t).toMatch(GRAMMAR);
      }),
      { numRuns: 5000 },
    );
  });
});
