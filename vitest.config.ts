import { defineConfig } from 'vitest/config';

// The AWS SDK warns once per process that its 2027 releases will need Node 22; in tests that is one
// copy of the same notice per worker. Inherited by the workers and by the processes tests spawn.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/src/**/*.test.tsx', 'infra/**/*.test.ts', 'stacks/**/*.test.ts'],
    // One DynamoDB Local (in memory) and one SES server for the whole run; see packages/testing.
    globalSetup: ['@rapport/testing/global-setup'],
    // Separate processes: some tests start engines and servers of their own. Sized for 2 cores.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
