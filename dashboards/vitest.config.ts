import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'dashboards',
    include: ['test/**/*.test.ts'],
    // The proof test starts a whole local cluster; nothing else here is slow.
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
