#!/usr/bin/env node
// The `tidewater` command. Registers tsx so the CLI runs straight from the TypeScript sources.
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';

// `tidewater run` keeps a batch of records, rows and events alive while it works on it: with V8's
// default young generation (16 MiB semi-spaces) nearly every scavenge copies a whole batch, about
// 2.3 s of the main thread per 1M events; 64 MiB semi-spaces measured 1.5 s (`node --trace-gc`).
// The size can only be set when the process starts, so `run` restarts itself once with it.
const SEMI_SPACE = '--max-semi-space-size=64';
if (
  process.argv[2] === 'run' &&
  !process.execArgv.some((a) => a.startsWith('--max-semi-space-size')) &&
  process.env.TIDEWATER_NO_RESPAWN !== '1'
) {
  const child = spawnSync(process.execPath, [SEMI_SPACE, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  if (child.error) throw child.error;
  process.exit(child.status ?? 128 + (constants.signals[child.signal ?? 'SIGTERM'] ?? 15));
}

const { register } = await import('tsx/esm/api');
register();
await import('../cli/main.ts');
