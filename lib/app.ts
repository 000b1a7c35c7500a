import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type EnvironmentConfig, loadEnvironmentConfig } from './config/environment-config.ts';
import type { ViewDefinition } from './lakehouse/athena-views.ts';
import { stageEnvironment, TidewaterStage } from './tidewater-stage.ts';

export interface BuildAppOptions {
  /** Environment config; loaded from `config/environments/<envName>.yaml` when absent. */
  readonly config?: EnvironmentConfig;
  /** Environment name, used when `config` is absent. @default the `env` context value (`cdk -c env=dev`) */
  readonly envName?: string;
  /**
   * Bundle the functions with esbuild. Tests turn it off for speed (assets are then hashed, not built).
   * @default true
   */
  readonly bundle?: boolean;
  /**
   * Athena views to declare instead of the domain's.
   * @default every view of the environment's domain
   */
  readonly views?: readonly ViewDefinition[];
  /**
   * Run cdk-nag AwsSolutions on the whole app (synth fails on any unacknowledged finding).
   * @default true
   */
  readonly nag?: boolean;
  /** Extra App props (outdir, context). */
  readonly appProps?: AppProps;
}

/** Feature flags the app relies on (set here so the CLI, synth-all and tests agree). */
export const FEATURE_FLAGS = {
  // Access-log delivery by bucket policy, not ACLs (the log bucket keeps BucketOwnerEnforced ownership).
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
} as const;

/** Stage id of an environment: stacks are named `Tidewater-<env>-<Stack>`. */
export function stageId(envName: string): string {
  return `Tidewater-${envName}`;
}

/** The CDK app of one environment, with cdk-nag AwsSolutions checks attached. */
export function buildApp(options: BuildAppOptions): {
  app: App;
  stage: TidewaterStage;
  config: EnvironmentConfig;
} {
  const app = new App({
    ...options.appProps,
    context: {
      ...FEATURE_FLAGS,
      ...options.appProps?.context,
      ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
    },
  });
  const config =
    options.config ??
    loadEnvironmentConfig(requireEnvName(options.envName ?? contextEnv(app.node.tryGetContext('env'))));
  if (options.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stage = new TidewaterStage(app, stageId(config.name), {
    config,
    env: stageEnvironment(config),
    ...(options.views ? { views: options.views } : {}),
  });
  return { app, stage, config };
}

function requireEnvName(envName: string | undefined): string {
  if (!envName) {
    throw new Error('No environment given: pass `-c env=<name>` (dev, staging, prod, local) to cdk.');
  }
  return envName;
}

function contextEnv(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new Error(`Context "env" must be a string, got ${JSON.stringify(value)}`);
  return value;
}
