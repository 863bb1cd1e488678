import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const shim = (m: string): string => fileURLToPath(new URL(`./test/k6/${m}.ts`, import.meta.url));

// k6 is not installed here. This project tests the Node-side token minting against the edge's own
// verifier, and runs the scripts' iteration functions in Node against a real edge and publisher,
// with test/k6/ standing in for the k6 modules they import.
export default defineProject({
  resolve: {
    alias: [
      { find: /^k6$/, replacement: shim('k6') },
      ...['metrics', 'timers', 'data', 'encoding', 'execution', 'http', 'websockets'].map((m) => ({
        find: new RegExp(`^k6/${m}$`),
        replacement: shim(m),
      })),
    ],
  },
  test: {
    name: 'loadtest',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
