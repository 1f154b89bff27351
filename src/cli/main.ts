/**
 * The `kmipd` command line. Each command group lives in its own module and registers
 * itself on the program; this file only wires them together.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { registerTtlvCommands } from './ttlv.js';

function packageVersion(): string {
  const pkgPath = fileURLToPath(new URL('../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('kmipd')
    .description('KMIP key server for storage integrations')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError();
  registerTtlvCommands(program);
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
