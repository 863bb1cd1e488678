import { defineProject } from 'vitest/config';

// k6 scripts are not run here (k6 is not installed); this project tests the Node-side helper
// that mints their tokens against the edge's own verifier.
export default defineProject({
  test: {
    name: 'loadtest',
    include: ['test/**/*.test.ts'],
  },
});
