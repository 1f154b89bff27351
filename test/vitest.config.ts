// Vitest configuration for the whole suite. The default `forks` pool is required:
// pkcs11js must not be initialised from several worker threads in one process (STACK.md).
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root,
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // The run's private PostgreSQL server (started on first use, stopped at the end).
    globalSetup: ['./test/support/postgres-global.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
