import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['*.test.ts'],
    testTimeout: 300_000,
    // halfmoon ships TypeScript sources: let vitest transform them inside node_modules too.
    server: { deps: { inline: ['halfmoon'] } },
  },
});
