import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EMULATOR_VERSION } from '../../../localstack/config.ts';
import {
  emulatorEnv,
  emulatorLayout,
  parsePythonVersion,
  pipError,
  REQUIREMENTS_FILE,
} from '../../../localstack/emulator.ts';

describe('AWS emulator setup', () => {
  it('pins every requirement to one version with at least one sha256 hash', () => {
    // Prepare
    const text = readFileSync(REQUIREMENTS_FILE, 'utf8');

    // Act
    const blocks = text
      .split(/\n(?=[a-z])/i)
      .map((b) => b.trim())
      .filter((b) => b && !b.startsWith('#'));

    // Assess
    expect(blocks.length).toBeGreaterThan(5);
    for (const block of blocks) {
      expect(block).toMatch(/^[A-Za-z0-9_.-]+==[^\s\\]+ \\\n/);
      expect(block).toMatch(/--hash=sha256:[0-9a-f]{64}/);
    }
    expect(text).toContain(`ministack==${EMULATOR_VERSION} \\`);
  });

  it.each([
    ['Python 3.11.7', [3, 11]],
    ['Python 3.9.18', [3, 9]],
    ['python: command not found', undefined],
  ])('reads the Python version from %j', (output, version) => {
    expect(parsePythonVersion(output)).toEqual(version);
  });

  it('binds the emulator to loopback on the chosen port and keeps its files in the state dir', () => {
    // Prepare
    const layout = emulatorLayout({
      cacheDir: '/c',
      mavenRepo: '/c/m2',
      kafkaHome: '/c/k',
      pipCache: '/c/pip',
      stateDir: '/s',
    });

    // Act
    const env = emulatorEnv(
      { AWS_ENDPOINT_URL: 'http://elsewhere:4566', PATH: '/bin' },
      { kafka: 1, kafkaController: 2, aws: 14566 },
      layout,
    );

    // Assess
    expect(env).toMatchObject({
      GATEWAY_PORT: '14566',
      BIND_HOST: '127.0.0.1',
      S3_DATA_DIR: '/s/emulator/s3',
      TMPDIR: '/s/emulator/tmp',
      PATH: '/bin',
    });
    expect(env['AWS_ENDPOINT_URL']).toBeUndefined();
  });

  it("keeps pip's error line when an install fails", () => {
    // Prepare
    const output =
      'Collecting ministack==1.5.33\nERROR: Could not find a version that satisfies the requirement ministack==1.5.33\nERROR: No matching distribution found';

    // Act / Assess
    expect(pipError(output)).toBe(
      'Could not find a version that satisfies the requirement ministack==1.5.33',
    );
  });
});
