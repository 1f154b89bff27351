/**
 * How a rotation policy's target (rotation/types.ts PolicyTarget) is stored: one row key
 * (tenant, uid, grp) where '' marks the parts a tenant-wide or group policy leaves open. Shared by
 * the SQLite and PostgreSQL rotation stores so both read and write the same rows.
 */
import type { PolicyTarget } from '../rotation/types.js';

export function targetKey(t: PolicyTarget): [tenant: string, uid: string, grp: string] {
  switch (t.kind) {
    case 'key':
      return [t.tenant, t.uid, ''];
    case 'group':
      return [t.tenant, '', t.group];
    case 'tenant':
      return [t.tenant, '', ''];
  }
}

export function targetOfRow(r: { tenant: string; uid: string; grp: string }): PolicyTarget {
  if (r.uid !== '') return { kind: 'key', tenant: r.tenant, uid: r.uid };
  if (r.grp !== '') return { kind: 'group', tenant: r.tenant, group: r.grp };
  return { kind: 'tenant', tenant: r.tenant };
}
