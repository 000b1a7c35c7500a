import { join } from 'node:path';
import { run } from './process.ts';
import { checkPython, ensureToolInstalled, type PythonTool, type VenvPaths } from './python-venv.ts';

/**
 * The CloudFormation linters `npm test` runs over every synthesized environment
 * (`test/cdk/cfn-linters.test.ts`): cfn-lint and checkov from PyPI, pinned with hashes by
 * `localstack/linters/requirements.txt`, in one virtualenv under the cache (installed like the
 * emulator, by `python-venv.ts`).
 */

export const CFN_LINT_VERSION = '1.58.0';
export const CHECKOV_VERSION = '3.3.30';

const ROOT = join(import.meta.dirname, '..');

/** cfn-lint's settings: the ignored rules, each with its reason. */
export const CFN_LINT_CONFIG = join(ROOT, '.cfnlintrc.yaml');

export const LINTERS_TOOL: PythonTool = {
  name: 'cfn-linters',
  label: 'CloudFormation linters',
  version: `cfn-lint${CFN_LINT_VERSION}-checkov${CHECKOV_VERSION}`,
  requirementsFile: join(import.meta.dirname, 'linters', 'requirements.txt'),
  programs: ['cfn-lint', 'checkov'],
};

export interface Linters {
  readonly cfnLint: string;
  readonly checkov: string;
}

/** Installs cfn-lint and checkov on first use (hash-checked, from PyPI) and returns their programs. */
export async function ensureLintersInstalled(
  paths: VenvPaths,
  log: (line: string) => void,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<Linters> {
  const venv = await ensureToolInstalled(
    paths,
    LINTERS_TOOL,
    () => checkPython(env, 'to run cfn-lint and checkov', 'or install them yourself'),
    log,
  );
  return { cfnLint: join(venv, 'bin', 'cfn-lint'), checkov: join(venv, 'bin', 'checkov') };
}

/** One finding of a linter, located in a template. */
export interface LintFinding {
  readonly rule: string;
  readonly file: string;
  /** Logical id of the resource, when the finding is about one. */
  readonly resource?: string;
  readonly level: string;
  readonly message: string;
}

/** `<file> <resource>: <rule> <message>`, one line for a test failure. */
export function formatFinding(f: LintFinding): string {
  return `${f.file}${f.resource ? ` ${f.resource}` : ''}: ${f.rule} (${f.level}) ${f.message}`;
}

const LINT_TIMEOUT_MS = 5 * 60_000;

interface CfnLintJson {
  readonly Rule: { readonly Id: string };
  readonly Filename: string;
  readonly Level: string;
  readonly Message: string;
  readonly Location?: { readonly Path?: readonly (string | number)[] };
}

/** Runs cfn-lint with {@link CFN_LINT_CONFIG} over `templates`; returns what it reports. */
export async function runCfnLint(program: string, templates: readonly string[]): Promise<LintFinding[]> {
  const r = await run(program, ['--config-file', CFN_LINT_CONFIG, '--format', 'json', '--', ...templates], {
    cwd: ROOT,
    timeoutMs: LINT_TIMEOUT_MS,
  });
  // Exit codes are a bit mask of what was found (2 errors, 4 warnings, 8 informational); 1 is a crash.
  let parsed: CfnLintJson[];
  try {
    parsed = JSON.parse(r.stdout) as CfnLintJson[];
  } catch {
    throw new Error(
      `cfn-lint (exit ${r.code ?? 'signal'}) printed no JSON report: ${(r.stderr || r.stdout).slice(0, 500)}`,
    );
  }
  return parsed.map((f) => {
    const path = f.Location?.Path ?? [];
    const resource = path[0] === 'Resources' && typeof path[1] === 'string' ? path[1] : undefined;
    return {
      rule: f.Rule.Id,
      file: f.Filename,
      ...(resource ? { resource } : {}),
      level: f.Level,
      message: f.Message,
    };
  });
}

interface CheckovCheck {
  readonly check_id: string;
  readonly check_name: string;
  readonly file_abs_path: string;
  readonly resource: string;
  readonly check_result?: { readonly suppress_comment?: string };
}

interface CheckovReport {
  readonly check_type: string;
  readonly results: {
    readonly failed_checks: readonly CheckovCheck[];
    readonly skipped_checks: readonly CheckovCheck[];
    readonly parsing_errors: readonly string[];
  };
  readonly summary: { readonly passed: number; readonly resource_count: number };
}

export interface CheckovResult {
  readonly failed: readonly LintFinding[];
  readonly skipped: readonly LintFinding[];
  readonly passed: number;
  readonly resourceCount: number;
  readonly parsingErrors: readonly string[];
}

/**
 * Runs checkov's CloudFormation checks over `templates`, offline (`--skip-download`: no guideline or
 * policy download). Skips come from each resource's `Metadata.checkov.skip` only.
 */
export async function runCheckov(program: string, templates: readonly string[]): Promise<CheckovResult> {
  const r = await run(
    program,
    [
      '--framework',
      'cloudformation',
      '--skip-download',
      '--compact',
      '--output',
      'json',
      ...templates.flatMap((t) => ['--file', t]),
    ],
    { cwd: ROOT, timeoutMs: LINT_TIMEOUT_MS, env: { ...process.env, LOG_LEVEL: 'ERROR' } },
  );
  let parsed: CheckovReport | CheckovReport[] | { summary?: unknown };
  try {
    parsed = JSON.parse(r.stdout) as CheckovReport | CheckovReport[];
  } catch {
    throw new Error(
      `checkov (exit ${r.code ?? 'signal'}) printed no JSON report: ${(r.stderr || r.stdout).slice(0, 500)}`,
    );
  }
  const reports = (Array.isArray(parsed) ? parsed : [parsed]).filter(
    (p): p is CheckovReport => 'results' in p && (p as CheckovReport).check_type === 'cloudformation',
  );
  if (reports.length === 0) {
    throw new Error(`checkov reported no CloudFormation results: ${r.stdout.slice(0, 300)}`);
  }
  const finding =
    (level: string) =>
    (c: CheckovCheck): LintFinding => ({
      rule: c.check_id,
      file: c.file_abs_path,
      resource: c.resource.split('.').slice(1).join('.'),
      level,
      message: c.check_result?.suppress_comment ?? c.check_name,
    });
  return {
    failed: reports.flatMap((p) => p.results.failed_checks.map(finding('failed'))),
    skipped: reports.flatMap((p) => p.results.skipped_checks.map(finding('skipped'))),
    passed: reports.reduce((n, p) => n + p.summary.passed, 0),
    resourceCount: reports.reduce((n, p) => n + p.summary.resource_count, 0),
    parsingErrors: reports.flatMap((p) => p.results.parsing_errors),
  };
}
