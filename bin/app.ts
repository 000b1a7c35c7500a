/**
 * CDK app entry (`cdk.json`: `npx tsx bin/app.ts`): one environment per run, chosen with
 * `cdk <command> -c env=<dev|staging|prod|local>`.
 */
import { buildApp } from '../lib/app.ts';
import { ConfigError } from '../lib/config/environment-config.ts';

try {
  const { app } = buildApp({});
  app.synth();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
