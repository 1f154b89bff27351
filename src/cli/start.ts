/**
 * `kmipd start` (what `npm start` runs): the embedded-defaults path for a first-time user.
 * Creates the deployment on first run (dev PKI, SoftHSM2 token with its KEK, SQLite store),
 * then serves it. Later runs only serve.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_FILE_NAME } from '../config/config.js';
import { initDeployment } from './init.js';

/** Where `npm start` keeps its deployment unless KMIPD_DIR says otherwise. */
export function defaultDeploymentDir(): string {
  return resolve(process.env.KMIPD_DIR ?? 'data');
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('create a deployment with embedded defaults on first run (in $KMIPD_DIR or ./data), then serve it')
    .option('--dir <dir>', 'deployment directory (default: $KMIPD_DIR or ./data)')
    .option('--listen <host:port>', 'override the KMIP listen address of the config')
    .action(async (opts: { dir?: string; listen?: string }) => {
      const dir = resolve(opts.dir ?? defaultDeploymentDir());
      if (!existsSync(join(dir, CONFIG_FILE_NAME))) {
        await initDeployment(dir);
      } else {
        process.stdout.write(`Using the deployment in ${dir}\n`);
      }
      const serveArgs = ['serve', '--dir', dir, ...(opts.listen ? ['--listen', opts.listen] : [])];
      await program.parseAsync(serveArgs, { from: 'user' });
    });
}
