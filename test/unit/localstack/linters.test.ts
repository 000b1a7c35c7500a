import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CFN_LINT_VERSION,
  CHECKOV_VERSION,
  formatFinding,
  LINTERS_TOOL,
} from '../../../localstack/linters.ts';
import { toolVenvDir } from '../../../localstack/python-venv.ts';

describe('CloudFormation linters setup', () => {
  it('pins cfn-lint, checkov and every dependency to one version with sha256 hashes', () => {
    // Prepare
    const text = readFileSync(LINTERS_TOOL.requirementsFile, 'utf8');

    // Act
    const blocks = text
      .split(/\n(?=[a-z])/i)
      .map((b) => b.trim())
      .filter((b) => b && !b.startsWith('#'));

    // Assess
    expect(blocks.length).toBeGreaterThan(50);
    for (const block of blocks) {
      expect(block).toMatch(/^[A-Za-z0-9_.-]+==[^\s\\]+ \\\n/);
      expect(block).toMatch(/--hash=sha256:[0-9a-f]{64}/);
    }
    expect(text).toContain(`cfn-lint==${CFN_LINT_VERSION} \\`);
    expect(text).toContain(`checkov==${CHECKOV_VERSION} \\`);
    expect(CFN_LINT_VERSION).toMatch(/^1\.\d+\.\d+$/);
    expect(CHECKOV_VERSION).toMatch(/^3\.\d+\.\d+$/);
  });

  it('installs into a cache folder named by both versions and the requirements hash', async () => {
    // Act
    const dir = await toolVenvDir('/cache', LINTERS_TOOL);

    // Assess
    expect(dir).toMatch(
      new RegExp(`^/cache/cfn-linters-cfn-lint${CFN_LINT_VERSION}-checkov${CHECKOV_VERSION}-[0-9a-f]{12}$`),
    );
  });

  it('prints a finding on one line with its file, resource and rule', () => {
    // Act / Assess
    expect(
      formatFinding({
        rule: 'CKV_AWS_18',
        file: 'a.template.json',
        resource: 'AccessLogs8B620ECA',
        level: 'failed',
        message: 'Ensure the S3 bucket has access logging enabled',
      }),
    ).toBe(
      'a.template.json AccessLogs8B620ECA: CKV_AWS_18 (failed) Ensure the S3 bucket has access logging enabled',
    );
  });
});
