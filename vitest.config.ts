import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One line when ../shared is missing (tests that need it skip); fails when ATTUNE_REQUIRE_SHARED is set.
    globalSetup: ['test/support/sharedSetup.ts'],
  },
});
