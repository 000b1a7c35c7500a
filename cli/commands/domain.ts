import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  contractAvroSchema,
  contractJsonSchema,
  type Domain,
  DomainConfigError,
  loadDomain,
} from '../../functions/core/index.ts';
import { starterYaml } from '../domain/starter.ts';
import { UserError } from '../errors.ts';

/**
 * `tidewater domain validate FILE | schema FILE --format json-schema|avro | init NAME`: the tools
 * for a team bringing its own event type (SPEC §7, §8). FILE is a path to a domain YAML or the
 * name of a shipped domain (`payments`).
 */

function load(file: string): Domain {
  try {
    return loadDomain(file);
  } catch (err) {
    if (!(err instanceof DomainConfigError)) throw err;
    // Every problem, one per line with its key path, then the one-line verdict.
    process.stderr.write(`${err.message}\n`);
    throw new UserError(
      `${file}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} (listed above)`,
    );
  }
}

function summary(d: Domain): string {
  const generated = d.views.filter((v) => v.origin === 'generated').length;
  const patterns = d.cep ? Object.values(d.cep.patterns).filter((p) => p !== null).length : 0;
  return [
    `${d.source}: domain ${d.name} is valid`,
    `  ${d.fields.length} fields, ${d.eventTypes.length} event types (${d.eventTypes.join(', ')}), key ${d.keyField}, topic ${d.topic}`,
    `  ${d.windows.length} windows (${d.windows.map((w) => w.name).join(', ') || 'none'}), ${patterns} CEP patterns`,
    `  ${d.views.length} views (${generated} generated, ${d.views.length - generated} declared), every column they read present`,
    `  ${d.charts.length} report charts (${d.charts.map((c) => c.id).join(', ') || 'none'}) and data quality`,
  ].join('\n');
}

export function register(program: Command): void {
  const domain = program
    .command('domain')
    .description('check a domain YAML, print its record contract as a schema, or start a new one');

  domain
    .command('validate')
    .description('check a domain: every error with its key path, and the columns of its views and charts')
    .argument('<file>', 'a domain YAML (or the name of a shipped domain)')
    .action((file: string) => {
      process.stdout.write(`${summary(load(file))}\n`);
    });

  domain
    .command('schema')
    .description("print a domain's record contract as a JSON Schema or an Avro schema")
    .argument('<file>', 'a domain YAML (or the name of a shipped domain)')
    .option('--format <format>', 'json-schema or avro', 'json-schema')
    .action((file: string, options: { format: string }) => {
      if (options.format !== 'json-schema' && options.format !== 'avro')
        throw new UserError(`--format must be json-schema or avro, got '${options.format}'`);
      const d = load(file);
      const schema = options.format === 'avro' ? contractAvroSchema(d) : contractJsonSchema(d);
      process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    });

  domain
    .command('init')
    .description('write a commented starter domain NAME.yaml that validates and runs')
    .argument('<name>', 'the domain name, snake_case (e.g. orders)')
    .option('--dir <dir>', 'folder to write NAME.yaml into', '.')
    .action((name: string, options: { dir: string }) => {
      if (!/^[a-z][a-z0-9_]*$/.test(name))
        throw new UserError(`the domain name must be snake_case like "orders", got '${name}'`);
      const file = resolve(options.dir, `${name}.yaml`);
      if (existsSync(file)) throw new UserError(`${file} exists; remove it or choose another name`);
      try {
        writeFileSync(file, starterYaml(name), { flag: 'wx' });
      } catch (err) {
        throw new UserError(`cannot write ${file}: ${(err as Error).message}`);
      }
      process.stdout.write(
        `wrote ${file}\nnext:\n  npx tidewater domain validate ${file}\n  npx tidewater run --domain ${file} --generate 20000 --report ${name}-report.html\n`,
      );
    });
}
