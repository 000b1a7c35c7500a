/**
 * The price file (`bench/prices.json`, the one source of prices: the local-stack bench reads it
 * too), validated with zod. Every section names its source page, the date it was read and whether
 * the figures were seen there (`verified`) or are the best-known list price (`unverified`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const PRICES_FILE = join(import.meta.dirname, '..', '..', 'bench', 'prices.json');

const price = z.number().finite().min(0);

const sourceSchema = z.object({
  url: z.url(),
  read: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date, e.g. "2026-12-04"'),
  status: z.enum(['verified', 'unverified']),
  seenIn: z.url().optional(),
  note: z.string().optional(),
});

export type PriceSource = z.output<typeof sourceSchema>;

const section = <T extends z.ZodRawShape>(shape: T) => z.object({ source: sourceSchema, ...shape });

export const pricesSchema = z.object({
  region: z.string(),
  currency: z.literal('USD'),
  asOf: z.string(),
  lambda: section({ perGbSecond: price, perMillionRequests: price }),
  lambdaEventPollers: section({
    perEpuHour: price,
    pollersPerEpu: z.int().min(1),
    throughputMBpsPerPoller: z.number().positive(),
    concurrentInvocationsPerPoller: z.int().min(1),
  }),
  dynamodb: section({ perMillionWriteRequestUnits: price, perMillionReadRequestUnits: price }),
  dynamodbProvisioned: section({
    perWcuHour: price,
    perRcuHour: price,
    utilization: z.number().gt(0).max(1),
  }),
  s3: section({ perThousandPutCopyPostList: price, perThousandGetSelect: price, perGbMonth: price }),
  sqs: section({ perMillionRequests: price, requestChunkBytes: z.int().min(1) }),
  kms: section({ perKeyMonth: price, perTenThousandRequests: price }),
  cloudwatch: section({
    perMetricMonth: price,
    perGbLogsIngested: price,
    perGbMonthLogsStored: price,
    perDashboardMonth: price,
    perStandardAlarmMonth: price,
  }),
  athena: section({ perTbScanned: price }),
  vpcInterfaceEndpoints: section({ perEndpointAzHour: price, perGbProcessed: price }),
  mskServerless: section({
    perClusterHour: price,
    perPartitionHour: price,
    perGbIn: price,
    perGbOut: price,
    perGbMonthStorage: price,
  }),
  mskProvisioned: section({ perBrokerHour: z.record(z.string(), price), perGbMonthStorage: price }),
  mskExpress: section({
    perBrokerHour: z.record(z.string(), price),
    perGbDataIn: price,
    perGbMonthStorage: price,
  }),
  flink: section({
    perKpuHour: price,
    orchestrationKpusPerApplication: z.int().min(0),
    runningStorageGbPerKpu: z.number().min(0),
    perGbMonthRunningStorage: price,
  }),
  firehose: section({
    perGbIngestedFromMsk: price,
    perGbFormatConversion: price,
    formatConversionIncrementBytes: z.int().min(1),
  }),
});

export type Prices = z.output<typeof pricesSchema>;
export type PriceSection = Exclude<keyof Prices, 'region' | 'currency' | 'asOf'>;

/** Raised for a missing or invalid price file; the message names the file and the key. */
export class PriceFileError extends Error {
  override readonly name = 'PriceFileError';
}

export function readPrices(path: string = PRICES_FILE): Prices {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new PriceFileError(`cannot read price file ${path}: ${(error as Error).message}`);
  }
  const result = pricesSchema.safeParse(raw);
  if (!result.success) {
    const first = result.error.issues[0];
    const where = first && first.path.length > 0 ? first.path.join('.') : '(root)';
    throw new PriceFileError(`invalid price file ${path}: ${where}: ${first?.message ?? 'invalid'}`);
  }
  return result.data;
}
