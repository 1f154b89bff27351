/**
 * Which rotation policy governs a key (K8), and durations as operators write them.
 *
 * Most specific first:
 *   1. a policy set on the key itself (kmipd policy set UID);
 *   2. the key's own KMIP 2.1 attributes: Rotate Automatic = True with a Rotate Interval
 *      (§4.48, §4.51), Rotate Offset (§4.54) as the ReKey Offset; a 2.x client sets these with
 *      Create, Register, Add Attribute or Set Attribute;
 *   3. a policy for one of the key's Object Groups in its tenant (first group name in order);
 *   4. the tenant's default policy.
 * Grace (how long the replaced key stays Active) is not a KMIP attribute: an attribute-driven
 * policy takes it from the group or tenant policy when there is one.
 *
 * Due time (§4.51): "when the difference between the Initial Date of the Managed Object and the
 * current server time reaches or exceeds" the interval. Initial Date is stored with the key and
 * the replacement gets a new one, so the schedule is derived from stored data and survives restarts.
 */
import { Tag } from '../kmip/registry.js';
import type { StoredAttribute, StoredObject } from '../store/types.js';
import type { PolicyTarget, RotationPolicy } from './types.js';

export interface EffectivePolicy {
  intervalSeconds: number;
  offsetSeconds: number | null;
  automatic: boolean;
  graceSeconds: number | null;
  /** 'key', 'attributes', 'group', 'tenant'. */
  source: 'key' | 'attributes' | 'group' | 'tenant';
  /** Human text for the audit trail and keys due. */
  description: string;
}

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** '30d', '12h', '15m', '3600s', '2w' or a plain number of seconds → seconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+)\s*([smhdw]?)\s*$/i.exec(text);
  if (m === null) throw new Error(`"${text}" is not a duration: use a number with s, m, h, d or w (30d, 3600s)`);
  const seconds = Number(m[1]) * (UNITS[(m[2] || 's').toLowerCase()] ?? 1);
  if (!Number.isSafeInteger(seconds) || seconds > 0xffffffff) throw new Error(`"${text}" is too long a duration`);
  return seconds;
}

/** Seconds → the largest whole unit ('30d', '90s'). */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

export function describeTarget(t: PolicyTarget): string {
  switch (t.kind) {
    case 'key':
      return `key ${t.uid} (tenant ${t.tenant})`;
    case 'group':
      return `group ${t.group} of tenant ${t.tenant}`;
    case 'tenant':
      return `tenant ${t.tenant}`;
  }
}

export function describePolicy(p: Pick<RotationPolicy, 'intervalSeconds' | 'offsetSeconds' | 'automatic' | 'graceSeconds'>): string {
  const parts = [`every ${formatDuration(p.intervalSeconds)}`];
  if (p.offsetSeconds !== null) parts.push(`offset ${formatDuration(p.offsetSeconds)}`);
  parts.push(p.automatic ? 'automatic' : 'manual');
  parts.push(p.graceSeconds === null ? 'no grace' : `grace ${formatDuration(p.graceSeconds)}`);
  return parts.join(', ');
}

function single(attrs: readonly StoredAttribute[], name: string): StoredAttribute['value'] | undefined {
  return attrs.find((a) => a.name === name)?.value;
}

/** The Object Group names of a key (KMIP 1.4 §3.33 / 2.1 §4.35, Text String). */
export function groupsOf(obj: Pick<StoredObject, 'attributes'>): string[] {
  return obj.attributes
    .filter((a) => a.name === 'ObjectGroup' && a.value.type === 'TextString')
    .map((a) => a.value.value as string)
    .sort();
}

/** Policies of one tenant indexed for lookup. */
export interface TenantPolicies {
  byKey: ReadonlyMap<string, RotationPolicy>;
  byGroup: ReadonlyMap<string, RotationPolicy>;
  tenant: RotationPolicy | undefined;
}

export function indexPolicies(policies: readonly RotationPolicy[]): Map<string, TenantPolicies> {
  const out = new Map<string, { byKey: Map<string, RotationPolicy>; byGroup: Map<string, RotationPolicy>; tenant: RotationPolicy | undefined }>();
  for (const p of policies) {
    let t = out.get(p.target.tenant);
    if (t === undefined) {
      t = { byKey: new Map(), byGroup: new Map(), tenant: undefined };
      out.set(p.target.tenant, t);
    }
    if (p.target.kind === 'key') t.byKey.set(p.target.uid, p);
    else if (p.target.kind === 'group') t.byGroup.set(p.target.group, p);
    else t.tenant = p;
  }
  return out;
}

function fromStored(p: RotationPolicy, source: EffectivePolicy['source']): EffectivePolicy {
  return {
    intervalSeconds: p.intervalSeconds,
    offsetSeconds: p.offsetSeconds,
    automatic: p.automatic,
    graceSeconds: p.graceSeconds,
    source,
    description: `${describeTarget(p.target)}: ${describePolicy(p)}`,
  };
}

/** The policy that governs `obj`, or undefined when none does (see the module comment for the order). */
export function effectivePolicy(obj: Pick<StoredObject, 'uid' | 'attributes'>, policies: TenantPolicies | undefined): EffectivePolicy | undefined {
  const own = policies?.byKey.get(obj.uid);
  if (own !== undefined) return fromStored(own, 'key');
  const groupPolicy = groupsOf(obj)
    .map((g) => policies?.byGroup.get(g))
    .find((p) => p !== undefined);
  const fallback = groupPolicy ?? policies?.tenant;

  const automatic = single(obj.attributes, 'RotateAutomatic');
  const interval = single(obj.attributes, 'RotateInterval');
  if (automatic?.type === 'Boolean' && automatic.value && interval?.type === 'Interval' && interval.value > 0) {
    const offset = single(obj.attributes, 'RotateOffset');
    const p = {
      intervalSeconds: interval.value,
      offsetSeconds: offset?.type === 'Interval' ? offset.value : null,
      automatic: true,
      graceSeconds: fallback?.graceSeconds ?? null,
    };
    return { ...p, source: 'attributes', description: `Rotate attributes of key ${obj.uid}: ${describePolicy(p)}` };
  }
  if (groupPolicy !== undefined) return fromStored(groupPolicy, 'group');
  if (policies?.tenant !== undefined) return fromStored(policies.tenant, 'tenant');
  return undefined;
}

/** Tag of the Rotate Automatic value, for Locate filters (KMIP 2.1 §4.48). */
export const ROTATE_AUTOMATIC_TAG = Tag.RotateAutomatic;
