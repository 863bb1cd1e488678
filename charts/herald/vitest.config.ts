import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'chart',
    include: ['tests/**/*.test.ts'],
    // helm renders, one TypeScript program for the strict field check, real services in e2e.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
