/**
 * The `kmipd` command line. Each command group lives in its own module and registers
 * itself on the program; this file only wires them together.
 */
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { kmipdExecutorFactory, packageVersion } from '../app/executor-factory.js';
import { registerBackupCommands } from './backup.js';
import { registerConformanceCommand } from './conformance.js';
import { registerHsmCommands } from './hsm.js';
import { registerInitCommand } from './init.js';
import { registerServeCommand } from './serve.js';
import { registerStartCommand } from './start.js';
import { registerTtlvCommands } from './ttlv.js';
import { registerRoleCommands } from './role.js';
import { registerCertCommands } from './cert.js';
import { registerAuditCommands } from './audit.js';
import { registerPolicyCommands } from './policy.js';
import { registerKeysCommands } from './keys.js';
import { registerBenchCommand } from './bench.js';
import { registerMigrateCommand } from './migrate.js';

export function buildProgram(): Command {
  const program = new Command('kmipd')
    .description('KMIP key server for storage integrations')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError();
  registerInitCommand(program);
  registerServeCommand(program, { executorFactory: kmipdExecutorFactory });
  registerStartCommand(program);
  registerConformanceCommand(program);
  registerTtlvCommands(program);
  registerRoleCommands(program);
  registerCertCommands(program);
  registerAuditCommands(program);
  registerHsmCommands(program);
  registerBackupCommands(program);
  registerPolicyCommands(program);
  registerKeysCommands(program);
  registerBenchCommand(program);
  registerMigrateCommand(program);
  return program;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`kmipd: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
