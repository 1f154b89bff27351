/**
 * `kmipd hsm …`: operator commands on the deployment's HSM key hierarchy (issue K3 §5).
 *   status       KEK versions on the token and how many stored objects each one wraps
 *   rotate-kek   create KEK version n+1 and re-wrap every object online (a server may be running)
 *   destroy-kek  destroy an old KEK version, refused while any object is still wrapped under it
 * The PIN comes from the deployment's PIN file or environment variable, never the command line.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { hsmConfigOf } from '../app/executor-factory.js';
import { openPkcs11Protector, type Pkcs11Protector } from '../hsm/pkcs11-protector.js';
import type { ObjectStore } from '../store/index.js';
import { openStoreBackend } from '../store/backend.js';
import {
  DEFAULT_ROTATION_BATCH,
  DEFAULT_ROTATION_GRACE_MS,
  destroyKekIfUnused,
  kekUsage,
  rotateKek,
} from '../maintenance/kek-rotation.js';
import { progressReporter } from '../maintenance/progress-report.js';

type Print = (text: string) => void;
const stdout: Print = (t) => process.stdout.write(`${t}\n`);

async function withDeployment<T>(dir: string, fn: (keys: Pkcs11Protector, store: ObjectStore) => Promise<T>): Promise<T> {
  const config = loadConfig(dir);
  const keys = await openPkcs11Protector(hsmConfigOf(config, dir));
  try {
    const backend = await openStoreBackend(config.store, dir, { applicationName: 'kmipd hsm' });
    try {
      return await fn(keys, backend.objects);
    } finally {
      await backend.close();
    }
  } finally {
    await keys.close();
  }
}

export async function hsmStatus(dir: string, print: Print = stdout): Promise<Map<number, number>> {
  return withDeployment(dir, async (keys, store) => {
    const versions = await keys.listKekVersions();
    const usage = await kekUsage(store, versions);
    print(`token '${keys.tokenLabel}': KEK versions ${versions.length > 0 ? versions.join(', ') : '(none)'}`);
    for (const [v, n] of usage) {
      const note = versions.includes(v) ? (v === versions[versions.length - 1] ? ' (current)' : '') : ' (KEK MISSING: these keys cannot be read)';
      print(`  KEK v${v}: ${n} objects${note}`);
    }
    return usage;
  });
}

export interface RotateCommandOptions {
  batch?: number;
  destroyOld?: boolean;
  graceMs?: number;
  print?: Print;
  progressStream?: NodeJS.WriteStream;
}

export async function rotateKekCommand(dir: string, opts: RotateCommandOptions = {}): Promise<void> {
  const print = opts.print ?? stdout;
  await withDeployment(dir, async (keys, store) => {
    const bar = progressReporter('re-wrapping', opts.progressStream);
    const result = await rotateKek({
      store,
      keys,
      batchSize: opts.batch,
      destroyOld: opts.destroyOld,
      graceMs: opts.graceMs,
      onProgress: (p) => bar.update(p.done, p.total, p.phase === 'rewrap' ? `(pass ${p.pass})` : `(${p.phase})`),
    });
    bar.finish(`re-wrapped ${result.rewrapped} objects under KEK v${result.toVersion} (${result.conflicts} batches redone after concurrent changes)`);
    for (const f of result.failures) print(`  not re-wrapped: ${f.uid} (KEK v${f.kekVersion}): ${f.reason}`);
    if (result.destroyed.length > 0) print(`destroyed KEK versions ${result.destroyed.join(', ')}`);
    if (result.kept.length > 0) print(`kept KEK versions ${result.kept.join(', ')}: objects still use them`);
    if (result.failures.length > 0) {
      throw new Error(`${result.failures.length} objects could not be re-wrapped; their KEK versions were kept`);
    }
  });
}

export async function destroyKekCommand(dir: string, version: number, print: Print = stdout): Promise<void> {
  await withDeployment(dir, async (keys, store) => {
    const r = await destroyKekIfUnused(store, keys, version);
    if (r !== 'destroyed') {
      throw new Error(`refusing to destroy KEK v${version}: ${r.inUse} objects are still wrapped under it; run 'kmipd hsm rotate-kek' first`);
    }
    print(`destroyed KEK v${version}`);
  });
}

function positiveInt(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got '${v}'`);
    return n;
  };
}

export function registerHsmCommands(program: Command): void {
  // `destroy-kek --version N` must reach the subcommand instead of printing the program version:
  // the root's options are then only recognised before the command name (`kmipd --version`).
  program.enablePositionalOptions();
  const hsm = program.command('hsm').description('manage the HSM key hierarchy of a deployment (KEK versions)');
  hsm
    .command('status')
    .description('KEK versions on the token and the number of stored objects wrapped under each')
    .requiredOption('--dir <dir>', 'deployment directory')
    .action(async (o: { dir: string }) => {
      await hsmStatus(o.dir);
    });
  hsm
    .command('rotate-kek')
    .description('create a new KEK version and re-wrap every stored object under it, online')
    .requiredOption('--dir <dir>', 'deployment directory')
    .option('--batch <n>', `objects per commit (default ${DEFAULT_ROTATION_BATCH})`, positiveInt('--batch'))
    .option('--destroy-old', 'destroy the older KEK versions once no object uses them')
    .option(
      '--grace-ms <ms>',
      `keep old KEKs at least this long after creating the new one; running servers switch within 10 s (default ${DEFAULT_ROTATION_GRACE_MS})`,
      positiveInt('--grace-ms'),
    )
    .action(async (o: { dir: string; batch?: number; destroyOld?: boolean; graceMs?: number }) => {
      await rotateKekCommand(o.dir, { batch: o.batch, destroyOld: o.destroyOld, graceMs: o.graceMs });
    });
  hsm
    .command('destroy-kek')
    .description('destroy an old KEK version (refused while any object is wrapped under it)')
    .requiredOption('--dir <dir>', 'deployment directory')
    .requiredOption('--version <n>', 'the KEK version to destroy', positiveInt('--version'))
    .action(async (o: { dir: string; version: number }) => {
      await destroyKekCommand(o.dir, o.version);
    });
}
