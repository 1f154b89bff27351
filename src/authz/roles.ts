/**
 * The role table (K7): role → the KMIP operations it may perform (KMIP 1.4 §9.1.3.2.27 / 2.1
 * §11.28 Operation enumeration), and whether it is confined to its tenant. THE one place that
 * decides what a role may do; README's roles table is written from it.
 *
 * Reader never receives key material: Get (with or without Key Wrapping Specification), Export,
 * Encrypt/Decrypt, MAC, Sign and RNG Retrieve are all outside it. No attribute this server
 * returns carries key material (Digest is a one-way hash of it), so Get Attributes stays in.
 * Operations not named for a role are denied; Admin alone gets everything, unknown values included.
 */
import { Enum } from '../kmip/registry.js';

export const ROLE_NAMES = ['Reader', 'Writer', 'Manager', 'Admin'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

type OperationName = keyof typeof Enum.Operation;

const READER: readonly OperationName[] = ['Locate', 'GetAttributes', 'GetAttributeList', 'Check', 'Query', 'DiscoverVersions'];

const WRITER: readonly OperationName[] = [
  ...READER,
  'Create',
  'CreateKeyPair',
  'Register',
  'Get',
  'Activate',
  'ReKey',
  'ReKeyKeyPair',
  'DeriveKey',
  'Encrypt',
  'Decrypt',
  'Sign',
  'SignatureVerify',
  'MAC',
  'MACVerify',
  'RNGRetrieve',
  'Hash',
  'Validate',
  'AddAttribute',
  'ModifyAttribute',
  // Set Attribute (2.x) is add-or-modify of a single-valued attribute; Adjust is a modification.
  'SetAttribute',
  'AdjustAttribute',
];

const MANAGER: readonly OperationName[] = [
  ...WRITER,
  'Revoke',
  'Destroy',
  'DeleteAttribute',
  'Archive',
  'Recover',
  'Certify',
  'ReCertify',
  'Import',
  'Export',
  'CreateSplitKey',
  'JoinSplitKey',
  'RNGSeed',
  'ObtainLease',
  'GetUsageAllocation',
];

export interface RoleDefinition {
  name: RoleName;
  /** true: every tenant (identity scope null); false: its own tenant only. */
  allTenants: boolean;
  /** Allowed Operation values; undefined: every operation. */
  operations: ReadonlySet<number> | undefined;
}

const values = (names: readonly OperationName[]): ReadonlySet<number> => new Set(names.map((n) => Enum.Operation[n]));

export const ROLES: Readonly<Record<RoleName, RoleDefinition>> = {
  Reader: { name: 'Reader', allTenants: false, operations: values(READER) },
  Writer: { name: 'Writer', allTenants: false, operations: values(WRITER) },
  Manager: { name: 'Manager', allTenants: false, operations: values(MANAGER) },
  Admin: { name: 'Admin', allTenants: true, operations: undefined },
};

/** Accepts any capitalisation (`reader`, `READER`). */
export function parseRole(name: string): RoleName | undefined {
  return ROLE_NAMES.find((r) => r.toLowerCase() === name.trim().toLowerCase());
}

export function roleAllows(role: RoleName, operation: number): boolean {
  const ops = ROLES[role].operations;
  return ops === undefined || ops.has(operation);
}

/** Operation names a role may use, for `kmipd role list` and the README. */
export function operationsOf(role: RoleName): string[] {
  const ops = ROLES[role].operations;
  const names = Object.keys(Enum.Operation) as OperationName[];
  return ops === undefined ? ['(all)'] : names.filter((n) => ops.has(Enum.Operation[n]));
}
