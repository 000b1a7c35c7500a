/**
 * `npm run synth`: synthesizes every environment of `config/environments/` into `cdk.out/<env>/`,
 * each with cdk-nag AwsSolutions (a finding fails the run), and prints the time each took.
 */
import { join } from 'node:path';
import { buildApp } from '../lib/app.ts';
import { ConfigError, listEnvironments } from '../lib/config/environment-config.ts';

const root = join(import.meta.dirname, '..');
const only = process.argv.slice(2);
const envs = only.length > 0 ? only : listEnvironments();
let failed = 0;
const started = performance.now();
for (const env of envs) {
  const t0 = performance.now();
  try {
    const { app } = buildApp({ envName: env, appProps: { outdir: join(root, 'cdk.out', env) } });
    const assembly = app.synth();
    const stacks = assembly.stacksRecursively.map((s) => s.stackName);
    console.log(
      `✔ ${env}: ${stacks.length} stacks (${stacks.join(', ')}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  } catch (error) {
    failed++;
    const message =
      error instanceof ConfigError
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
    console.error(`✘ ${env}: ${message}`);
  }
}
console.log(
  `${envs.length - failed}/${envs.length} environments synthesized in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
process.exit(failed > 0 ? 1 : 0);
