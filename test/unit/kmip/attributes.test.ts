// The attribute rules table against the spec text: each rule's "Attribute Rules" table is read from
// the KMIP 1.4 §3 and 2.1 §4 text in ../shared/kmip-spec/text (independently of the table under
// test) and compared, plus hand-written spot checks of facts quoted from the spec.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  allAttributeRules,
  appliesToObjectType,
  attributeRule,
  definedInVersion,
  isClientModifiableIn,
  isClientSettable,
  isMultiInstance,
  type AttributeRule,
} from '../../../src/kmip/attributes.js';
import { Enum, Tag } from '../../../src/kmip/registry.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const specDir = process.env.KMIP_SPEC_TEXT_DIR ?? path.resolve(repoRoot, '../shared/kmip-spec/text');
const haveSpec = existsSync(specDir);
if (!haveSpec && process.env.CI === 'true') throw new Error(`KMIP spec text not found at ${specDir}; CI must not skip`);

interface SpecRules {
  initiallySetBy: string;
  modifiableByClient: string;
  deletableByClient: string;
  multipleInstances: string;
  modifiableByServer: string;
}

/** The rules table of section `sec` ("3.2", "4.32"), read from the box-drawing text; undefined if it has none. */
function specRules(file: string, sec: string): SpecRules | undefined {
  const lines = readFileSync(path.join(specDir, file), 'utf8').split('\n');
  // Body headings are "3.2 Name"; table-of-contents lines end in a page number.
  const heading = new RegExp(`^${sec.replace('.', '\\.')} \\S.*[^\\d. ]\\s*$`);
  const start = lines.findIndex((l) => heading.test(l));
  if (start < 0) throw new Error(`section ${sec} not found in ${file}`);
  const end = lines.findIndex((l, i) => i > start && /^\d+\.\d+ \S/.test(l));
  const body = lines.slice(start, end < 0 ? undefined : end);
  const rows = new Map<string, string>();
  let key: string[] = [];
  let val: string[] = [];
  let inTable = false;
  const flush = () => {
    if (key.length > 0) rows.set(key.join(' '), val.join(' ').trim());
    key = [];
    val = [];
  };
  for (const l of body) {
    if (l.includes('┌')) {
      inTable = true;
      rows.clear();
      continue;
    }
    if (!inTable) continue;
    if (l.includes('├') || l.includes('└')) {
      flush();
      if (l.includes('└')) {
        inTable = false;
        if (rows.has('Initially set by')) break;
      }
      continue;
    }
    const cells = l.split('│').slice(1, -1).map((c) => c.trim());
    if (cells[0]) key.push(cells[0]);
    if (cells[1]) val.push(cells[1]);
  }
  if (!rows.has('Initially set by')) return undefined;
  const get = (k: string) => rows.get(k) ?? '';
  return {
    initiallySetBy: get('Initially set by'),
    modifiableByClient: get('Modifiable by client'),
    deletableByClient: get('Deletable by client'),
    multipleInstances: get('Multiple instances permitted'),
    modifiableByServer: get('Modifiable by server'),
  };
}

const yes = (s: string) => /^Yes\b/.test(s);

function checkAgainstSpec(rule: AttributeRule, spec: SpecRules): void {
  const clientInitial = /Client/.test(spec.initiallySetBy);
  expect(rule.client.modify, `${rule.name} modifiable by client: "${spec.modifiableByClient}"`).toBe(yes(spec.modifiableByClient));
  expect(rule.client.delete, `${rule.name} deletable by client: "${spec.deletableByClient}"`).toBe(yes(spec.deletableByClient));
  expect(rule.serverModifiable, `${rule.name} modifiable by server: "${spec.modifiableByServer}"`).toBe(yes(spec.modifiableByServer));
  // "Yes for PGP keys. No for X.509 certificates." counts as multi-instance.
  expect(rule.multiInstance, `${rule.name} multiple instances: "${spec.multipleInstances}"`).toBe(/^Yes/.test(spec.multipleInstances));
  // A client that may initially set it may do so when creating the object.
  if (clientInitial) expect(rule.client.atCreation, `${rule.name} initially set by "${spec.initiallySetBy}"`).toBe(true);
  // Adding later is an initial setting by the client.
  if (rule.client.add) expect(clientInitial, `${rule.name} add without client "Initially set by"`).toBe(true);
}

describe.skipIf(!haveSpec)('every rule agrees with the spec text', () => {
  const rules = allAttributeRules();
  it.each(rules.filter((r) => r.spec.v1 !== null).map((r) => [r.name, r] as const))('1.4 §3: %s', (_n, rule) => {
    const spec = specRules('kmip-spec-v1.4-os.txt', rule.spec.v1 as string);
    expect(spec, `no rules table in 1.4 §${rule.spec.v1}`).toBeDefined();
    checkAgainstSpec(rule, spec as SpecRules);
  });
  it.each(rules.filter((r) => r.spec.v2 !== null && r.name !== 'CustomAttribute').map((r) => [r.name, r] as const))(
    '2.1 §4: %s',
    (_n, rule) => {
      const spec = specRules('kmip-spec-v2.1-os.txt', rule.spec.v2 as string);
      expect(spec, `no rules table in 2.1 §${rule.spec.v2}`).toBeDefined();
      checkAgainstSpec(rule, spec as SpecRules);
    },
  );
  it('the section parser reads a known table (1.4 §3.2 Name, Table 58)', () => {
    expect(specRules('kmip-spec-v1.4-os.txt', '3.2')).toEqual({
      initiallySetBy: 'Client',
      modifiableByClient: 'Yes',
      deletableByClient: 'Yes',
      multipleInstances: 'Yes',
      modifiableByServer: 'Yes',
    });
  });
});

describe('spot checks quoted from the spec', () => {
  it('covers every attribute the brief names', () => {
    const names = [
      'UniqueIdentifier', 'Name', 'ObjectType', 'CryptographicAlgorithm', 'CryptographicLength', 'CryptographicParameters',
      'CryptographicDomainParameters', 'CertificateType', 'CertificateLength', 'CertificateIdentifier', 'CertificateSubject',
      'CertificateIssuer', 'DigitalSignatureAlgorithm', 'Digest', 'OperationPolicyName', 'CryptographicUsageMask', 'LeaseTime',
      'UsageLimits', 'State', 'InitialDate', 'ActivationDate', 'ProcessStartDate', 'ProtectStopDate', 'DeactivationDate',
      'DestroyDate', 'CompromiseOccurrenceDate', 'CompromiseDate', 'RevocationReason', 'ArchiveDate', 'ObjectGroup', 'Fresh',
      'Link', 'ApplicationSpecificInformation', 'ContactInformation', 'LastChangeDate', 'CustomAttribute', 'AlternativeName',
      'KeyValuePresent', 'KeyValueLocation', 'OriginalCreationDate', 'RandomNumberGenerator', 'PKCS_12FriendlyName',
      'Description', 'Comment', 'Sensitive', 'AlwaysSensitive', 'Extractable', 'NeverExtractable', 'ShortUniqueIdentifier',
      'KeyFormatType', 'NISTKeyType', 'RotateInterval', 'RotateAutomatic', 'RotateOffset', 'RotateDate', 'RotateName',
      'RotateGeneration', 'RotateLatest',
    ];
    for (const n of names) expect(attributeRule(n), n).toBeDefined();
    // "Object Group Member" is a Locate request field (1.4 §4.9), not an attribute.
    expect(attributeRule('ObjectGroupMember')).toBeUndefined();
  });

  it('Unique Identifier: "assigned by the key management system … SHALL NOT be changed or deleted" (1.4 §3.1)', () => {
    for (const phase of ['atCreation', 'add', 'modify', 'delete'] as const) expect(isClientSettable('UniqueIdentifier', phase)).toBe(false);
    expect(isMultiInstance('UniqueIdentifier')).toBe(false);
    expect(attributeRule('UniqueIdentifier')?.tag).toBe(Tag.UniqueIdentifier);
  });

  it('Name: client-assigned, multi-instance, modifiable and deletable (1.4 §3.2 Table 58)', () => {
    expect(isMultiInstance('Name')).toBe(true);
    for (const phase of ['atCreation', 'add', 'modify', 'delete'] as const) expect(isClientSettable('Name', phase)).toBe(true);
  });

  it('Cryptographic Algorithm and Length come with the Create request but never change afterwards', () => {
    for (const n of ['CryptographicAlgorithm', 'CryptographicLength']) {
      expect(isClientSettable(n, 'atCreation')).toBe(true);
      expect(isClientSettable(n, 'add')).toBe(false);
      expect(isClientSettable(n, 'modify')).toBe(false);
      expect(isClientSettable(n, 'delete')).toBe(false);
    }
  });

  it('State: "SHALL NOT be changed by using the Modify Attribute operation" (1.4 §3.22)', () => {
    expect(isClientSettable('State', 'modify')).toBe(false);
    expect(isClientSettable('State', 'atCreation')).toBe(false);
  });

  it('Activation Date: modifiable only while Pre-Active; Deactivation Date while Pre-Active or Active', () => {
    expect(isClientModifiableIn('ActivationDate', Enum.State.PreActive)).toBe(true);
    expect(isClientModifiableIn('ActivationDate', Enum.State.Active)).toBe(false);
    expect(isClientModifiableIn('DeactivationDate', Enum.State.Active)).toBe(true);
    expect(isClientModifiableIn('DeactivationDate', Enum.State.Deactivated)).toBe(false);
    expect(isClientModifiableIn('Name', Enum.State.Destroyed)).toBe(true);
    expect(isClientModifiableIn('InitialDate', Enum.State.PreActive)).toBe(false);
  });

  it("custom attributes: 'x-' for clients; the server SHALL NOT accept client 'y-' attributes (1.4 §3.39)", () => {
    expect(isClientSettable('x-owner', 'atCreation')).toBe(true);
    expect(isClientSettable('x-owner', 'delete')).toBe(true);
    expect(isMultiInstance('x-owner')).toBe(true);
    for (const phase of ['atCreation', 'add', 'modify', 'delete'] as const) expect(isClientSettable('y-owner', phase)).toBe(false);
    expect(attributeRule('x-')).toBeUndefined();
    expect(attributeRule('Bogus')).toBeUndefined();
    expect(isClientSettable('Bogus', 'atCreation')).toBe(false);
  });

  it('versions come from the registry: since / removed', () => {
    expect(definedInVersion('Name', '1.0')).toBe(true);
    expect(definedInVersion('Name', '2.1')).toBe(true);
    // Operation Policy Name: deprecated 1.3, gone from 2.0.
    expect(definedInVersion('OperationPolicyName', '1.4')).toBe(true);
    expect(definedInVersion('OperationPolicyName', '2.0')).toBe(false);
    // Certificate Identifier / Subject / Issuer: replaced by the X.509 attributes, gone from 2.0.
    expect(definedInVersion('CertificateIdentifier', '2.0')).toBe(false);
    expect(definedInVersion('X_509CertificateIdentifier', '1.0')).toBe(false);
    expect(definedInVersion('X_509CertificateIdentifier', '1.1')).toBe(true);
    expect(definedInVersion('PKCS_12FriendlyName', '1.3')).toBe(false);
    expect(definedInVersion('PKCS_12FriendlyName', '1.4')).toBe(true);
    expect(definedInVersion('RotateName', '2.0')).toBe(false);
    expect(definedInVersion('RotateName', '2.1')).toBe(true);
    expect(definedInVersion('ShortUniqueIdentifier', '1.4')).toBe(false);
  });

  it('version exceptions: Key Format Type is an attribute from 2.0 only; custom attributes outlive their 1.x tag', () => {
    expect(definedInVersion('KeyFormatType', '1.4')).toBe(false);
    expect(definedInVersion('KeyFormatType', '2.0')).toBe(true);
    expect(definedInVersion('x-owner', '1.0')).toBe(true);
    expect(definedInVersion('x-owner', '2.1')).toBe(true);
  });

  it('applies-to differs between 1.4 and 2.1', () => {
    // 1.4 §3.4: "Keys, Certificates, Templates"; 2.1 §4.13: "All Objects".
    expect(appliesToObjectType('CryptographicAlgorithm', Enum.ObjectType.SecretData, '1.4')).toBe(false);
    expect(appliesToObjectType('CryptographicAlgorithm', Enum.ObjectType.SymmetricKey, '1.4')).toBe(true);
    expect(appliesToObjectType('CryptographicAlgorithm', Enum.ObjectType.SecretData, '2.1')).toBe(true);
    // Certificate Type applies to Certificates in both.
    expect(appliesToObjectType('CertificateType', Enum.ObjectType.SymmetricKey, '2.1')).toBe(false);
    expect(appliesToObjectType('CertificateType', Enum.ObjectType.Certificate, '1.4')).toBe(true);
    // Not defined in the version: applies to nothing.
    expect(appliesToObjectType('RotateName', Enum.ObjectType.SymmetricKey, '1.4')).toBe(false);
  });
});
