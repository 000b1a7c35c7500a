/**
 * Lambda bundles as they are deployed (not a test file): synthesized by CDK with bundling on,
 * then copied alone into a folder like Lambda's `/var/task`, where only the AWS SDK (the
 * runtime's) is reachable besides the bundle's own files.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

const ROOT = join(import.meta.dirname, '..', '..');

/** Copies the one asset of a synthesized `outdir` into a fresh folder of its own; that folder. */
export function isolateAsset(outdir: string): string {
  const assets = readdirSync(outdir).filter((d) => d.startsWith('asset.'));
  if (assets.length !== 1) throw new Error(`expected one asset in ${outdir}, found ${assets.length}`);
  const task = mkdtempSync(join(tmpdir(), 'tidewater-task-'));
  cpSync(join(outdir, assets[0]!), task, { recursive: true });
  mkdirSync(join(task, 'node_modules'));
  symlinkSync(join(ROOT, 'node_modules', '@aws-sdk'), join(task, 'node_modules', '@aws-sdk'));
  return task;
}

/** Bundles `entry` (its `handler` export) with `bundling` in a throwaway app; the isolated bundle folder. */
export function bundleAlone(entry: string, bundling: nodejs.BundlingOptions): string {
  const outdir = mkdtempSync(join(tmpdir(), 'tidewater-cdk-out-'));
  const app = new App({ outdir });
  new nodejs.NodejsFunction(new Stack(app, 'Bundle'), 'Handler', {
    entry,
    handler: 'handler',
    runtime: lambda.Runtime.NODEJS_22_X,
    bundling,
  });
  app.synth();
  return isolateAsset(outdir);
}

/**
 * Runs `body` (module code; `handler` is the bundle's export) in a new Node process from another
 * working directory, with only `env`.
 */
export function runWithBundle(
  task: string,
  body: readonly string[],
  env: Record<string, string> = {},
): SpawnSyncReturns<string> {
  const script = [
    `const { handler } = await import(${JSON.stringify(pathToFileURL(join(task, 'index.mjs')).href)});`,
    "if (typeof handler !== 'function') throw new Error('the bundle exports no handler');",
    ...body,
  ].join('\n');
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: tmpdir(),
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', ...env },
    timeout: 60_000,
  });
}
