import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Separate processes: the native module and process-wide signal handlers stay per test file.
    pool: 'forks',
    // One file at a time: integration tests compare the host's mounts, processes and links
    // before and after, and another file's containers would blur that picture.
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
    // Each integration test checks the host before and after it (test/host-check.ts).
    setupFiles: ['test/host-check.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
