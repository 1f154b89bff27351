/**
 * `kmipd backup --dir DIR --out FILE` and `kmipd restore --dir DIR --from FILE` (issue K3 §6).
 * A backup is a consistent online copy of the object store, taken while the server runs. It holds
 * only HSM-wrapped key material and is useless without the deployment's HSM token and PIN.
 */
import type { Command } from 'commander';
import { backupDeployment, restoreDeployment } from '../maintenance/backup-restore.js';
import { progressReporter } from '../maintenance/progress-report.js';

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('write a consistent copy of the object store while the server runs (wrapped keys only)')
    .requiredOption('--dir <dir>', 'deployment directory')
    .requiredOption('--out <file>', 'backup file to create (never overwritten)')
    .action(async (o: { dir: string; out: string }) => {
      const bar = progressReporter('copying pages');
      const r = await backupDeployment(o.dir, o.out, (p) => bar.update(p.totalPages - p.remainingPages, p.totalPages));
      bar.finish(
        `backup written to ${r.path} (${r.pages} pages, integrity_check ok). ` +
          'It is readable only with this deployment\'s HSM token and PIN: keep those safe too, and separately.',
      );
    });
  program
    .command('restore')
    .description('replace the object store with a backup (the server must be stopped)')
    .requiredOption('--dir <dir>', 'deployment directory')
    .requiredOption('--from <file>', 'backup file written by `kmipd backup`')
    .option('--force', 'restore even if the backup needs KEK versions the token no longer has')
    .action(async (o: { dir: string; from: string; force?: boolean }) => {
      const r = await restoreDeployment(o.dir, o.from, { force: o.force });
      const counts = [...r.objectsByKekVersion].map(([v, n]) => `KEK v${v}: ${n}`).join(', ');
      process.stdout.write(
        `restored ${o.from} (${counts || 'no keys'})` +
          (r.replacedPath ? `; the previous database was kept as ${r.replacedPath}\n` : '\n'),
      );
    });
}
