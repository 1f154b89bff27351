// Vitest globalSetup: one run directory for the test PostgreSQL server, shared by every test file
// of the run. Nothing starts here: the first file that asks for a database starts the server
// (test/support/postgres.ts), so runs without PostgreSQL tests pay nothing. At the end of the run
// the server, if it started, is stopped and the directory removed.
import type { TestProject } from 'vitest/node';
import { privateRunDir, stopServer } from './postgres.js';

export default function setup(project: TestProject): () => void {
  const run = privateRunDir();
  project.provide('kmipdPostgresRun', run);
  return () => stopServer(run);
}
