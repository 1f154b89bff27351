/**
 * The rules for the attributes kmipd manages, in ONE table: KMIP 1.4 §3 "Attributes" and
 * KMIP 2.1 §4 "Object Attributes", each attribute's "Attribute Rules" table (1.4 Table 54,
 * 2.1 Table 27 explain the columns).
 *
 * Per attribute (KMIP XML name): single or multi-instance; who may set it; the object types it
 * applies to (1.4 and 2.1 differ: 2.1 widened most to "All Objects"); and the KMIP versions that
 * define it, read from the registry's tag dates (never retyped here) except where the attribute
 * is younger than its tag or outlived it (see `versionOverrides`).
 *
 * Client phases, as the ops layer asks them:
 *   atCreation  supplied in the attributes of Create, Create Key Pair, Register, Derive Key, …
 *               (the spec's "Initially set by: Client", plus Cryptographic Algorithm and Length,
 *               which the server sets from the request: 1.4 §4.1 / 2.1 §6.1.8 ask clients for them)
 *   add         Add Attribute on an existing object ("Initially set by" includes Client)
 *   modify      Modify Attribute ("Modifiable by client"), possibly only in some states
 *   delete      Delete Attribute ("Deletable by client")
 * An attribute with none of these is server-only: a client that sends it gets Attribute Read Only.
 *
 * Object Group Member is not here: it is a Locate request field (1.4 §4.9, 2.1 §6.1.27), not an
 * attribute. Custom attributes are named 'x-…' (client) or 'y-…' (server) (1.4 §3.39); KMIP 2.x
 * carries the same names as Vendor Attributes with Vendor Identification "x" / "y" (2.1 §4.60).
 */
import { Enum, definedIn, tagInfo, tagValue, type KmipVersionString, type VersionLike } from './registry.js';

export type ObjectTypeName = keyof typeof Enum.ObjectType;
export type StateName = keyof typeof Enum.State;
export type ClientPhase = 'atCreation' | 'add' | 'modify' | 'delete';

/** 'all', or the object types listed by the rule's "Applies to Object Types" row. */
export type ObjectTypeSet = 'all' | readonly ObjectTypeName[];

export interface AttributeRule {
  /** KMIP XML name (1.4 §3 / 2.1 §4 canonical name, normalised). */
  readonly name: string;
  /** Tag of the attribute value; for custom attributes, Custom Attribute (1.x). */
  readonly tag: number;
  readonly multiInstance: boolean;
  readonly client: Readonly<Record<ClientPhase, boolean>>;
  /** States in which the client may modify it (undefined: any state the object can be modified in). */
  readonly clientModifiableIn?: readonly StateName[];
  /** "Modifiable by server" (without a client request). */
  readonly serverModifiable: boolean;
  readonly appliesTo: { readonly v1: ObjectTypeSet; readonly v2: ObjectTypeSet };
  readonly since: KmipVersionString;
  readonly removed: KmipVersionString | null;
  /** Sections: 1.4 §3.x and 2.1 §4.x (null where the version lacks the attribute). */
  readonly spec: { readonly v1: string | null; readonly v2: string | null };
  /** A limitation the flags cannot express, written for the ops layer. */
  readonly note?: string;
}

// Object type groups, 1.4 §2.2: Managed Cryptographic Objects are the ones holding cryptographic
// material; a PGP Key (§2.2.9) holds a key block and counts among keys.
const KEYS: readonly ObjectTypeName[] = ['SymmetricKey', 'PublicKey', 'PrivateKey', 'SplitKey', 'PGPKey'];
const CRYPTO: readonly ObjectTypeName[] = ['Certificate', ...KEYS, 'SecretData'];
const KEY_MATERIAL: readonly ObjectTypeName[] = ['SymmetricKey', 'PrivateKey', 'SplitKey', 'SecretData'];
const ALL = 'all' as const;

/** Compact row: client phases as letters C(atCreation) A(add) M(modify) D(delete); S = server may modify. */
interface Row {
  client: string;
  server: 'S' | '';
  multi?: true;
  v1: ObjectTypeSet | null;
  v2: ObjectTypeSet | null;
  spec: [v1: string | null, v2: string | null];
  modifyIn?: readonly StateName[];
  note?: string;
}

const rows: Readonly<Record<string, Row>> = {
  UniqueIdentifier: { client: '', server: '', v1: ALL, v2: ALL, spec: ['3.1', '4.58'] },
  Name: { client: 'CAMD', server: 'S', multi: true, v1: ALL, v2: ALL, spec: ['3.2', '4.32'] },
  ObjectType: { client: '', server: '', v1: ALL, v2: ALL, spec: ['3.3', '4.36'] },
  CryptographicAlgorithm: { client: 'C', server: '', v1: [...KEYS, 'Certificate', 'Template'], v2: ALL, spec: ['3.4', '4.13'] },
  CryptographicLength: { client: 'C', server: '', v1: [...KEYS, 'Certificate', 'Template'], v2: ALL, spec: ['3.5', '4.15'] },
  CryptographicParameters: { client: 'CAMD', server: '', multi: true, v1: [...KEYS, 'Certificate', 'Template'], v2: ALL, spec: ['3.6', '4.16'] },
  CryptographicDomainParameters: { client: 'CA', server: '', v1: ['PublicKey', 'PrivateKey', 'Template'], v2: ['PublicKey', 'PrivateKey'], spec: ['3.7', '4.14'] },
  CertificateType: { client: '', server: '', v1: ['Certificate'], v2: ['Certificate'], spec: ['3.8', '4.7'] },
  CertificateLength: { client: '', server: '', v1: ['Certificate'], v2: ['Certificate'], spec: ['3.9', '4.8'] },
  X_509CertificateIdentifier: { client: '', server: '', v1: ['Certificate'], v2: ['Certificate'], spec: ['3.10', '4.61'], note: 'X.509 certificates only' },
  X_509CertificateSubject: { client: '', server: '', v1: ['Certificate'], v2: ['Certificate'], spec: ['3.11', '4.63'], note: 'X.509 certificates only' },
  X_509CertificateIssuer: { client: '', server: '', v1: ['Certificate'], v2: ['Certificate'], spec: ['3.12', '4.62'], note: 'X.509 certificates only' },
  CertificateIdentifier: { client: '', server: '', v1: ['Certificate'], v2: null, spec: ['3.13', null] },
  CertificateSubject: { client: '', server: '', v1: ['Certificate'], v2: null, spec: ['3.14', null] },
  CertificateIssuer: { client: '', server: '', v1: ['Certificate'], v2: null, spec: ['3.15', null] },
  DigitalSignatureAlgorithm: {
    client: '', server: '', multi: true, v1: ['Certificate', 'PGPKey'], v2: ['Certificate', 'PGPKey'], spec: ['3.16', '4.22'],
    note: 'multiple instances for PGP keys only; one for X.509 certificates',
  },
  Digest: { client: '', server: '', multi: true, v1: [...CRYPTO, 'OpaqueObject'], v2: ALL, spec: ['3.17', '4.21'] },
  OperationPolicyName: { client: 'CA', server: 'S', v1: ALL, v2: null, spec: ['3.18', null] },
  CryptographicUsageMask: { client: 'CA', server: 'S', v1: [...CRYPTO, 'Template'], v2: ALL, spec: ['3.19', '4.17'] },
  LeaseTime: { client: '', server: 'S', v1: CRYPTO, v2: ALL, spec: ['3.20', '4.30'] },
  UsageLimits: {
    client: 'CAMD', server: 'S', v1: [...KEYS, 'Template'], v2: ALL, spec: ['3.21', '4.59'],
    note: 'clients set Total and/or Unit only, and modify or delete only until Get Usage Allocation was performed',
  },
  State: { client: '', server: 'S', v1: CRYPTO, v2: ALL, spec: ['3.22', '4.57'], note: 'changed only through lifecycle operations (lifecycle.ts)' },
  InitialDate: { client: '', server: '', v1: ALL, v2: ALL, spec: ['3.23', '4.25'] },
  ActivationDate: { client: 'CAM', server: 'S', modifyIn: ['PreActive'], v1: [...CRYPTO, 'Template'], v2: ALL, spec: ['3.24', '4.1'] },
  ProcessStartDate: {
    client: 'CAM', server: 'S', modifyIn: ['PreActive', 'Active'], v1: ['SymmetricKey', 'SplitKey', 'Template'], v2: ALL, spec: ['3.25', '4.40'],
    note: 'modifiable only until the date is reached; 1.4 limits split keys to those of symmetric keys',
  },
  ProtectStopDate: {
    client: 'CAM', server: 'S', modifyIn: ['PreActive', 'Active'], v1: ['SymmetricKey', 'SplitKey', 'Template'], v2: ALL, spec: ['3.26', '4.41'],
    note: 'modifiable only until the date is reached; 1.4 limits split keys to those of symmetric keys',
  },
  DeactivationDate: { client: 'CAM', server: 'S', modifyIn: ['PreActive', 'Active'], v1: [...CRYPTO, 'Template'], v2: ALL, spec: ['3.27', '4.18'] },
  DestroyDate: { client: '', server: '', v1: [...CRYPTO, 'OpaqueObject'], v2: ALL, spec: ['3.28', '4.20'] },
  CompromiseOccurrenceDate: { client: '', server: '', v1: [...CRYPTO, 'OpaqueObject'], v2: ALL, spec: ['3.29', '4.11'] },
  CompromiseDate: { client: '', server: '', v1: [...CRYPTO, 'OpaqueObject'], v2: ALL, spec: ['3.30', '4.10'] },
  RevocationReason: { client: '', server: 'S', v1: [...CRYPTO, 'OpaqueObject'], v2: ALL, spec: ['3.31', '4.47'] },
  ArchiveDate: { client: '', server: '', v1: ALL, v2: ALL, spec: ['3.32', '4.5'] },
  ObjectGroup: { client: 'CAMD', server: 'S', multi: true, v1: ALL, v2: ALL, spec: ['3.33', '4.35'] },
  Fresh: { client: 'CA', server: 'S', v1: CRYPTO, v2: ALL, spec: ['3.34', '4.24'] },
  Link: { client: 'CAMD', server: 'S', multi: true, v1: CRYPTO, v2: ALL, spec: ['3.35', '4.31'] },
  ApplicationSpecificInformation: {
    client: 'CAMD', server: 'S', multi: true, v1: ALL, v2: ALL, spec: ['3.36', '4.4'],
    note: 'the server fills Application Data only when the client omitted it for a namespace it supports',
  },
  ContactInformation: { client: 'CAMD', server: 'S', v1: ALL, v2: ALL, spec: ['3.37', '4.12'] },
  LastChangeDate: { client: '', server: 'S', v1: ALL, v2: ALL, spec: ['3.38', '4.29'] },
  CustomAttribute: {
    client: 'CAMD', server: 'S', multi: true, v1: ALL, v2: ALL, spec: ['3.39', '4.60'],
    note: "client-created names start with 'x-'; 'y-' names belong to the server",
  },
  AlternativeName: { client: 'CAMD', server: 'S', multi: true, v1: ALL, v2: ALL, spec: ['3.40', '4.2'], note: 'the server may set it only while no value is present' },
  KeyValuePresent: { client: '', server: '', v1: KEY_MATERIAL, v2: ALL, spec: ['3.41', '4.28'] },
  KeyValueLocation: { client: 'CAMD', server: '', multi: true, v1: KEY_MATERIAL, v2: ALL, spec: ['3.42', '4.27'] },
  OriginalCreationDate: { client: 'C', server: '', v1: ALL, v2: ALL, spec: ['3.43', '4.38'], note: 'set by the client only when registering an object it generated' },
  RandomNumberGenerator: { client: 'C', server: '', v1: CRYPTO, v2: ALL, spec: ['3.44', '4.46'], note: 'set by the client only when registering an object it generated' },
  PKCS_12FriendlyName: { client: 'CAMD', server: '', v1: CRYPTO, v2: ALL, spec: ['3.45', '4.39'] },
  Description: { client: 'CAMD', server: 'S', v1: ALL, v2: ALL, spec: ['3.46', '4.19'] },
  Comment: { client: 'CAMD', server: 'S', v1: ALL, v2: ALL, spec: ['3.47', '4.9'] },
  Sensitive: { client: 'CAM', server: 'S', v1: ALL, v2: ALL, spec: ['3.48', '4.55'] },
  AlwaysSensitive: { client: '', server: 'S', v1: ALL, v2: ALL, spec: ['3.49', '4.3'] },
  Extractable: { client: 'CAM', server: 'S', v1: ALL, v2: ALL, spec: ['3.50', '4.23'] },
  NeverExtractable: { client: '', server: 'S', v1: ALL, v2: ALL, spec: ['3.51', '4.33'] },
  ShortUniqueIdentifier: { client: '', server: '', v1: null, v2: ALL, spec: [null, '4.56'] },
  KeyFormatType: { client: '', server: '', v1: null, v2: ALL, spec: [null, '4.26'] },
  NISTKeyType: { client: 'CA', server: '', multi: true, v1: null, v2: ALL, spec: [null, '4.34'] },
  QuantumSafe: { client: 'CAMD', server: '', v1: null, v2: ALL, spec: [null, '4.45'] },
  RotateInterval: { client: 'CA', server: 'S', v1: null, v2: ALL, spec: [null, '4.51'] },
  RotateAutomatic: { client: 'CA', server: 'S', v1: null, v2: ALL, spec: [null, '4.48'] },
  RotateOffset: { client: 'CA', server: 'S', v1: null, v2: ALL, spec: [null, '4.54'] },
  RotateDate: { client: '', server: '', v1: null, v2: ALL, spec: [null, '4.49'] },
  RotateName: { client: 'CAMD', server: '', v1: null, v2: ALL, spec: [null, '4.53'] },
  RotateGeneration: { client: '', server: '', v1: null, v2: ALL, spec: [null, '4.50'] },
  RotateLatest: { client: '', server: 'S', v1: null, v2: ALL, spec: [null, '4.52'] },
};

/**
 * Where the attribute's versions differ from its tag's (registry since/removed):
 * Key Format Type is a tag since 1.0 (Key Block field) but an attribute only from 2.0 (2.1 §4.26;
 * absent from 1.4 §3). The Custom Attribute tag is gone in 2.0, but x-/y- attributes live on as
 * Vendor Attributes (2.1 §4.60).
 */
const versionOverrides: Readonly<Record<string, { since?: KmipVersionString; removed?: KmipVersionString | null }>> = {
  KeyFormatType: { since: '2.0' },
  CustomAttribute: { removed: null },
};

function buildRule(name: string, row: Row): AttributeRule {
  const tag = tagValue(name);
  const info = tag === undefined ? undefined : tagInfo(tag);
  if (tag === undefined || info === undefined) throw new Error(`attribute ${name} has no tag in the registry`);
  const o = versionOverrides[name] ?? {};
  const has = (c: string) => row.client.includes(c);
  return Object.freeze({
    name,
    tag,
    multiInstance: row.multi === true,
    client: Object.freeze({ atCreation: has('C'), add: has('A'), modify: has('M'), delete: has('D') }),
    ...(row.modifyIn ? { clientModifiableIn: row.modifyIn } : {}),
    serverModifiable: row.server === 'S',
    appliesTo: Object.freeze({ v1: row.v1 ?? [], v2: row.v2 ?? [] }),
    since: o.since ?? info.since,
    removed: o.removed !== undefined ? o.removed : info.removed,
    spec: Object.freeze({ v1: row.spec[0], v2: row.spec[1] }),
    ...(row.note ? { note: row.note } : {}),
  });
}

const rules: ReadonlyMap<string, AttributeRule> = new Map(Object.entries(rows).map(([n, r]) => [n, buildRule(n, r)]));

/** Server-created custom attributes: same shape as client ones, but no client may touch them (1.4 §3.39). */
const serverCustomRule: AttributeRule = (() => {
  const base = rules.get('CustomAttribute') as AttributeRule;
  return Object.freeze({
    ...base,
    client: Object.freeze({ atCreation: false, add: false, modify: false, delete: false }),
    note: "'y-' names are created by the server only",
  });
})();

/** True for custom attribute names: 'x-…' (client) or 'y-…' (server). */
export function isCustomName(name: string): boolean {
  return name.length > 2 && (name.startsWith('x-') || name.startsWith('y-'));
}

/** The rule for an attribute name (XML name, or an 'x-'/'y-' custom name); undefined if kmipd does not manage it. */
export function attributeRule(name: string): AttributeRule | undefined {
  if (isCustomName(name)) return name.startsWith('y-') ? serverCustomRule : rules.get('CustomAttribute');
  return rules.get(name);
}

/** Every managed attribute rule, table order. */
export function allAttributeRules(): readonly AttributeRule[] {
  return [...rules.values()];
}

export function isClientSettable(name: string, phase: ClientPhase): boolean {
  return attributeRule(name)?.client[phase] ?? false;
}

export function isMultiInstance(name: string): boolean {
  return attributeRule(name)?.multiInstance ?? false;
}

/** True when `version` defines the attribute (registry since ≤ version < removed, with the overrides above). */
export function definedInVersion(name: string, version: VersionLike): boolean {
  const rule = attributeRule(name);
  return rule !== undefined && definedIn(rule, version);
}

/** Whether the attribute applies to an object type (Enum.ObjectType value) in the given version. */
export function appliesToObjectType(name: string, objectType: number, version: VersionLike): boolean {
  const rule = attributeRule(name);
  if (rule === undefined || !definedIn(rule, version)) return false;
  const major = typeof version === 'string' ? Number(version.split('.')[0]) : version.major;
  const set = major >= 2 ? rule.appliesTo.v2 : rule.appliesTo.v1;
  if (set === 'all') return true;
  return set.some((t) => Enum.ObjectType[t] === objectType);
}

/** Whether a client may modify the attribute of an object in `state` (Enum.State value). */
export function isClientModifiableIn(name: string, state: number): boolean {
  const rule = attributeRule(name);
  if (rule === undefined || !rule.client.modify) return false;
  return rule.clientModifiableIn === undefined || rule.clientModifiableIn.some((s) => Enum.State[s] === state);
}
