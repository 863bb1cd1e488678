import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'chart', include: ['tests/**/*.test.ts'] },
});
