/**
 * `kmipd migrate --dir DIR` (K10): upgrades the deployment's store schema (SQLite file or
 * PostgreSQL database) to what this kmipd writes, and says from which version to which. Serving
 * nodes may keep running: each step is one transaction, and concurrent runs apply it once.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { migrateStore } from '../store/backend.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description("upgrade the store's schema (SQLite or PostgreSQL) to this version of kmipd")
    .requiredOption('--dir <dir>', 'deployment directory')
    .action(async (opts: { dir: string }) => {
      const r = await migrateStore(loadConfig(opts.dir).store, opts.dir);
      const what = `${r.kind} store ${r.location}`;
      process.stdout.write(r.from === r.to ? `${what}: schema already at version ${r.to}\n` : `${what}: schema upgraded from version ${r.from} to ${r.to}\n`);
    });
}
