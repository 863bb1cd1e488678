import { defineConfig } from 'vitest/config';

// One vitest project per package; each has its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: [
      'services/*/vitest.config.ts',
      'charts/*/vitest.config.ts',
      // dashboards/, loadtest/ and any other top-level package with a config
      '*/vitest.config.ts',
    ],
    // Two cores: integration tests start real servers; keep the machine responsive.
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
