import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Command } from 'commander';
import { DynamoDbStateTable } from '../../functions/adapters/aws/dynamodb-state.ts';
import { S3ObjectStore } from '../../functions/adapters/aws/s3-object-store.ts';
import { createClients } from '../../functions/commons/clients.ts';
import { loadDomain } from '../../functions/core/index.ts';
import { type LegacyItems, type MigrationReport, migrateLegacyState } from '../../functions/state/migrate.ts';
import { UserError } from '../errors.ts';

/**
 * `tidewater state migrate --table T --bucket GOLD [--domain D] [--json]`: converts the consumers'
 * state from the layout before partition-owned state (Tidewater 0.1) to the new one
 * (`functions/state/migrate.ts` says what, and how). Run it once with the event source mappings
 * disabled, before the new consumers start; they refuse the old layout until then. AWS
 * credentials and region (or `AWS_ENDPOINT_URL` for the local stack) come from the environment.
 */

async function queryAll(
  client: DynamoDBClient,
  table: string,
  pk: string,
): Promise<Record<string, AttributeValue>[]> {
  const out: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** The 0.1 items of a state table, read with paged queries. */
export function legacyItems(client: DynamoDBClient, table: string): LegacyItems {
  return {
    async scopes(consumer) {
      return (await queryAll(client, table, `state#${consumer}`)).map((item) => {
        const sk = item['sk']?.S ?? '';
        const hash = sk.lastIndexOf('#');
        return [sk.slice(0, hash), sk.slice(hash + 1)] as const;
      });
    },
    async items(pk) {
      return (await queryAll(client, table, pk)).map(
        (item) => [item['sk']?.S ?? '', unmarshall(item)] as const,
      );
    },
  };
}

export async function migrateState(o: {
  readonly table: string;
  readonly bucket: string;
  readonly domain: string;
}): Promise<MigrationReport> {
  const clients = createClients();
  const objects = new S3ObjectStore({
    buckets: { bronze: o.bucket, silver: o.bucket, gold: o.bucket },
    client: clients.s3,
  });
  const table = new DynamoDbStateTable({ tableName: o.table, client: clients.dynamodb, spill: objects });
  return migrateLegacyState(table, objects, legacyItems(clients.dynamodb, o.table), loadDomain(o.domain));
}

export function register(program: Command): void {
  const state = program.command('state').description('the consumers’ state: upgrades');
  state
    .command('migrate')
    .description(
      'convert the state of Tidewater 0.1 (per-id and per-key items, shared windows state) to partition-owned state; ' +
        'run once with the event source mappings disabled',
    )
    .requiredOption('--table <name>', 'the state table (the State stack’s StateTable)')
    .requiredOption('--bucket <name>', 'the gold bucket (state objects go to its ops/state/ prefix)')
    .option('--domain <name>', 'the deployment’s domain', 'payments')
    .option('--json', 'print the report as JSON')
    .action(async (o: { table: string; bucket: string; domain: string; json?: boolean }) => {
      let report: MigrationReport;
      try {
        report = await migrateState(o);
      } catch (err) {
        throw new UserError(`state migrate: ${(err as Error).message}`);
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      for (const [what, how] of Object.entries(report.converted))
        process.stdout.write(`migrated ${what}: ${how}\n`);
      for (const what of report.skipped) process.stdout.write(`already partition-owned: ${what}\n`);
      if (Object.keys(report.converted).length === 0 && report.skipped.length === 0)
        process.stdout.write('no consumer state in this table: nothing to migrate\n');
    });
}
