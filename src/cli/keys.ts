/**
 * `kmipd keys due --dir DIR [--within 7d] [--tenant T]`: the rotations coming up (K8), computed
 * exactly as the scheduler computes them (src/rotation/due.ts), with keys that failed and are
 * backing off. Overdue keys come first.
 */
import type { Command } from 'commander';
import { findDueKeys } from '../rotation/due.js';
import { parseDuration } from '../rotation/policy.js';
import type { ObjectStore } from '../store/index.js';
import type { RotationStore } from '../rotation/types.js';
import { withDeploymentStore } from './role.js';

/** What the command reads: the deployment's objects and rotation rows (SQLite or PostgreSQL). */
interface RotationParts {
  objects: ObjectStore;
  rotation: RotationStore;
}

export async function keysDueCommand({ objects: store, rotation }: RotationParts, o: { within?: string; tenant?: string }, now = Date.now()): Promise<string> {
  const withinMs = o.within === undefined ? 0 : parseDuration(o.within) * 1000;
  const due = (await findDueKeys(store, rotation, now, { withinMs })).filter((d) => o.tenant === undefined || d.tenant === o.tenant);
  const retries = new Map((await rotation.retries()).map((r) => [r.uid, r]));
  if (due.length === 0) return `(no rotations due${withinMs > 0 ? ` within ${o.within}` : ''})`;
  return due
    .map((d) => {
      const when = d.dueAt <= now ? `OVERDUE since ${new Date(d.dueAt).toISOString()}` : new Date(d.dueAt).toISOString();
      const retry = retries.get(d.uid);
      const failing = retry === undefined ? '' : `  [${retry.attempts} failed attempt(s), next ${new Date(retry.nextAttemptAt).toISOString()}: ${retry.lastError ?? ''}]`;
      const mode = d.policy.automatic ? 'automatic' : 'MANUAL: rotate with ReKey';
      return `${when}  ${d.uid}  tenant ${d.tenant}  generation ${d.generation}  ${mode}  (${d.policy.source}: ${d.policy.description})${failing}`;
    })
    .join('\n');
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('managed keys');
  keys
    .command('due')
    .description('list keys whose rotation is due now or within a window')
    .requiredOption('--dir <dir>', 'deployment directory')
    .option('--within <duration>', 'also list rotations due within this window: 7d, 12h')
    .option('--tenant <tenant>', 'only this tenant')
    .action(async (opts: { dir: string; within?: string; tenant?: string }) => {
      const out = await withDeploymentStore(opts.dir, (store) => keysDueCommand(store, opts));
      process.stdout.write(`${out}\n`);
    });
}
