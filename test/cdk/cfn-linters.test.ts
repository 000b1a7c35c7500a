/**
 * cfn-lint and checkov over the templates of every environment (dev, staging, prod, local),
 * synthesized in-process with cdk-nag as `npm run synth` does (bundling off: assets are hashed).
 * The linters come from PyPI, pinned and hash-checked, in a venv under `~/.cache/tidewater/`
 * (installed on the first run, reused after). cfn-lint may ignore only the rules of `.cfnlintrc.yaml`,
 * each with its reason; checkov may skip only what a resource declares in `Metadata.checkov.skip`
 * (`skipCheckov` beside the construct), and every declared skip must still be needed.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isScalar, isSeq, parseDocument } from 'yaml';
import { buildApp } from '../../lib/app.ts';
import { listEnvironments } from '../../lib/config/environment-config.ts';
import { stackPaths } from '../../localstack/config.ts';
import {
  CFN_LINT_CONFIG,
  type CheckovResult,
  ensureLintersInstalled,
  formatFinding,
  type LintFinding,
  runCfnLint,
  runCheckov,
} from '../../localstack/linters.ts';

type Template = { Resources?: Record<string, { Metadata?: Record<string, unknown> }> };

let outdir: string;
/** Every synthesized template, by path. */
let templates: string[];
/** The templates that declare checkov skips, without them: shows that each declared skip is needed. */
let unskipped: string[];
let cfnLint: LintFinding[];
let checkov: CheckovResult;

function templatesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => join(dir, f))
    .sort();
}

function readTemplate(file: string): Template {
  return JSON.parse(readFileSync(file, 'utf8')) as Template;
}

/** `<template file name> <logical id> <check id>` of every skip the templates declare. */
function declaredSkips(files: readonly string[]): { key: string; comment: string }[] {
  return files.flatMap((file) =>
    Object.entries(readTemplate(file).Resources ?? {}).flatMap(([id, r]) =>
      ((r.Metadata?.['checkov'] as { skip?: { id: string; comment: string }[] } | undefined)?.skip ?? []).map(
        (s) => ({ key: `${basename(file)} ${id} ${s.id}`, comment: s.comment }),
      ),
    ),
  );
}

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'tidewater-cfn-lint-'));
  for (const env of listEnvironments()) {
    buildApp({ envName: env, bundle: false, appProps: { outdir: join(outdir, env) } }).app.synth();
  }
  templates = templatesUnder(outdir);
  const stripped = join(outdir, 'unskipped');
  mkdirSync(stripped);
  // Only the templates that declare a skip need a copy without them.
  unskipped = templates
    .filter((file) => declaredSkips([file]).length > 0)
    .map((file) => {
      const t = readTemplate(file);
      for (const r of Object.values(t.Resources ?? {})) delete r.Metadata?.['checkov'];
      const copy = join(stripped, basename(file));
      writeFileSync(copy, JSON.stringify(t));
      return copy;
    });
  const linters = await ensureLintersInstalled(stackPaths(), (line) => console.log(line));
  [cfnLint, checkov] = await Promise.all([
    runCfnLint(linters.cfnLint, templates),
    runCheckov(linters.checkov, [...templates, ...unskipped]),
  ]);
}, 20 * 60_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('synthesized templates', () => {
  it('cover every stack of the four environments', () => {
    // Assess: dev, staging and prod have six stacks each, local four
    expect(listEnvironments()).toEqual(['dev', 'local', 'prod', 'staging']);
    expect(templates).toHaveLength(22);
    // Template file names are unique across environments (the stage name is in each).
    expect(new Set(templates.map((f) => basename(f))).size).toBe(templates.length);
  });
});

describe('cfn-lint', () => {
  it('reports no error and no warning outside the ignore list', () => {
    // Assess
    expect(cfnLint.map(formatFinding)).toEqual([]);
  });

  it('ignores only rules whose reason is written above them in .cfnlintrc.yaml', () => {
    // Prepare
    const doc = parseDocument(readFileSync(CFN_LINT_CONFIG, 'utf8'));
    const ignored = doc.get('ignore_checks');

    // Assess
    expect(isSeq(ignored), 'ignore_checks is a list').toBe(true);
    if (!isSeq(ignored)) return;
    expect(ignored.items.length).toBeLessThanOrEqual(5);
    for (const [i, item] of ignored.items.entries()) {
      const rule = isScalar(item) ? String(item.value) : JSON.stringify(item);
      // The yaml parser gives the comment above the first item to the list itself.
      const comment =
        (isScalar(item) ? item.commentBefore : undefined) ?? (i === 0 ? ignored.commentBefore : '');
      expect(rule).toMatch(/^[EWI]\d{4}$/);
      expect(comment ?? '', `${rule} has no reason`).toMatch(new RegExp(`^ ?${rule} [\\s\\S]{80,}`));
    }
  });
});

describe('checkov', () => {
  const inTemplates = (f: LintFinding) => templates.includes(f.file);

  it('reads every template and fails no check', () => {
    // Assess
    expect(checkov.parsingErrors).toEqual([]);
    expect(checkov.resourceCount).toBeGreaterThan(400);
    expect(checkov.passed).toBeGreaterThan(0);
    expect(checkov.failed.filter(inTemplates).map(formatFinding)).toEqual([]);
  });

  it('skips only what a resource declares, with its reason', () => {
    // Prepare
    const declared = declaredSkips(templates);
    const skipped = checkov.skipped
      .filter(inTemplates)
      .map((f) => `${basename(f.file)} ${f.resource} ${f.rule}`);

    // Assess
    expect(declared.length).toBeGreaterThan(0);
    expect(skipped.sort()).toEqual(declared.map((d) => d.key).sort());
    for (const d of declared) expect(d.comment.length, d.key).toBeGreaterThanOrEqual(40);
  });

  it('needs every declared skip: without them, exactly those checks fail', () => {
    // Prepare
    const failingWithoutSkips = checkov.failed
      .filter((f) => unskipped.includes(f.file))
      .map((f) => `${basename(f.file)} ${f.resource} ${f.rule}`);

    // Assess
    expect(failingWithoutSkips.sort()).toEqual(
      declaredSkips(templates)
        .map((d) => d.key)
        .sort(),
    );
  });
});
