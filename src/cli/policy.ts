/**
 * `kmipd policy set|show|clear --dir DIR [UID] [--tenant T] [--group G] ...`: key rotation
 * policies (K8, src/rotation). A policy is set on one key (its Unique Identifier), on the keys of
 * one Object Group of a tenant (--group), or as the default of a tenant (--tenant alone). A
 * running server picks changes up on its next scheduler pass; nothing needs a restart.
 */
import type { Command } from 'commander';
import { Enum } from '../kmip/registry.js';
import { describePolicy, describeTarget, effectivePolicy, indexPolicies, parseDuration } from '../rotation/policy.js';
import type { PolicyTarget, RotationPolicy, RotationStore } from '../rotation/types.js';
import type { ObjectStore } from '../store/index.js';
import { withDeploymentStore } from './role.js';

/** What the command reads: the deployment's objects and rotation rows (SQLite or PostgreSQL). */
interface RotationParts {
  objects: ObjectStore;
  rotation: RotationStore;
}

export interface TargetOptions {
  tenant?: string;
  group?: string;
}

export interface SetOptions extends TargetOptions {
  interval?: string;
  offset?: string;
  automatic?: boolean;
  grace?: string;
}

/** The policy target named on the command line; a key's tenant is read from the store. */
async function targetOf(store: ObjectStore, uid: string | undefined, o: TargetOptions): Promise<PolicyTarget> {
  if (uid !== undefined) {
    if (o.group !== undefined) throw new Error('give a key identifier or --group, not both');
    const unit = store.begin({ tenant: null });
    try {
      const obj = await unit.get(uid);
      if (obj === undefined) throw new Error(`no object ${uid} in this deployment`);
      if (obj.objectType !== Enum.ObjectType.SymmetricKey) throw new Error(`${uid} is not a symmetric key: only symmetric keys are rotated (ReKey)`);
      if (o.tenant !== undefined && o.tenant !== obj.tenant) throw new Error(`${uid} belongs to tenant ${obj.tenant}, not ${o.tenant}`);
      return { kind: 'key', tenant: obj.tenant, uid };
    } finally {
      unit.rollback();
    }
  }
  const tenant = o.tenant ?? 'default';
  return o.group !== undefined ? { kind: 'group', tenant, group: o.group } : { kind: 'tenant', tenant };
}

export function formatPolicy(p: RotationPolicy): string {
  return `${describeTarget(p.target)}: ${describePolicy(p)} (set ${new Date(p.updatedAt).toISOString()})`;
}

export async function setPolicyCommand({ objects: store, rotation }: RotationParts, uid: string | undefined, o: SetOptions, now = Date.now()): Promise<string> {
  const target = await targetOf(store, uid, o);
  const existing = await rotation.getPolicy(target);
  const interval = o.interval !== undefined ? parseDuration(o.interval) : existing?.intervalSeconds;
  if (interval === undefined || interval <= 0) throw new Error('--interval is required for a new policy (30d, 12h, 3600s)');
  const p = await rotation.setPolicy(
    {
      target,
      intervalSeconds: interval,
      offsetSeconds: o.offset !== undefined ? parseDuration(o.offset) : (existing?.offsetSeconds ?? null),
      automatic: o.automatic ?? existing?.automatic ?? true,
      graceSeconds: o.grace !== undefined ? parseDuration(o.grace) : (existing?.graceSeconds ?? null),
    },
    now,
  );
  return `${existing === undefined ? 'set' : 'updated'}: ${formatPolicy(p)}`;
}

export async function showPolicyCommand({ objects: store, rotation }: RotationParts, uid: string | undefined, o: TargetOptions): Promise<string> {
  if (uid === undefined && o.group === undefined) {
    const all = await rotation.listPolicies(o.tenant);
    return all.length === 0 ? '(no rotation policies)' : all.map(formatPolicy).join('\n');
  }
  const target = await targetOf(store, uid, o);
  const own = await rotation.getPolicy(target);
  const lines = [own === undefined ? `${describeTarget(target)}: no policy of its own` : formatPolicy(own)];
  if (target.kind === 'key') lines.push(await effectiveLine(store, rotation, target.uid, target.tenant));
  return lines.join('\n');
}

async function effectiveLine(store: ObjectStore, rotation: RotationStore, uid: string, tenant: string): Promise<string> {
  const unit = store.begin({ tenant });
  try {
    const obj = await unit.get(uid);
    if (obj === undefined) return 'effective: (key not found)';
    const policy = effectivePolicy(obj, indexPolicies(await rotation.listPolicies(tenant)).get(tenant));
    return policy === undefined ? 'effective: none (the key is not rotated)' : `effective (${policy.source}): ${policy.description}`;
  } finally {
    unit.rollback();
  }
}

export async function clearPolicyCommand({ objects: store, rotation }: RotationParts, uid: string | undefined, o: TargetOptions): Promise<string> {
  const target = await targetOf(store, uid, o);
  if (!(await rotation.clearPolicy(target))) throw new Error(`${describeTarget(target)} has no policy`);
  return `cleared: ${describeTarget(target)}`;
}

function targetOptions(cmd: Command): Command {
  return cmd
    .argument('[uid]', 'Unique Identifier of one symmetric key')
    .requiredOption('--dir <dir>', 'deployment directory')
    .option('--tenant <tenant>', 'tenant (default "default"); alone: the tenant-wide default policy')
    .option('--group <group>', 'Object Group of the tenant whose keys the policy covers');
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('key rotation policies: per key, per Object Group, per tenant');

  targetOptions(policy.command('set').description('create or change a rotation policy (options not given keep their value)'))
    .option('--interval <duration>', 'rotate when Initial Date + interval is reached: 30d, 12h, 3600s')
    .option('--offset <duration>', 'the new key activates this long after it is created (ReKey Offset)')
    .option('--automatic', 'the server rotates due keys itself (default)')
    .option('--no-automatic', 'due keys are only listed by "kmipd keys due"')
    .option('--grace <duration>', 'the replaced key stays Active this long, then is Deactivated: 7d')
    .action(async (uid: string | undefined, opts: SetOptions & { dir: string }) => {
      const out = await withDeploymentStore(opts.dir, (store) => setPolicyCommand(store, uid, opts));
      process.stdout.write(`${out}\n`);
    });

  targetOptions(policy.command('show').description('print one policy and, for a key, the policy in effect; without a target, every policy'))
    .action(async (uid: string | undefined, opts: TargetOptions & { dir: string }) => {
      const out = await withDeploymentStore(opts.dir, (store) => showPolicyCommand(store, uid, opts));
      process.stdout.write(`${out}\n`);
    });

  targetOptions(policy.command('clear').description('remove a policy'))
    .action(async (uid: string | undefined, opts: TargetOptions & { dir: string }) => {
      const out = await withDeploymentStore(opts.dir, (store) => clearPolicyCommand(store, uid, opts));
      process.stdout.write(`${out}\n`);
    });
}
