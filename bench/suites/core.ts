/**
 * Core engine benchmark (issue 3): 1M generated payments events on one core.
 * Measures decode + validate + enrich (from Lambda Kafka events, base64), de-duplication, each
 * window type alone, CEP, windows + CEP together, and the whole chain end to end; reports the
 * size of CEP state per 10k keys with state. Inputs are prepared outside the timed sections.
 *
 *   npm run bench -- core [--events 1000000] [--seed 1]
 */
import {
  CepEngine,
  compileValidator,
  Deduplicator,
  type Domain,
  decodeKafkaEvent,
  type GeneratedRecord,
  generateEvents,
  type LambdaKafkaEvent,
  type LambdaKafkaRecord,
  loadDomain,
  type SilverEvent,
  WindowEngine,
} from '../../functions/core/index.ts';
import { argValue, type BenchResult, type BenchSuite } from '../suite.ts';

const BATCH = 10_000;
const PARTITIONS = 6;

function partitionOf(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % PARTITIONS;
}

/** Lambda Kafka events of up to BATCH records, keyed per partition like the event source mapping. */
function toLambdaEvents(records: readonly GeneratedRecord[], topic: string): LambdaKafkaEvent[] {
  const events: LambdaKafkaEvent[] = [];
  const offsets = new Array<number>(PARTITIONS).fill(0);
  let ts = Date.UTC(2026, 10, 2, 8);
  for (let from = 0; from < records.length; from += BATCH) {
    const byPartition: Record<string, LambdaKafkaRecord[]> = {};
    for (const r of records.slice(from, from + BATCH)) {
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

function rate(measure: string, events: number, ms: number, target?: number): BenchResult {
  return {
    measure,
    value: events / (ms / 1000),
    unit: 'ev/s',
    ...(target === undefined ? {} : { target }),
    note: `${events.toLocaleString('en-US')} events in ${(ms / 1000).toFixed(2)} s`,
  };
}

function timeWindows(domain: Domain, events: readonly SilverEvent[]): number {
  const t0 = performance.now();
  const engine = new WindowEngine(domain);
  for (let i = 0; i < events.length; i++) {
    engine.add(events[i]!);
    if (i % BATCH === BATCH - 1) engine.collect();
  }
  engine.flush();
  return performance.now() - t0;
}

export const suite: BenchSuite = {
  name: 'core',
  description: 'decode, validate, enrich, dedup, windows and CEP over generated payments events',
  run(ctx) {
    const n = Number(argValue(ctx.args, 'events', '1000000'));
    const seed = Number(argValue(ctx.args, 'seed', '1'));
    const domain = loadDomain('payments');
    ctx.log(
      `generating ${n.toLocaleString('en-US')} events (seed ${seed}, anomalies, 0.1% poison, 0.1% duplicates)`,
    );
    let t = performance.now();
    const records = [
      ...generateEvents(domain, n, { seed, anomalies: true, poisonRate: 0.001, duplicateRate: 0.001 }),
    ];
    const genMs = performance.now() - t;
    const lambdaEvents = toLambdaEvents(records, domain.topic);
    records.length = 0;
    const results: BenchResult[] = [rate('generate (not a target)', n, genMs)];

    // Warm-up on a slice so that the JIT has seen every path.
    const validate = compileValidator(domain);
    for (const r of decodeKafkaEvent(lambdaEvents[0]!, 0)) validate(r);

    // Like a Lambda invocation: each batch is decoded, validated and then let go.
    ctx.log('decode + validate + enrich');
    let poison = 0;
    t = performance.now();
    for (const e of lambdaEvents) {
      for (const r of decodeKafkaEvent(e, 0)) if (!validate(r).ok) poison++;
    }
    results.push({ ...rate('decode + validate + enrich', n, performance.now() - t, 300_000) });
    const silver: SilverEvent[] = [];
    for (const e of lambdaEvents) {
      for (const r of decodeKafkaEvent(e, 0)) {
        const v = validate(r);
        if (v.ok) silver.push(v.event);
      }
    }

    ctx.log('dedup');
    const unique: SilverEvent[] = [];
    t = performance.now();
    const dedup = new Deduplicator(domain);
    for (const e of silver) if (!dedup.isDuplicate(e.id, e.ts)) unique.push(e);
    results.push(rate('dedup (silver)', silver.length, performance.now() - t));

    for (const w of domain.windows) {
      ctx.log(`window ${w.name}`);
      const only: Domain = { ...domain, windows: [w] };
      timeWindows(only, unique.slice(0, 50_000));
      results.push(rate(`window ${w.type} (${w.name})`, unique.length, timeWindows(only, unique)));
    }
    ctx.log('windows (all three)');
    results.push(rate('windows, all three', unique.length, timeWindows(domain, unique)));

    ctx.log('CEP');
    t = performance.now();
    const cep = new CepEngine(domain);
    let alerts = 0;
    for (const e of unique) alerts += cep.process(e).length;
    results.push(rate('CEP (5 patterns)', unique.length, performance.now() - t));
    const bytes = JSON.stringify(cep.snapshot().keys).length;
    results.push({
      measure: 'CEP state per 10k keys (JSON)',
      value: (bytes / cep.size) * 10_000,
      unit: 'bytes',
      note: `${cep.size.toLocaleString('en-US')} keys, ${(bytes / 2 ** 20).toFixed(1)} MiB, ${alerts.toLocaleString('en-US')} alerts`,
    });

    ctx.log('windows + CEP');
    t = performance.now();
    {
      const windows = new WindowEngine(domain);
      const cep2 = new CepEngine(domain);
      for (let i = 0; i < unique.length; i++) {
        const e = unique[i]!;
        windows.add(e);
        cep2.process(e);
        if (i % BATCH === BATCH - 1) windows.collect();
      }
      windows.flush();
    }
    results.push(rate('windows + CEP', unique.length, performance.now() - t, 150_000));

    ctx.log('end to end');
    t = performance.now();
    {
      const dd = new Deduplicator(domain);
      const windows = new WindowEngine(domain);
      const cep3 = new CepEngine(domain);
      for (const e of lambdaEvents) {
        for (const r of decodeKafkaEvent(e, 0)) {
          const v = validate(r);
          if (!v.ok || dd.isDuplicate(v.event.id, v.event.ts)) continue;
          windows.add(v.event);
          cep3.process(v.event);
        }
        windows.collect();
      }
      windows.flush();
    }
    results.push(rate('end to end (decode..CEP)', n, performance.now() - t));
    ctx.log(`${poison} poison, ${silver.length - unique.length} duplicates`);
    return results;
  },
};
