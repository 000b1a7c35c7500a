#!/usr/bin/env node
// The `tidewater` command. Registers tsx so the CLI runs straight from the TypeScript sources.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
