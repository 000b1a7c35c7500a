/**
 * The work profile: what one event costs in requests, compute and bytes, as the local-stack bench
 * counted it (`npm run bench -- local-stack --write-profile bench/work-profile.json`). `tidewater
 * cost` prices it for an environment and a rate; it reads whatever profile is committed, so a new
 * measurement changes the estimate without a code change.
 *
 * Every figure is per event, over the four consumers together, measured on a backlog (each
 * invocation one partition's batch). Kinds that follow the number of partition-batches (S3
 * requests: Parquet files and a state object per partition-batch) say so in `perInvocation`;
 * `tidewater cost` rescales those, and DynamoDB units (a commit per partition-batch), to the
 * environment's batches. GB-s is a CPU part (per event) and a wait per invocation.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

const perEvent = z.number().finite().min(0);

export const workProfileSchema = z.strictObject({
  /** Format version of this file. */
  version: z.literal(1),
  /** The command that measured it, to run again. */
  command: z.string().min(1),
  /** ISO date of the measurement. */
  measuredAt: z.string().regex(/^\d{4}-\d{2}-\d{2}/, 'an ISO date, e.g. "2026-12-04"'),
  /** Events the run pushed through the four consumers. */
  events: z.int().min(1),
  /** The mappings' batch size during the run (every consumer). */
  batchSize: z.int().min(1).max(10_000),
  /** Concurrent pollers per mapping during the run. */
  pollers: z.int().min(1),
  /** Raw record bytes (key + value) per event of the generated input. */
  rawBytesPerEvent: z.number().positive(),
  dynamodb: z.strictObject({
    /** Write request units of successful writes (PutItem, UpdateItem, BatchWriteItem). */
    wruPerEvent: perEvent,
    /** Share of `wruPerEvent` by command, e.g. `{ "BatchWriteItem": 1 }`. */
    wruShareByCommand: z.record(z.string(), z.number().min(0).max(1)).default({}),
    /** Read request units (GetItem, BatchGetItem; strongly consistent). */
    rruPerEvent: perEvent,
    /** Write units of conditional writes that failed (billed like successful ones). */
    failedConditionalWruPerEvent: perEvent.default(0),
    /** Write units of DeleteItem requests. */
    deleteWruPerEvent: perEvent.default(0),
    /** Requests of every kind (for information: DynamoDB bills units, not requests). */
    requestsPerEvent: perEvent.default(0),
  }),
  s3: z.strictObject({
    putPerEvent: perEvent,
    getPerEvent: perEvent,
    /** LIST, HEAD, DELETE, ...: priced as PUT/LIST (DELETE is free; counted here at the PUT price, an upper bound). */
    otherPerEvent: perEvent,
  }),
  sqs: z.strictObject({
    /** Billed requests (64 KB chunks) per event. */
    requestsPerEvent: perEvent,
  }),
  lambda: z.strictObject({
    /** Invocations per event (all four consumers) at `batchSize`. */
    invocationsPerEvent: perEvent,
    /** GB-s per event at `memoryMiB`: the CPU part, plus `waitMsPerInvocation` per invocation. */
    gbSecondsPerEvent: perEvent,
    memoryMiB: z.int().min(128).max(10_240),
    /** What each invocation of `gbSecondsPerEvent` waits for AWS round trips, ms (an assumption of the bench). @default 0 */
    waitMsPerInvocation: z.number().min(0).default(0),
  }),
  kafka: z.strictObject({
    /** Bytes produced per event (raw + enriched topics, alerts). */
    bytesInPerEvent: perEvent,
    /** Bytes consumed per event (ingest and enrich read raw, windows and cep read enriched). */
    bytesOutPerEvent: perEvent,
  }),
  storage: z.strictObject({
    /** Bytes of superseded state objects (S3 versions) kept until noncurrent expiry, per event. */
    retainedStateBytesPerEvent: perEvent,
    /** Parquet bytes per event written to bronze + silver + gold. */
    lakeBytesPerEvent: perEvent,
  }),
  /** Kinds rescaled with the number of invocations (see the module comment). */
  perInvocation: z
    .array(z.enum(['lambda.invocations', 's3.put', 's3.get', 's3.other', 'sqs.requests']))
    .default(['lambda.invocations', 's3.put', 's3.get', 's3.other']),
  /** Figures not metered by this run (estimates or zero): the report says so. */
  notMetered: z.array(z.string()).default([]),
  /** Free text: where an estimate comes from. */
  notes: z.array(z.string()).default([]),
});

export type WorkProfile = z.output<typeof workProfileSchema>;

/** Raised for a missing or invalid profile file; the message names the file and the key. */
export class WorkProfileError extends Error {
  override readonly name = 'WorkProfileError';
}

/** Reads and validates a work profile file. */
export function readWorkProfile(path: string): WorkProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new WorkProfileError(`cannot read work profile ${path}: ${(error as Error).message}`);
  }
  const result = workProfileSchema.safeParse(raw);
  if (!result.success) {
    const first = result.error.issues[0];
    const where = first && first.path.length > 0 ? first.path.join('.') : '(root)';
    throw new WorkProfileError(`invalid work profile ${path}: ${where}: ${first?.message ?? 'invalid'}`);
  }
  return result.data;
}

/**
 * What the local-stack bench counted during one run, as its meter holds it. Fields the meter does
 * not have yet are optional; a missing one is written as 0 and listed in `notMetered`.
 */
export interface BenchMeasurement {
  readonly command: string;
  readonly events: number;
  readonly batchSize: number;
  readonly pollers: number;
  /** Raw record bytes (key + value) of all generated events. */
  readonly rawBytes: number;
  readonly meter: {
    readonly wru: number;
    readonly wruByCommand: Readonly<Record<string, number>>;
    readonly rru: number;
    readonly dynamoRequests?: number;
    readonly failedConditionalWru?: number;
    readonly deleteWru?: number;
    readonly s3Put: number;
    readonly s3Get: number;
    readonly s3Other: number;
    /** SQS requests as billed (64 KB chunks). */
    readonly sqsChunks: number;
    /** Bytes of superseded state objects kept as S3 versions. */
    readonly retainedStateBytes?: number;
    /** Parquet bytes written to the three layers. */
    readonly lakeBytes?: number;
  };
  readonly invocations: number;
  readonly gbSeconds: number;
  readonly memoryMiB: number;
  /** The AWS round-trip wait per invocation that `gbSeconds` includes, ms. @default 0 */
  readonly waitMsPerInvocation?: number;
  /** @default the current date */
  readonly measuredAt?: string;
}

/** The profile of one bench run (pure; `writeWorkProfile` writes it). */
export function workProfileFromMeasurement(m: BenchMeasurement): WorkProfile {
  const per = (n: number) => n / m.events;
  const notMetered: string[] = [];
  const optional = (value: number | undefined, name: string): number => {
    if (value === undefined) notMetered.push(name);
    return value ?? 0;
  };
  const shares = Object.fromEntries(
    Object.entries(m.meter.wruByCommand).map(([k, v]) => [k, m.meter.wru > 0 ? v / m.meter.wru : 0]),
  );
  const raw = per(m.rawBytes);
  return workProfileSchema.parse({
    version: 1,
    command: m.command,
    measuredAt: m.measuredAt ?? new Date().toISOString().slice(0, 10),
    events: m.events,
    batchSize: m.batchSize,
    pollers: m.pollers,
    rawBytesPerEvent: raw,
    dynamodb: {
      wruPerEvent: per(m.meter.wru),
      wruShareByCommand: shares,
      rruPerEvent: per(m.meter.rru),
      failedConditionalWruPerEvent: per(
        optional(m.meter.failedConditionalWru, 'dynamodb.failedConditionalWru'),
      ),
      deleteWruPerEvent: per(optional(m.meter.deleteWru, 'dynamodb.deleteWru')),
      requestsPerEvent: per(m.meter.dynamoRequests ?? 0),
    },
    s3: {
      putPerEvent: per(m.meter.s3Put),
      getPerEvent: per(m.meter.s3Get),
      otherPerEvent: per(m.meter.s3Other),
    },
    sqs: { requestsPerEvent: per(m.meter.sqsChunks) },
    lambda: {
      invocationsPerEvent: per(m.invocations),
      gbSecondsPerEvent: per(m.gbSeconds),
      memoryMiB: m.memoryMiB,
      waitMsPerInvocation: m.waitMsPerInvocation ?? 0,
    },
    // As the bench prices MSK: raw and enriched topics in (an enriched record is about its raw
    // record's size), each read by two consumers.
    kafka: { bytesInPerEvent: 2 * raw, bytesOutPerEvent: 4 * raw },
    storage: {
      retainedStateBytesPerEvent: per(optional(m.meter.retainedStateBytes, 'storage.retainedStateBytes')),
      lakeBytesPerEvent: per(optional(m.meter.lakeBytes, 'storage.lakeBytes')),
    },
    notMetered,
  });
}

/** Writes the profile of one bench run to `path` (pretty JSON) and returns it. */
export function writeWorkProfile(path: string, m: BenchMeasurement): WorkProfile {
  const profile = workProfileFromMeasurement(m);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(profile, null, 2)}\n`);
  return profile;
}
