import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure logic, no I/O, milliseconds) and `integration` (real Kafka broker and
// real ClickHouse engine, started once by the global setup). `source` makes workspace packages
// resolve to their TypeScript sources, so tests never need a build first.
export default defineConfig({
  // This file lives in test/ to keep the top level to the agreed layout; paths stay repo-relative.
  root: fileURLToPath(new URL('..', import.meta.url)),
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    // kafkajs warns about its v2 partitioner change on every producer; the project always used v2.
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'scripts/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            'packages/*/src/**/*.int.test.ts',
            'services/*/src/**/*.int.test.ts',
            'test/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**', '**/dist/**'],
          globalSetup: ['test/setup/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // The embedded ClickHouse engine binds one data directory per process; files run one at a
          // time in forks so each file owns its engine and the broker is not starved on 2 cores.
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
