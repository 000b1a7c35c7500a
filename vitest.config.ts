import { defineConfig } from 'vitest/config';

/**
 * Three projects: `unit` (pure, fast, no services), `cdk` (synthesizes stacks; slower, in-process),
 * `integration` (talks to a real Kafka broker and the AWS emulator; the global setup starts the
 * local stack when nothing is reachable and stops what it started).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'cdk',
          include: ['test/cdk/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Synthesis is CPU- and memory-heavy; on 2 cores, a single fork is fastest overall.
          pool: 'forks',
          maxWorkers: 1,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
