import { Command, CommanderError } from 'commander';
import { UserError } from './errors.ts';

/**
 * Entry point of the `tidewater` command line (SPEC §7). Each subcommand lives in
 * `cli/commands/<name>.ts` and exports `register(program)`.
 */
const program = new Command('tidewater')
  .description('Tidewater: a serverless, Kafka-first streaming data platform for AWS')
  .showHelpAfterError()
  .exitOverride();

const commands: Array<Promise<{ register(program: Command): void }>> = [
  // one line per subcommand module
  import('./commands/cost.ts'),
  import('./commands/dashboard.ts'),
  import('./commands/domain.ts'),
  import('./commands/generate.ts'),
  import('./commands/produce.ts'),
  import('./commands/query.ts'),
  import('./commands/redrive.ts'),
  import('./commands/replay.ts'),
  import('./commands/run.ts'),
  import('./commands/stack.ts'),
  import('./commands/state.ts'),
  import('./commands/tail.ts'),
];
for (const mod of await Promise.all(commands)) mod.register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (err instanceof UserError) {
    process.stderr.write(`tidewater: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    throw err;
  }
}
