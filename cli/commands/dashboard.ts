import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Command } from 'commander';
import { awsClientConfig, endpoints } from '../../localstack/endpoints.ts';
import { describeDeployed, ensureLocalAssembly, REPO_ROOT } from '../../localstack/esm/deploy.ts';
import { stageAssemblyDir } from '../../localstack/esm/template.ts';
import { alarmStates, resolveDashboard, synthesizedDashboard, widgetData } from '../dashboard/fetch.ts';
import { renderDashboard, type WidgetData } from '../dashboard/render.ts';
import { requireNode22, UserError } from '../errors.ts';

/**
 * `tidewater dashboard [--env local] [--out dashboard.html]`: the CloudWatch dashboard the CDK app
 * synthesizes for the environment (the same body: widgets, titles, metrics, statistics, periods),
 * drawn with the data of the local stack's CloudWatch, where `run --stack local` puts the
 * consumers' EMF metrics and their functions' AWS/Lambda metrics. One self-contained HTML page.
 */

interface DashboardOptions {
  readonly env: string;
  readonly out: string;
  readonly hours: string;
}

export async function dashboardCommand(o: DashboardOptions): Promise<string> {
  if (o.env !== 'local')
    throw new UserError(
      `--env ${o.env}: only the local stack's CloudWatch can be read here (its emulator); open the ${o.env} dashboard in the AWS console`,
    );
  const hours = Number(o.hours);
  if (!Number.isFinite(hours) || hours <= 0)
    throw new UserError(`--hours must be a positive number, got '${o.hours}'`);
  requireNode22('dashboard', "'npx tidewater dashboard'");
  const cdkOut = join(REPO_ROOT, 'cdk.out');
  await ensureLocalAssembly({ cdkOut });
  const { stackName, body: raw } = synthesizedDashboard(stageAssemblyDir(cdkOut, 'local'));
  let body: ReturnType<typeof resolveDashboard>;
  try {
    const state = await describeDeployed([
      stackName,
      stackName.replace(/Observability$/, 'Processing'),
      stackName.replace(/Observability$/, 'State'),
    ]);
    body = resolveDashboard(raw, stackName, state);
  } catch (err) {
    throw new UserError(
      `the local stage is not deployed to the emulator (${(err as Error).message.split('\n')[0]}): run 'tidewater run --stack local --generate 20000' first`,
    );
  }
  const cw = new CloudWatchClient(awsClientConfig(endpoints()));
  const to = Date.now() + 60_000;
  const from = to - hours * 3_600_000;
  const data = new Map<number, WidgetData>();
  for (const [i, w] of body.widgets.entries()) {
    if (w.type === 'metric') data.set(i, await widgetData(cw, w, from, to));
  }
  const alarms = await alarmStates(
    cw,
    body.widgets.flatMap((w) => (w.type === 'alarm' ? (w.properties.alarms ?? []) : [])),
  );
  const html = renderDashboard({
    title: `Tidewater — ${o.env} (local stack)`,
    body,
    data,
    alarms,
    from,
    to,
    generatedAt: Date.now(),
  });
  const out = resolve(o.out);
  await writeFile(out, html).catch((err: unknown) => {
    throw new UserError(`cannot write ${out}: ${(err as Error).message}`);
  });
  const drawn = [...data.values()].filter((d) => d.series.some((s) => s.values.length > 0)).length;
  process.stderr.write(
    `dashboard: ${body.widgets.length} widgets (${data.size} metric widgets, ${drawn} with data points) -> ${out}\n`,
  );
  return out;
}

export function register(program: Command): void {
  program
    .command('dashboard')
    .description(
      "render the environment's synthesized CloudWatch dashboard with the local stack's metrics, as one HTML page",
    )
    .option('--env <name>', 'environment whose dashboard body to draw (its data: the local stack)', 'local')
    .option('--out <file>', 'HTML file to write', 'dashboard.html')
    .option('--hours <n>', 'time range, in hours up to now', '3')
    .addHelpText(
      'after',
      `
The metrics come from the emulator's CloudWatch: 'tidewater run --stack local' forwards the
consumers' EMF metrics and their AWS/Lambda metrics there. Widgets of metrics nothing publishes
locally (Kafka OffsetLag, SQS depth, DynamoDB capacity) are drawn empty.

Example:
  tidewater run --stack local --generate 20000 && tidewater dashboard --out dashboard.html`,
    )
    .action(async (options: DashboardOptions) => {
      await dashboardCommand(options);
    });
}
