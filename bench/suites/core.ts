/**
 * Core engine benchmark (issue 3): 1M generated payments events on one core.
 * Measures the generator, decode + validate + enrich (from Lambda Kafka events, base64; as the AWS
 * enrich consumer runs it, and with the strings copied out of the record texts as the embedded
 * pipeline needs), de-duplication, each window type alone, CEP, windows + CEP together, and the
 * whole chain end to end; reports the size of CEP state per 10k keys with state.
 *
 *   npm run bench -- core [--events 1000000] [--seed 1] [--repeat 3] [--baseline <git ref>] [--no-cache] [--only <measure>]
 *
 * `--only decode` measures only the sections whose name contains `decode`; `--only a,b` either.
 *
 * Trustworthy on a shared machine:
 * - inputs are generated once per process and cached on disk (`~/.cache/tidewater/bench/`,
 *   keyed by the generator's sources, the domain file and the options), then turned into Lambda
 *   Kafka events outside the timed sections;
 * - every section is warmed up (on a slice) before it is measured, then run `--repeat` times;
 *   the table shows the median run, by wall clock and by process CPU time (`process.cpuUsage()`,
 *   user + system), and the heap the section retains (forced GC before and after) and the RSS;
 * - `--baseline <git ref>` extracts `functions/core` of that commit (`git archive`, cached under
 *   `node_modules/.cache/tidewater-bench/`) and
 *   measures it in the same process, alternating with the working tree's code run by run, so
 *   both see the same machine load. Both get the same domain object and the same inputs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync, gzipSync } from 'node:zlib';
import type {
  Domain,
  GeneratedRecord,
  LambdaKafkaEvent,
  LambdaKafkaRecord,
  SilverEvent,
} from '../../functions/core/index.ts';
import * as current from '../../functions/core/index.ts';
import { argValue, type BenchResult, type BenchSuite, generatorFingerprint, hasFlag } from '../suite.ts';

type Core = typeof current;

const BATCH = 10_000;
const PARTITIONS = 6;
const GENERATOR_OPTIONS = { anomalies: true, poisonRate: 0.001, duplicateRate: 0.001 } as const;
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheDir = join(homedir(), '.cache', 'tidewater', 'bench');

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function partitionOf(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % PARTITIONS;
}

/** Lambda Kafka events of up to BATCH records, keyed per partition like the event source mapping. */
function toLambdaEvents(
  records: ReadonlyArray<{ key: string; value: string }>,
  topic: string,
): LambdaKafkaEvent[] {
  const events: LambdaKafkaEvent[] = [];
  const offsets = new Array<number>(PARTITIONS).fill(0);
  let ts = Date.UTC(2026, 10, 2, 8);
  for (let from = 0; from < records.length; from += BATCH) {
    const byPartition: Record<string, LambdaKafkaRecord[]> = {};
    for (let i = from; i < Math.min(records.length, from + BATCH); i++) {
      const r = records[i]!;
      const p = partitionOf(r.key);
      const pk = `${topic}-${p}`;
      let list = byPartition[pk];
      if (list === undefined) {
        list = [];
        byPartition[pk] = list;
      }
      list.push({
        topic,
        partition: p,
        offset: offsets[p]!++,
        timestamp: ts++,
        timestampType: 'CREATE_TIME',
        key: Buffer.from(r.key).toString('base64'),
        value: Buffer.from(r.value).toString('base64'),
        headers: [],
      });
    }
    events.push({
      eventSource: 'aws:kafka',
      eventSourceArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/bench/x',
      records: byPartition,
    });
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// Input cache: `[u32 key bytes][key][u32 value bytes][value]...`, gzip level 1.

function inputCacheFile(domainName: string, n: number, seed: number): string {
  const digest = generatorFingerprint(join(current.domainsDir(), `${domainName}.yaml`), {
    n,
    seed,
    GENERATOR_OPTIONS,
  });
  return join(cacheDir, `core-${domainName}-${n}-${seed}-${digest}.bin.gz`);
}

function writeInputs(file: string, records: readonly GeneratedRecord[]): void {
  const parts: Buffer[] = [];
  for (const r of records) {
    for (const text of [r.key, r.value]) {
      const b = Buffer.from(text, 'utf8');
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32LE(b.length);
      parts.push(len, b);
    }
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, gzipSync(Buffer.concat(parts), { level: 1 }));
  renameSync(`${file}.tmp`, file);
}

function readInputs(file: string): Array<{ key: string; value: string }> {
  const buf = gunzipSync(readFileSync(file));
  const out: Array<{ key: string; value: string }> = [];
  let at = 0;
  const next = (): string => {
    const len = buf.readUInt32LE(at);
    const text = buf.toString('utf8', at + 4, at + 4 + len);
    at += 4 + len;
    return text;
  };
  while (at < buf.length) {
    const key = next();
    out.push({ key, value: next() });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Baseline: functions/core of another commit, extracted once.

async function loadBaseline(ref: string): Promise<{ core: Core; sha: string }> {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], {
    cwd: repoRoot,
    encoding: 'utf8',
  }).trim();
  // Inside the repository's node_modules, so the baseline's bare imports (yaml, zod) resolve.
  const dir = join(repoRoot, 'node_modules', '.cache', 'tidewater-bench', 'baseline', sha);
  const index = join(dir, 'functions', 'core', 'index.ts');
  if (!existsSync(index)) {
    mkdirSync(dir, { recursive: true });
    const tar = execFileSync('git', ['archive', sha, 'functions/core'], {
      cwd: repoRoot,
      maxBuffer: 1 << 28,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
  }
  return { core: (await import(pathToFileURL(index).href)) as Core, sha };
}

// ---------------------------------------------------------------------------------------------
// Measurement.

interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly retainedMiB: number;
  readonly rssMiB: number;
}

/** Keeps a section's result alive until its retained heap has been measured. */
const holder: { value: unknown } = { value: null };

/**
 * Times a section. A section may exclude its own set-up work (e.g. parsing the Lambda payload,
 * which the Lambda runtime does before the handler) by pausing the clock around it.
 */
export class Stopwatch {
  private wall = 0;
  private cpu = 0;
  private t0 = 0;
  private c0: NodeJS.CpuUsage = { user: 0, system: 0 };

  resume(): void {
    this.c0 = process.cpuUsage();
    this.t0 = performance.now();
  }

  pause(): void {
    this.wall += performance.now() - this.t0;
    const c = process.cpuUsage(this.c0);
    this.cpu += (c.user + c.system) / 1000;
  }

  get wallMs(): number {
    return this.wall;
  }

  get cpuMs(): number {
    return this.cpu;
  }
}

function measureOnce(fn: (sw: Stopwatch) => unknown): Sample {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const sw = new Stopwatch();
  sw.resume();
  holder.value = fn(sw);
  sw.pause();
  const wallMs = sw.wallMs;
  const cpu = { user: sw.cpuMs * 1000, system: 0 };
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  gc();
  const retainedMiB = Math.max(0, process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  holder.value = null;
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, retainedMiB, rssMiB };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Section {
  readonly measure: string;
  /** Events one run processes (the rate's numerator). */
  readonly events: number;
  readonly target?: number;
  /** A short run first, so that the JIT has seen every path. */
  readonly warmUp: (core: Core) => unknown;
  readonly run: (core: Core, sw: Stopwatch) => unknown;
}

interface Measured {
  readonly runs: Sample[];
  readonly baselineRuns: Sample[];
}

function measureSection(
  s: Section,
  impls: { readonly current: Core; readonly baseline: Core | null },
  repeat: number,
): Measured {
  s.warmUp(impls.current);
  if (impls.baseline) s.warmUp(impls.baseline);
  const runs: Sample[] = [];
  const baselineRuns: Sample[] = [];
  for (let i = 0; i < repeat; i++) {
    // Alternate the order so neither implementation always runs right after the other's garbage.
    const order = i % 2 === 0 ? (['current', 'baseline'] as const) : (['baseline', 'current'] as const);
    for (const which of order) {
      const core = impls[which];
      if (core === null) continue;
      (which === 'current' ? runs : baselineRuns).push(measureOnce((sw) => s.run(core, sw)));
    }
  }
  return { runs, baselineRuns };
}

function toResult(s: Section, m: Measured): BenchResult {
  const rate = (samples: readonly Sample[], pick: (x: Sample) => number) =>
    median(samples.map((x) => s.events / (pick(x) / 1000)));
  const wall = rate(m.runs, (x) => x.wallMs);
  const cpu = rate(m.runs, (x) => x.cpuMs);
  const medianMs = median(m.runs.map((x) => x.wallMs));
  return {
    measure: s.measure,
    value: wall,
    cpuValue: cpu,
    unit: 'ev/s',
    ...(s.target === undefined ? {} : { target: s.target }),
    retainedMiB: median(m.runs.map((x) => x.retainedMiB)),
    rssMiB: Math.max(...m.runs.map((x) => x.rssMiB)),
    ...(m.baselineRuns.length > 0
      ? {
          baseline: {
            value: rate(m.baselineRuns, (x) => x.wallMs),
            cpuValue: rate(m.baselineRuns, (x) => x.cpuMs),
          },
        }
      : {}),
    note: `${s.events.toLocaleString('en-US')} events, median of ${m.runs.length} (${(medianMs / 1000).toFixed(2)} s)`,
  };
}

// ---------------------------------------------------------------------------------------------
// The sections.

function runWindows(core: Core, domain: Domain, events: readonly SilverEvent[]): number {
  const engine = new core.WindowEngine(domain);
  let rows = 0;
  for (let i = 0; i < events.length; i++) {
    engine.add(events[i]!);
    if (i % BATCH === BATCH - 1) rows += engine.collect().late.length;
  }
  return rows + engine.flush().late.length;
}

function runCep(core: Core, domain: Domain, events: readonly SilverEvent[]): current.CepEngine {
  const cep = new core.CepEngine(domain);
  for (const e of events) cep.process(e);
  return cep;
}

function runWindowsAndCep(core: Core, domain: Domain, events: readonly SilverEvent[]): number {
  const windows = new core.WindowEngine(domain);
  const cep = new core.CepEngine(domain);
  let alerts = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    windows.add(e);
    alerts += cep.process(e).length;
    if (i % BATCH === BATCH - 1) windows.collect();
  }
  windows.flush();
  return alerts;
}

/**
 * Lambda payloads as JSON bytes, off the V8 heap: holding a million decoded records live for
 * the whole run would make every major GC trace them and bill that to the section measured.
 */
type Payloads = readonly Buffer[];

/** Each payload parsed with the clock paused (the Lambda runtime's work), then `fn` timed. */
function forEachPayload(payloads: Payloads, sw: Stopwatch, fn: (e: LambdaKafkaEvent) => void): void {
  sw.pause();
  for (const p of payloads) {
    const e = JSON.parse(p.toString('latin1')) as LambdaKafkaEvent;
    sw.resume();
    fn(e);
    sw.pause();
  }
  sw.resume();
}

/**
 * @param copyStrings as the validator option: off in the AWS enrich consumer, which lets its events
 *   go with the batch; on (the default) in the embedded pipeline, which keeps them
 */
function runDecode(
  core: Core,
  domain: Domain,
  payloads: Payloads,
  sw: Stopwatch,
  copyStrings: boolean,
): number {
  const validate = core.compileValidator(domain, { copyStrings });
  let poison = 0;
  // Like a Lambda invocation: each batch is decoded, validated and then let go.
  forEachPayload(payloads, sw, (e) => {
    for (const r of core.decodeKafkaEvent(e)) if (!validate(r).ok) poison++;
  });
  return poison;
}

function runEndToEnd(core: Core, domain: Domain, payloads: Payloads, sw: Stopwatch): number {
  const validate = core.compileValidator(domain);
  const dd = new core.Deduplicator(domain);
  const windows = new core.WindowEngine(domain);
  const cep = new core.CepEngine(domain);
  let alerts = 0;
  forEachPayload(payloads, sw, (e) => {
    for (const r of core.decodeKafkaEvent(e)) {
      const v = validate(r);
      if (!v.ok || dd.isDuplicate(v.event.id, v.event.ts)) continue;
      windows.add(v.event);
      alerts += cep.process(v.event).length;
    }
    windows.collect();
  });
  windows.flush();
  return alerts;
}

function runGenerate(core: Core, domain: Domain, n: number, seed: number): number {
  let bytes = 0;
  for (const r of core.generateEvents(domain, n, { seed, ...GENERATOR_OPTIONS })) bytes += r.value.length;
  return bytes;
}

export const suite: BenchSuite = {
  name: 'core',
  description: 'generator, decode, validate, enrich, dedup, windows and CEP over generated payments events',
  async run(ctx) {
    const n = Number(argValue(ctx.args, 'events', '1000000'));
    const seed = Number(argValue(ctx.args, 'seed', '1'));
    const repeat = Math.max(1, Number(argValue(ctx.args, 'repeat', '3')));
    const baselineRef = argValue(ctx.args, 'baseline', '');
    const domain = current.loadDomain('payments');
    const baseline = baselineRef === '' ? null : await loadBaseline(baselineRef);
    if (baseline) ctx.log(`baseline: functions/core of ${baseline.sha.slice(0, 12)} (${baselineRef})`);
    const impls = { current, baseline: baseline?.core ?? null };

    const file = inputCacheFile(domain.name, n, seed);
    let inputs: Array<{ key: string; value: string }>;
    if (!hasFlag(ctx.args, 'no-cache') && existsSync(file)) {
      ctx.log(`inputs from ${file}`);
      inputs = readInputs(file);
    } else {
      ctx.log(
        `generating ${n.toLocaleString('en-US')} events (seed ${seed}, anomalies, 0.1% poison, 0.1% duplicates)`,
      );
      const records = [...current.generateEvents(domain, n, { seed, ...GENERATOR_OPTIONS })];
      if (!hasFlag(ctx.args, 'no-cache')) {
        writeInputs(file, records);
        ctx.log(`cached in ${file}`);
      }
      inputs = records.map((r) => ({ key: r.key, value: r.value }));
    }
    const only = argValue(ctx.args, 'only', '');
    const onlyList = only.split(',').filter((o) => o !== '');
    const wanted = (measure: string) => onlyList.length === 0 || onlyList.some((o) => measure.includes(o));
    const results = new Map<string, BenchResult>();
    const measureAll = (sections: readonly Section[]) => {
      for (const s of sections) {
        if (!wanted(s.measure)) continue;
        ctx.log(s.measure);
        results.set(s.measure, toResult(s, measureSection(s, impls, repeat)));
      }
    };

    // Phase 1, on Lambda events: decode, end to end, then the generator (last: it is not part of
    // the pipeline, and its garbage and JIT feedback should not be billed to the others). The
    // Lambda events are then turned into silver events batch by batch and let go, so that the
    // heap of phase 2 holds only its own input (a live heap of GiBs would bill every section
    // for major GCs).
    const payloads: Buffer[] = toLambdaEvents(inputs, domain.topic).map((e) =>
      Buffer.from(JSON.stringify(e), 'latin1'),
    );
    inputs = [];
    const slice = payloads.slice(0, Math.max(1, Math.ceil(payloads.length / 10)));
    const genN = Math.min(n, 200_000);
    measureAll([
      {
        // What the AWS enrich consumer runs per record.
        measure: 'decode + validate + enrich',
        events: n,
        target: 300_000,
        warmUp: (core) => runDecode(core, domain, slice, new Stopwatch(), false),
        run: (core, sw) => runDecode(core, domain, payloads, sw, false),
      },
      {
        // The same in the embedded pipeline, whose events outlive the batch (not a target).
        measure: 'decode + validate + enrich, strings copied',
        events: n,
        warmUp: (core) => runDecode(core, domain, slice, new Stopwatch(), true),
        run: (core, sw) => runDecode(core, domain, payloads, sw, true),
      },
      {
        measure: 'end to end (decode..CEP)',
        events: n,
        warmUp: (core) => runEndToEnd(core, domain, slice, new Stopwatch()),
        run: (core, sw) => runEndToEnd(core, domain, payloads, sw),
      },
      {
        measure: 'generate (not a target)',
        events: genN,
        warmUp: (core) => runGenerate(core, domain, Math.min(genN, 20_000), seed + 1),
        run: (core) => runGenerate(core, domain, genN, seed),
      },
    ]);
    slice.length = 0;

    // Silver events as the current validator produces them, de-duplicated: the input of windows and CEP.
    const silver: SilverEvent[] = [];
    {
      const validate = current.compileValidator(domain);
      for (let b = 0; b < payloads.length; b++) {
        const e = JSON.parse(payloads[b]!.toString('latin1')) as LambdaKafkaEvent;
        for (const r of current.decodeKafkaEvent(e)) {
          const v = validate(r);
          if (v.ok) silver.push(v.event);
        }
      }
      payloads.length = 0;
    }
    const unique: SilverEvent[] = [];
    {
      const dedup = new current.Deduplicator(domain);
      for (const e of silver) if (!dedup.isDuplicate(e.id, e.ts)) unique.push(e);
    }
    ctx.log(`${n - silver.length} poison, ${silver.length - unique.length} duplicates`);
    const warm = unique.slice(0, Math.min(unique.length, 100_000));

    // Phase 2, on silver events.
    measureAll([
      {
        measure: 'dedup (silver)',
        events: silver.length,
        warmUp: (core) => {
          const d = new core.Deduplicator(domain);
          for (const e of warm) d.isDuplicate(e.id, e.ts);
        },
        run: (core) => {
          const d = new core.Deduplicator(domain);
          let dups = 0;
          for (const e of silver) if (d.isDuplicate(e.id, e.ts)) dups++;
          return dups;
        },
      },
      ...domain.windows.map((w): Section => {
        const onlyW: Domain = { ...domain, windows: [w] };
        return {
          measure: `window ${w.type} (${w.name})`,
          events: unique.length,
          warmUp: (core) => runWindows(core, onlyW, warm),
          run: (core) => runWindows(core, onlyW, unique),
        };
      }),
      {
        measure: 'windows, all three',
        events: unique.length,
        warmUp: (core) => runWindows(core, domain, warm),
        run: (core) => runWindows(core, domain, unique),
      },
      {
        measure: 'CEP (5 patterns)',
        events: unique.length,
        warmUp: (core) => runCep(core, domain, warm),
        run: (core) => runCep(core, domain, unique),
      },
      {
        measure: 'windows + CEP',
        events: unique.length,
        target: 150_000,
        warmUp: (core) => runWindowsAndCep(core, domain, warm),
        run: (core) => runWindowsAndCep(core, domain, unique),
      },
    ]);

    // Table order: the pipeline's order.
    const order = [
      'generate',
      'decode',
      'dedup',
      'window tumbling',
      'window sliding',
      'window session',
      'windows, all',
      'CEP',
      'windows + CEP',
      'end to end',
    ];
    const rank = (m: string) => order.findIndex((o) => m.startsWith(o));
    const out = [...results.values()].sort((a, b) => rank(a.measure) - rank(b.measure));
    const cep = runCep(current, domain, unique);
    const bytes = JSON.stringify(cep.snapshot().keys).length;
    out.push({
      measure: 'CEP state per 10k keys (JSON)',
      value: (bytes / cep.size) * 10_000,
      unit: 'bytes',
      note: `${cep.size.toLocaleString('en-US')} keys, ${(bytes / 2 ** 20).toFixed(1)} MiB`,
    });
    return out;
  },
};
