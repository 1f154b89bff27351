// A `kmipd` command line for tests of the init/serve commands, run in a child process with
// `node --import ./test/support/ts-register.mjs test/support/kmipd-cli.ts ...`. It registers the
// transport's commands the way src/cli/main.ts does, with a test executor instead of the real one.
import { Command } from 'commander';
import { registerInitCommand } from '../../src/cli/init.js';
import { registerServeCommand } from '../../src/cli/serve.js';
import type { ExecutorResult } from '../../src/dispatch/types.js';

const delayMs = Number(process.env['KMIPD_TEST_DELAY_MS'] ?? '0');
const program = new Command('kmipd');
registerInitCommand(program);
registerServeCommand(program, {
  executorFactory: () => ({
    execute: (message) => new Promise<ExecutorResult>((r) => setTimeout(() => r({ kind: 'reply', bytes: message }), delayMs)),
  }),
});
program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`kmipd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
